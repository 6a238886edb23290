"""The bad-input suite: every file, folder, label table and model folder a user can get wrong, each through the path a user takes.

One list, `CASES`, one parametrised test: every case is its own test id (`test_bad_input[<case>]`).
The paths exercised are the user's: `aaacov.dataloaders.load_photo`, the `aaacov predict` command line (a real
`.venv/bin/aaacov` subprocess for the shared folder run, `aaacov.cli.main([...])` in-process elsewhere),
`aaacov.data.read_aadb_labels` / `match_images` / `validate_labels`, `aaacov train` via `aaacov.cli.main`,
and `aaacov.learner.load_model`.

What the suite guarantees, for every case:

1. An unusable image (corrupt, truncated JPEG or PNG, zero bytes, text named .jpg, a decompression-bomb size, a
   symlink loop or dangling symlink named .jpg, no read permission, a folder, a FIFO, socket or device — refused in
   bounded time, never opened —, a HEIC photo without a decoder — the message says what to install) raises
   `ImageLoadError` from `load_photo` whose message names the file; in an `aaacov predict` folder (or named
   directly) it gets exactly one row `skipped: <reason>` with empty value columns, and the run goes on.
2. An awkward but valid image (CMYK, 16-bit grey, 48-bit RGB, RGBA, palette with and without transparency, grey,
   grey + alpha, 1-bit, float TIFF, EXIF-rotated, corrupt EXIF, animated GIF, WebP, JPEG named .jfif/.jpe, AVIF where
   Pillow decodes it, 1x1, a 1 x 4000 strip, a PNG named .jpg, unicode / spaces / commas / quotes in the name) loads as 8-bit RGB with the right pixel values and
   orientation (checked pixel by pixel, not just "no crash"), and gets exactly one `ok` row with finite values.
3. `aaacov predict` writes one row per input file, never two, never none: bad files among good ones, a missing
   path argument, symlink loops in the folder, folders named like images, names that are not UTF-8, a resumed CSV.
4. A bad label file (NaN, inf, out of range, not a number, decimal commas, wrong header, semicolons, UTF-16, an
   extra field, duplicate rows, a column given twice, a comment line, empty, header only, a missing or mismatched
   per-attribute file) raises `AADBLabelError` (a `ValueError`) naming the file and, where there is one, the line —
   the file's own line, also after blank lines, a BOM, CRLF or a quoted line break; a labels DataFrame names the
   row. Labelled images that are missing are reported by name (warning + dropped, or raised on request); the
   validation/test leak is dropped from validation with a warning, in the data layer and through `aaacov train`.
5. A bad model folder (truncated, garbage, empty or non-finite `model.safetensors`, a `config.json` from another
   arch / m, a config lacking a key, a missing folder) is refused: `load_model` raises `ModelFileError` naming the
   file or folder, and `aaacov predict` exits 2 with one line on stderr naming it, before writing any CSV.
6. `aaacov synth` replaces only a dataset its generator wrote (judged by the manifest's content and the folder's
   entries): a web app's folder, a dataset holding a user's file, a file, a `manifest.json` that is not a JSON
   object are refused with one line and left unchanged. The generator draws no progress bar into a log.
7. Expected failures of the command line (`predict`, `train`, `synth`) exit with code 2 and one line
   `aaacov <command>: error: ...` naming the file; a traceback is always a failure. (Argument errors are argparse's:
   usage line + one error line, exit 2.)

A batch with a non-finite loss stops `aaacov train` with exit 2 naming the epoch, batch and files, before any weight
changes; a damaged checkpoint is named with what to do. Resuming a checkpoint exactly is tested in tests/test_cli.py.
"""
import csv, json, os, re, select, shutil, signal, struct, subprocess, sys, tempfile, time, traceback, zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Optional
import numpy as np, pandas as pd, pytest
from PIL import Image, features
from aaacov import cli
from aaacov.cli import default_model_dir
from aaacov.data import TARGETS, AADBLabelError, read_aadb_labels, match_images, validate_labels
from aaacov.dataloaders import load_photo, ImageLoadError
from aaacov.learner import load_model, ModelFileError, create_model
from conftest import make_labels, write_csv_form, write_txt_form, write_images, bounded

BIN = Path(sys.executable).parent
HEADER = ['file', 'status'] + TARGETS + [f'sigma_{t}' for t in TARGETS]

# --- helpers ----------------------------------------------------------------------------------------------------

def _close(a, b, tol=3): return all(abs(int(x) - int(y)) <= tol for x, y in zip(a, b))

def _px(im, xy): return im.getpixel(xy)

def _chunk(kind:bytes, data:bytes) -> bytes:
    return struct.pack('>I', len(data)) + kind + data + struct.pack('>I', zlib.crc32(kind + data) & 0xffffffff)

def _png_bytes(w, h, depth, colour_type, raw:bytes) -> bytes:
    "A PNG written by hand (for what Pillow will not write: 48-bit RGB, a huge declared size)."
    ihdr = struct.pack('>IIBBBBB', w, h, depth, colour_type, 0, 0, 0)
    return b'\x89PNG\r\n\x1a\n' + _chunk(b'IHDR', ihdr) + _chunk(b'IDAT', zlib.compress(raw)) + _chunk(b'IEND', b'')

def _noise_image(size=(64, 48), seed=0):
    return Image.fromarray(np.random.default_rng(seed).integers(0, 255, (size[1], size[0], 3), dtype=np.uint8))

def read_rows(path) -> list:
    "The predict CSV as a list of dicts (csv module: no pandas type guessing)."
    with open(path, newline='', encoding='utf-8') as f: return list(csv.DictReader(f))

def run_cli(args, capsys):
    "`aaacov.cli.main(args)` in-process -> (exit code, stdout, stderr); an escaping exception fails the test with its traceback."
    capsys.readouterr()
    try: rc = cli.main([str(a) for a in args])
    except SystemExit as e: rc = e.code
    except Exception as e:
        out, err = capsys.readouterr()
        tb = ''.join(traceback.format_exception(e)[-8:])
        pytest.fail(f"`aaacov {args[0]}` crashed with a traceback instead of exiting 2 with one line:\n{tb}\nstderr: {err[-500:]}",
                    pytrace=False)
    out, err = capsys.readouterr()
    return rc, out, err

def assert_cli_error(rc, err, command, *names):
    "Exit code 2 and exactly one stderr line `aaacov <command>: error: ...` naming each of `names`."
    lines = [l for l in err.splitlines() if l.strip()]
    assert rc == 2, f"exit code {rc}, expected 2; stderr: {err[-800:]}"
    assert 'Traceback' not in err, err
    assert len(lines) == 1 and lines[0].startswith(f'aaacov {command}: error: '), f"not one error line: {lines}"
    for n in names: assert str(n) in lines[0], f"the message does not name {n}: {lines[0]}"
    return lines[0]

def assert_ok_row(row):
    assert row['status'] == 'ok', row['status']
    vals = [float(row[c]) for c in HEADER[2:]]
    assert np.isfinite(vals).all(), f"non-finite values in an ok row: {vals}"
    assert all(float(row[f'sigma_{t}']) > 0 for t in TARGETS)

def assert_skipped_row(row, reason):
    assert row['status'].startswith('skipped: '), row['status']
    assert re.search(reason, row['status']), f"reason {row['status']!r} lacks {reason!r}"
    assert all(row[c] == '' for c in HEADER[2:]), 'a skipped row carries values'

def rows_for(shared, path) -> list: return [r for r in shared['rows'] if r['file'] == str(path)]

def copy_model(dest, edit:Optional[Callable]=None) -> Path:
    "A copy of the packaged model folder, its config.json edited by `edit(cfg)`."
    shutil.copytree(default_model_dir(), dest)
    if edit is not None:
        cfg = json.loads((dest/'config.json').read_text()); edit(cfg)
        (dest/'config.json').write_text(json.dumps(cfg, indent=1))
    return dest

def predict_with_model(tmp_path, model, request):
    "`aaacov predict <one photo> --model <model>` in-process -> (exit code, stderr); a refused model leaves no CSV behind."
    out = tmp_path/'r.csv'
    rc, _, err = run_cli(['predict', one_photo(tmp_path/'p'), '--model', model, '--out', out, '--quiet'], request.getfixturevalue('capsys'))
    if rc == 2: assert not out.exists(), 'a CSV was started although the model was refused'
    return rc, err, out

def one_photo(folder) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    _noise_image().save(folder/'photo.jpg')
    return folder/'photo.jpg'

# --- image cases: each file is loaded with load_photo AND sits in the shared `aaacov predict` folder ------------

@dataclass(frozen=True)
class Photo:
    """An image file, loaded with `load_photo` and scored in the shared `aaacov predict` run.
    Refused: `error` (regex) -> ImageLoadError naming the file, and a `skipped: <reason>` row.
    Loaded: 8-bit RGB of `size` whose `pixels` {(x, y): (r, g, b)} match within `tol`, and an `ok` row.
    `probe(path)` is true when the file on disk really is the awkward kind the case claims (guards the test itself)."""
    id: str
    name: str
    make: Callable
    error: Optional[str] = None
    size: Optional[tuple] = None
    pixels: Optional[dict] = None
    tol: int = 0
    probe: Optional[Callable] = None

    def run(self, tmp_path, request):
        shared = request.getfixturevalue('shared')
        path = shared['photos']/self.name
        rows = rows_for(shared, path)
        assert len(rows) == 1, f"{len(rows)} predict rows for {path.name!r}, expected exactly 1"
        if self.error is not None:
            with pytest.raises(ImageLoadError, match=self.error) as e: load_photo(path)
            assert str(path) in str(e.value), f"the message does not name the file: {e.value}"
            assert_skipped_row(rows[0], self.error)
            return
        if self.probe is not None: assert self.probe(path), f"test input {self.name!r} is not what case {self.id} claims"
        im = load_photo(path)
        assert isinstance(im, Image.Image) and im.mode == 'RGB', im.mode
        assert im.size == self.size, f"size {im.size}, expected {self.size}"
        got = {xy: _px(im, xy) for xy in self.pixels}
        assert all(_close(got[xy], want, self.tol) for xy, want in self.pixels.items()), f"pixels {got}, expected {self.pixels}"
        assert_ok_row(rows[0])

def _corrupt_jpeg(p): p.write_bytes(b'\xff\xd8\xff\xe0\x00\x10JFIF\x00' + np.random.default_rng(1).bytes(3000))

def _truncated_jpeg(p):
    buf = p.with_suffix('.tmp'); _noise_image((128, 96)).save(buf, 'JPEG', quality=90)
    p.write_bytes(buf.read_bytes()[:2000]); buf.unlink()

def _truncated_png(p):
    buf = p.with_suffix('.tmp'); _noise_image((64, 64)).save(buf, 'PNG')
    b = buf.read_bytes(); p.write_bytes(b[:len(b) // 2]); buf.unlink()

def _bomb_png(p):  # declares 30000 x 30000 = 9e8 pixels (> 2 x MAX_IMAGE_PIXELS) in a 100-byte file
    p.write_bytes(_png_bytes(30000, 30000, 1, 0, b'\x00' * 16))

def _cmyk(p): Image.new('CMYK', (16, 16), (0, 255, 255, 0)).save(p, quality=95)   # pure red in CMYK

def _gray16(p): Image.fromarray(np.array([[0, 65535], [32768, 257]], dtype=np.uint16)).save(p)

def _rgb48(p):   # 2 x 2, 16 bits per channel: (65535, 32768, 0) and (0, 257, 65535) per row
    row = b'\x00' + struct.pack('>HHH', 65535, 32768, 0) + struct.pack('>HHH', 0, 257, 65535)
    p.write_bytes(_png_bytes(2, 2, 16, 2, row * 2))

def _rgba(p):
    im = Image.new('RGBA', (3, 1))
    for x, v in enumerate([(255, 0, 0, 255), (255, 0, 0, 128), (0, 0, 0, 0)]): im.putpixel((x, 0), v)
    im.save(p)

def _palette(p, transparent):
    im = Image.new('P', (2, 1)); im.putpalette([10, 20, 30, 200, 100, 50] + [0] * 762)
    im.putpixel((0, 0), 0); im.putpixel((1, 0), 1)
    im.save(p, **({'transparency': 0} if transparent else {}))

def _gray_jpeg(p): Image.fromarray(np.tile(np.linspace(0, 255, 32).astype(np.uint8), (8, 1)), 'L').save(p, quality=95)

def _la(p):
    im = Image.new('LA', (2, 1)); im.putpixel((0, 0), (100, 255)); im.putpixel((1, 0), (0, 0)); im.save(p)

def _exif_rotated(p):  # stored 30 x 12, red left third; orientation 6: stored column 0 is the visual top
    im = Image.new('RGB', (30, 12), (0, 200, 0)); im.paste((220, 0, 0), (0, 0, 10, 12))
    ex = im.getexif(); ex[0x0112] = 6; im.save(p, exif=ex, quality=95)

def _exif_corrupt(p):
    Image.new('RGB', (20, 10), (0, 200, 0)).save(p, exif=b'Exif\x00\x00MM\x00\x2a\x00\x00\x00\x08\xff\xff' + b'\x13' * 40, quality=95)

def _gif(p):
    frames = [Image.new('RGB', (6, 6), c) for c in [(255, 0, 0), (0, 0, 255)]]
    frames[0].save(p, save_all=True, append_images=frames[1:], duration=100, loop=0)

def _strip(p):
    im = Image.new('RGB', (1, 4000), (9, 99, 199)); im.paste((250, 5, 5), (0, 3990, 1, 4000)); im.save(p)

def _webp(p):
    im = Image.new('RGBA', (5, 5), (12, 34, 250, 255)); im.putpixel((4, 4), (0, 0, 0, 0)); im.save(p, 'WEBP', lossless=True)

def _mode(p): return Image.open(p).mode

def _exif_orientation(p): return Image.open(p).getexif().get(0x0112)

PHOTOS = [
    # refused: ImageLoadError naming the file, one `skipped: <reason>` row, the run goes on
    Photo('corrupt_jpeg', 'corrupt.jpg', _corrupt_jpeg, error='cannot decode|not an image'),
    Photo('truncated_jpeg', 'truncated.jpg', _truncated_jpeg, error='truncated'),
    Photo('truncated_png', 'truncated png.png', _truncated_png, error='truncated'),
    Photo('zero_byte_jpg', 'zero.jpg', lambda p: p.write_bytes(b''), error='not an image Pillow can read'),
    Photo('text_file_named_jpg', 'notes.jpg', lambda p: p.write_text('these are my holiday notes\n' * 20),
          error='not an image Pillow can read'),
    Photo('decompression_bomb_size', 'bomb.png', _bomb_png, error='decompression bomb'),
    Photo('symlink_loop_file', 'selfloop.jpg', lambda p: os.symlink(p.name, p), error='symbolic links'),
    Photo('dangling_symlink', 'dangling.jpg', lambda p: os.symlink('no-such-target.jpg', p), error='file not found'),
    # loaded correctly: 8-bit RGB with the right pixels (and orientation), one `ok` row
    Photo('cmyk_jpeg', 'cmyk.jpg', _cmyk, size=(16, 16), pixels={(8, 8): (255, 0, 0)}, tol=6, probe=lambda p: _mode(p) == 'CMYK'),
    Photo('png_16bit_gray', 'gray16.png', _gray16, size=(2, 2),   # scaled by 255/65535, not clipped at 255
          pixels={(0, 0): (0, 0, 0), (1, 0): (255, 255, 255), (0, 1): (128, 128, 128), (1, 1): (1, 1, 1)},
          probe=lambda p: _mode(p) == 'I;16'),
    Photo('png_48bit_rgb', 'rgb48.png', _rgb48, size=(2, 2), pixels={(0, 0): (255, 128, 0), (1, 0): (0, 1, 255)},
          probe=lambda p: p.read_bytes()[24:26] == b'\x10\x02'),   # IHDR: bit depth 16, colour type 2
    Photo('rgba_png', 'rgba.png', _rgba, size=(3, 1), tol=1,    # opaque red stays; 50 % red on white; transparent -> white, not black
          pixels={(0, 0): (255, 0, 0), (1, 0): (255, 127, 127), (2, 0): (255, 255, 255)}, probe=lambda p: _mode(p) == 'RGBA'),
    Photo('palette_png', 'palette.png', lambda p: _palette(p, False), size=(2, 1),
          pixels={(0, 0): (10, 20, 30), (1, 0): (200, 100, 50)}, probe=lambda p: _mode(p) == 'P'),
    Photo('palette_png_transparent', 'palette transparent.png', lambda p: _palette(p, True), size=(2, 1),
          pixels={(0, 0): (255, 255, 255), (1, 0): (200, 100, 50)}, probe=lambda p: 'transparency' in Image.open(p).info),
    Photo('grayscale_jpeg', 'gray.jpg', _gray_jpeg, size=(32, 8), tol=4,
          pixels={(0, 4): (0, 0, 0), (16, 4): (131, 131, 131), (31, 4): (255, 255, 255)}, probe=lambda p: _mode(p) == 'L'),
    Photo('grayscale_alpha_png', 'gray alpha.png', _la, size=(2, 1), pixels={(0, 0): (100, 100, 100), (1, 0): (255, 255, 255)},
          probe=lambda p: _mode(p) == 'LA'),
    Photo('bilevel_1bit_bmp', 'bilevel.bmp', lambda p: Image.new('1', (3, 3), 1).save(p), size=(3, 3), pixels={(1, 1): (255, 255, 255)},
          probe=lambda p: _mode(p) == '1'),
    Photo('float32_tiff', 'float.tif', lambda p: Image.fromarray(np.array([[0.0, 0.5], [1.0, 0.25]], np.float32), 'F').save(p),
          size=(2, 2), pixels={(0, 0): (0, 0, 0), (1, 0): (128, 128, 128), (0, 1): (255, 255, 255), (1, 1): (64, 64, 64)},
          probe=lambda p: _mode(p) == 'F'),
    Photo('exif_rotated_jpeg', 'rotated.jpg', _exif_rotated, size=(12, 30), tol=12,   # portrait; the stored left (red) is the top
          pixels={(6, 2): (220, 0, 0), (6, 27): (0, 200, 0)}, probe=lambda p: _exif_orientation(p) == 6 and Image.open(p).size == (30, 12)),
    Photo('corrupt_exif_jpeg', 'bad exif.jpg', _exif_corrupt, size=(20, 10), tol=6, pixels={(5, 5): (0, 200, 0)},
          probe=lambda p: b'Exif' in p.read_bytes()[:64]),
    Photo('animated_gif', 'animated.gif', _gif, size=(6, 6), pixels={(3, 3): (255, 0, 0)},   # the first frame, not the last
          probe=lambda p: Image.open(p).n_frames == 2),
    Photo('webp_lossless_alpha', 'photo.webp', _webp, size=(5, 5), pixels={(0, 0): (12, 34, 250), (4, 4): (255, 255, 255)},
          probe=lambda p: features.check('webp') and Image.open(p).format == 'WEBP'),
    Photo('one_pixel', 'one pixel.png', lambda p: Image.new('RGB', (1, 1), (1, 2, 3)).save(p), size=(1, 1), pixels={(0, 0): (1, 2, 3)}),
    Photo('extreme_aspect_ratio', 'strip 1x4000.png', _strip, size=(1, 4000), pixels={(0, 0): (9, 99, 199), (0, 3999): (250, 5, 5)}),
    Photo('png_named_jpg', 'really a png.jpg', lambda p: Image.new('RGB', (7, 5), (3, 140, 77)).save(p, 'PNG'), size=(7, 5),
          pixels={(6, 4): (3, 140, 77)}, probe=lambda p: p.read_bytes()[:4] == b'\x89PNG'),
    Photo('unicode_and_spaces_name', '  фото été 写真 #1 .png', lambda p: Image.new('RGB', (9, 4), (40, 50, 60)).save(p), size=(9, 4),
          pixels={(8, 3): (40, 50, 60)}),
    Photo('comma_and_quote_name', 'a, "quoted" name;x.png', lambda p: Image.new('RGB', (4, 9), (70, 80, 90)).save(p), size=(4, 9),
          pixels={(3, 8): (70, 80, 90)}),
]

GOOD = ['good 1.jpg', 'good 2.png', 'sub/good 3.jpg']   # plain photos around the bad ones

@pytest.fixture(scope='module')
def shared(tmp_path_factory):
    "One `aaacov predict` run (real subprocess, packaged model) over a folder of every PHOTOS file among good ones."
    root = tmp_path_factory.mktemp('predict')
    photos = root/'photos'; photos.mkdir()
    (photos/'sub').mkdir()
    for i, name in enumerate(GOOD): _noise_image((80, 60), seed=10 + i).save(photos/name)
    for c in PHOTOS: c.make(photos/c.name)
    os.symlink('..', photos/'sub'/'loop')                           # a directory symlink loop: sub/loop -> photos
    (photos/'album.jpg').mkdir(); Image.new('RGB', (8, 8), (1, 1, 1)).save(photos/'album.jpg'/'inner.png')  # a folder named like an image
    (photos/'readme.txt').write_text('not an image extension: not scored, no row')
    out = root/'results.csv'
    t0 = time.time()
    r = subprocess.run([str(BIN/'aaacov'), 'predict', str(photos), str(root/'missing photo.jpg'), '--out', str(out), '--quiet', '--bs', '4'],
                       capture_output=True, text=True, timeout=300, env={**os.environ, 'MPLBACKEND': 'Agg'})
    expected = [photos/n for n in GOOD] + [photos/c.name for c in PHOTOS] + [photos/'album.jpg'/'inner.png', root/'missing photo.jpg']
    return {'photos': photos, 'root': root, 'out': out, 'rc': r.returncode, 'stderr': r.stderr, 'seconds': time.time() - t0,
            'rows': read_rows(out) if out.is_file() else [], 'expected': expected}

# --- `aaacov predict` cases ----------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Check:
    "Any other case: `fn(tmp_path, request)` asserts the expected behaviour."
    id: str
    fn: Callable
    def run(self, tmp_path, request): self.fn(tmp_path, request)

def predict_bad_files_among_good(tmp_path, request):
    s = request.getfixturevalue('shared')
    assert s['rc'] == 0 and 'Traceback' not in s['stderr'], s['stderr'][-2000:]
    assert s['rows'], 'no CSV written'
    assert list(s['rows'][0].keys()) == HEADER
    files = [r['file'] for r in s['rows']]
    want = sorted(map(str, s['expected']))
    assert len(files) == len(set(files)), f"files scored twice: {sorted({f for f in files if files.count(f) > 1})}"
    assert sorted(files) == want, f"missing rows: {sorted(set(want) - set(files))}; unexpected rows: {sorted(set(files) - set(want))}"
    by = {r['file']: r for r in s['rows']}
    for n in GOOD: assert_ok_row(by[str(s['photos']/n)])
    for c in PHOTOS: (assert_ok_row if c.error is None else lambda r: assert_skipped_row(r, c.error))(by[str(s['photos']/c.name)])

def predict_missing_path_argument(tmp_path, request):
    s = request.getfixturevalue('shared')
    rows = rows_for(s, s['root']/'missing photo.jpg')
    assert len(rows) == 1, rows
    assert_skipped_row(rows[0], 'file not found')

def predict_symlink_loop_in_folder(tmp_path, request):
    s = request.getfixturevalue('shared')
    assert s['rc'] == 0, s['stderr'][-2000:]                       # the walk ended (the subprocess has a timeout)
    real = [os.path.realpath(r['file']) for r in s['rows'] if Path(r['file']).is_file() and not Path(r['file']).is_symlink()]
    assert len(real) == len(set(real)), 'a file reached through the loop was scored twice'
    assert not [r['file'] for r in s['rows'] if '/loop/' in r['file']]

def folder_named_like_an_image(tmp_path, request):
    s = request.getfixturevalue('shared')
    folder = s['photos']/'album.jpg'
    assert not rows_for(s, folder), 'a folder got a row of its own'
    rows = rows_for(s, folder/'inner.png'); assert len(rows) == 1; assert_ok_row(rows[0])
    with pytest.raises(ImageLoadError, match='is a folder') as e: load_photo(folder)   # load_photo on it: named, clear
    assert str(folder) in str(e.value)

def predict_no_path_argument(tmp_path, request):
    rc, out, err = run_cli(['predict', '--out', tmp_path/'r.csv'], request.getfixturevalue('capsys'))
    assert rc == 2 and 'Traceback' not in err
    assert err.strip().splitlines()[-1] == 'aaacov predict: error: the following arguments are required: paths', err
    assert not (tmp_path/'r.csv').exists()

def predict_resume_csv_with_other_columns(tmp_path, request):
    out = tmp_path/'mine.csv'; out.write_text('name,rating\nholiday.jpg,5\n')
    rc, _, err = run_cli(['predict', one_photo(tmp_path/'p'), '--model', default_model_dir(), '--out', out, '--quiet'],
                         request.getfixturevalue('capsys'))
    assert_cli_error(rc, err, 'predict', out, 'not written by aaacov')
    assert out.read_text() == 'name,rating\nholiday.jpg,5\n', 'the foreign CSV was changed'

def predict_resume_csv_truncated_last_row(tmp_path, request):
    "A run killed mid-write leaves a half row; resuming must not keep it as done, nor glue the next row onto it."
    capsys = request.getfixturevalue('capsys')
    folder = tmp_path/'p'; folder.mkdir()
    for i in range(2): _noise_image(seed=i).save(folder/f'{i}.jpg')
    out = tmp_path/'r.csv'
    args = ['predict', folder, '--model', default_model_dir(), '--out', out, '--quiet']
    assert run_cli(args, capsys)[0] == 0
    text = out.read_text(encoding='utf-8'); last = text.rstrip('\n').rfind('\n') + 1
    cut = last + len(str(folder/'1.jpg')) + len(',ok,') + 3
    assert text[last:cut - 3] == f"{folder/'1.jpg'},ok,"
    out.write_text(text[:cut], encoding='utf-8')                    # 1.jpg's row cut inside its first value, no newline
    _noise_image(seed=7).save(folder/'2.jpg')                        # and a new photo to score
    rc, _, err = run_cli(args, capsys)
    assert rc == 0, err   # the resume must run: the half-written row is dropped and 1.jpg scored again
    with open(out, newline='', encoding='utf-8') as f: raw = list(csv.reader(f))
    broken = [r[:3] for r in raw[1:] if len(r) != len(HEADER)]
    assert raw[0] == HEADER and not broken, f"rows with the wrong number of fields after resuming: {broken}"
    rows = read_rows(out)
    assert sorted(r['file'] for r in rows) == sorted(str(folder/f'{i}.jpg') for i in range(3)), [r['file'] for r in rows]
    for r in rows: assert_ok_row(r)

def predict_out_is_a_folder(tmp_path, request):
    out = tmp_path/'results'; out.mkdir(); (out/'old.csv').write_text('x\n')
    rc, _, err = run_cli(['predict', one_photo(tmp_path/'p'), '--model', default_model_dir(), '--out', out, '--quiet'],
                         request.getfixturevalue('capsys'))
    assert_cli_error(rc, err, 'predict', out)

def predict_non_utf8_file_name(tmp_path, request):
    "A photo whose name is Latin-1 bytes (copied from an old disk): its own row; the photos after it are still scored."
    folder = tmp_path/'p'; folder.mkdir()
    _noise_image(seed=1).save(folder/'a.jpg'); _noise_image(seed=3).save(folder/'z.jpg')
    odd = os.fsdecode(b'caf\xe9 cr\xe8me.jpg'); _noise_image(seed=2).save(folder/odd)
    out = tmp_path/'r.csv'
    rc, _, err = run_cli(['predict', folder, '--model', default_model_dir(), '--out', out, '--quiet'], request.getfixturevalue('capsys'))
    assert rc == 0, f"exit {rc}: {err.strip()}"
    rows = read_rows(out)
    assert len(rows) == 3, [r['file'] for r in rows]
    by = {Path(r['file']).name: r for r in rows}
    assert_ok_row(by['a.jpg']); assert_ok_row(by['z.jpg'])
    assert [n for n in by if n.startswith('caf')], f"no row for {odd!r}: {list(by)}"

def predict_model_weights_truncated(tmp_path, request):
    d = copy_model(tmp_path/'model'); w = d/'model.safetensors'
    w.write_bytes(w.read_bytes()[:len(w.read_bytes()) // 2])
    with pytest.raises(ModelFileError, match='truncated or corrupt') as e: load_model(d)
    assert str(w) in str(e.value)
    rc, err, _ = predict_with_model(tmp_path, d, request)
    assert_cli_error(rc, err, 'predict', w)

def predict_model_folder_missing(tmp_path, request):
    with pytest.raises(ModelFileError, match='no config.json') as e: load_model(tmp_path/'no model')
    assert str(tmp_path/'no model') in str(e.value)
    rc, err, _ = predict_with_model(tmp_path, tmp_path/'no model', request)
    assert_cli_error(rc, err, 'predict', tmp_path/'no model', 'config.json')

def predict_model_config_other_m(tmp_path, request):
    d = copy_model(tmp_path/'model', lambda c: c.update(m=11, targets=c['targets'][:11], target_mean=c['target_mean'][:11],
                                                        target_std=c['target_std'][:11], loss_params={**c['loss_params'], 'calibration': None}))
    with pytest.raises(ModelFileError, match='do not fit the configured model') as e: load_model(d)
    assert str(d) in str(e.value) and 'm=11' in str(e.value)
    rc, err, _ = predict_with_model(tmp_path, d, request)
    assert_cli_error(rc, err, 'predict', d)

def predict_model_config_inconsistent_fields(tmp_path, request):
    d = copy_model(tmp_path/'model', lambda c: c.update(m=11, targets=c['targets'][:11]))   # target_mean still has 12 values
    with pytest.raises(ModelFileError, match="field 'target_mean'") as e: load_model(d)
    assert str(d/'config.json') in str(e.value)
    rc, err, _ = predict_with_model(tmp_path, d, request)
    assert_cli_error(rc, err, 'predict', d, 'target_mean')

def predict_head_only_model_config_other_arch(tmp_path, request):
    "The packaged (head-only) model folder with config.json saying resnet18: its head's 1280 inputs are MobileNetV2's."
    d = copy_model(tmp_path/'model', lambda c: c.update(arch='resnet18'))
    rc, err, _ = predict_with_model(tmp_path, d, request)
    assert_cli_error(rc, err, 'predict', d)

def predict_model_config_lacks_normalize(tmp_path, request):
    d = copy_model(tmp_path/'model', lambda c: c.pop('normalize'))
    rc, err, _ = predict_with_model(tmp_path, d, request)
    assert_cli_error(rc, err, 'predict', d/'config.json', 'normalize')

def predict_model_weights_not_finite(tmp_path, request):
    "Weights saved after training diverged (NaN): refused, never `ok` rows full of nan, never a traceback."
    from safetensors.torch import load_file, save_file
    d = copy_model(tmp_path/'model'); w = d/'model.safetensors'
    state = load_file(str(w)); state['1.linear.weight'][:] = float('nan'); save_file(state, str(w))
    rc, err, out = predict_with_model(tmp_path, d, request)
    rows = read_rows(out) if out.is_file() else []
    assert rc == 2, f"NaN weights accepted (exit {rc}); rows: {[(r['status'], r['score']) for r in rows]}"
    assert_cli_error(rc, err, 'predict', w)

# --- load_model cases -----------------------------------------------------------------------------------------------

def model_weights_garbage(tmp_path, request):
    d = copy_model(tmp_path/'model'); w = d/'model.safetensors'
    w.write_bytes(np.random.default_rng(5).bytes(w.stat().st_size))
    with pytest.raises(ModelFileError, match='truncated or corrupt') as e: load_model(d)
    assert str(w) in str(e.value)

def model_weights_empty(tmp_path, request):
    d = copy_model(tmp_path/'model'); w = d/'model.safetensors'; w.write_bytes(b'')
    with pytest.raises(ModelFileError) as e: load_model(d)
    assert str(w) in str(e.value)

def model_config_other_arch(tmp_path, request):
    "A full saved model (body + head of MobileNetV2) whose config.json says alexnet."
    from safetensors.torch import save_file
    d = copy_model(tmp_path/'model', lambda c: c.update(body='saved', loss_params={'param': 'gram'}))   # the saved weights' method
    save_file({k: v.contiguous() for k, v in create_model('mobilenet_v2', 12, 'cov', 'gram', pretrained=False).state_dict().items()},
              str(d/'model.safetensors'))
    model, cfg = load_model(d)                                     # control: the consistent folder loads
    assert cfg['arch'] == 'mobilenet_v2'
    c = json.loads((d/'config.json').read_text()); c['arch'] = 'alexnet'; (d/'config.json').write_text(json.dumps(c))
    with pytest.raises(ModelFileError, match='do not fit the configured model') as e: load_model(d)
    assert str(d) in str(e.value) and 'alexnet' in str(e.value)

def model_config_lacks_arch(tmp_path, request):
    d = copy_model(tmp_path/'model', lambda c: c.pop('arch'))
    try: load_model(d)
    except ModelFileError as e:
        assert str(d/'config.json') in str(e) and 'arch' in str(e), str(e); return
    except Exception as e:
        pytest.fail(f"load_model raised {type(e).__name__}: {e} (not a ModelFileError naming {d/'config.json'} and 'arch')", pytrace=False)
    pytest.fail('a config.json without arch was accepted')

# --- label cases ----------------------------------------------------------------------------------------------------

def _csv_folder(tmp_path, edit=None, labels=None):
    "AADB CSV-form label folder; `edit(lines)` rewrites the Train CSV's lines -> (folder, train csv path)."
    d = write_csv_form(make_labels() if labels is None else labels, tmp_path/'labels')
    f = d/'imgListTrainRegression_.csv'
    if edit is not None: f.write_text(''.join(edit(f.read_text().splitlines(True))))
    return d, f

def _set(lines, line_no, col, value):
    "Lines with column `col` of (1-based) file line `line_no` set to `value`."
    head = lines[0].rstrip('\n').split(','); row = lines[line_no - 1].rstrip('\n').split(',')
    row[head.index(col)] = value
    return lines[:line_no - 1] + [','.join(row) + '\n'] + lines[line_no:]

def _raises_naming(d, *names, match=None):
    with pytest.raises(AADBLabelError, match=match) as e: read_aadb_labels(d)
    for n in names: assert str(n) in str(e.value), f"the message does not name {n}: {e.value}"
    return str(e.value)

def label_value_check(line, col, value, match):
    def fn(tmp_path, request):
        d, f = _csv_folder(tmp_path, lambda L: _set(L, line, col, value))
        _raises_naming(d, f"{f}, line {line}", match=match)
    return fn

def labels_inf_in_attribute_txt(tmp_path, request):
    d = write_txt_form(make_labels(), tmp_path/'labels'); f = d/'imgListValidationRegression_Light.txt'
    lines = f.read_text().splitlines(True); lines[1] = lines[1].split()[0] + ' inf\n'; f.write_text(''.join(lines))
    _raises_naming(d, f"{f}, line 2", match='NaN or infinite')

def labels_wrong_header(tmp_path, request):
    d, f = _csv_folder(tmp_path, lambda L: [L[0].replace('ImageFile', 'image').replace('DoF', 'DepthOfField')] + L[1:])
    msg = _raises_naming(d, f, match='wrong header')
    assert 'ImageFile' in msg and 'DoF' in msg

def labels_semicolon_delimited(tmp_path, request):
    d, f = _csv_folder(tmp_path, lambda L: [l.replace(',', ';') for l in L])
    _raises_naming(d, f, match='wrong header')

def labels_utf16_encoded(tmp_path, request):
    d, f = _csv_folder(tmp_path); f.write_text(f.read_text(), encoding='utf-16')
    _raises_naming(d, f, match='not a readable CSV')

def labels_row_with_extra_field(tmp_path, request):
    d, f = _csv_folder(tmp_path, lambda L: L[:4] + [L[4].rstrip('\n') + ',0.4\n'] + L[5:])
    _raises_naming(d, f, 'line 5', match='not a readable CSV')

def labels_duplicate_rows(tmp_path, request):
    d, f = _csv_folder(tmp_path, lambda L: L + [L[3]])   # line 4 (img_train_2.jpg) again as the last line, 8
    _raises_naming(d, f"{f}, line 4", f"{f}, line 8", 'img_train_2.jpg', match='appears more than once')

def labels_empty_csv(tmp_path, request):
    d, f = _csv_folder(tmp_path); f.write_bytes(b'')
    _raises_naming(d, f, match='the file is empty')

def labels_header_only_csv(tmp_path, request):
    d, f = _csv_folder(tmp_path, lambda L: L[:1])
    _raises_naming(d, f, match='header but no rows')

def labels_missing_attribute_file(tmp_path, request):
    d = write_txt_form(make_labels(), tmp_path/'labels'); (d/'imgListTestNewRegression_MotionBlur.txt').unlink()
    _raises_naming(d, d, 'TestNew', 'MotionBlur', match='no label file for')

def labels_extra_rows_across_attribute_files(tmp_path, request):
    d = write_txt_form(make_labels(), tmp_path/'labels'); f = d/'imgListTrainRegression_Symmetry.txt'
    f.write_text(f.read_text() + 'stray_photo.jpg 0.2\n')
    _raises_naming(d, f, 'stray_photo.jpg', match='has images not in')

def labels_missing_image_files(tmp_path, request):
    labels = make_labels(); write_images(labels.drop(index=[1, 7]), tmp_path/'images')
    gone = labels.fname.iloc[[1, 7]].tolist()
    with pytest.warns(UserWarning, match=r'2 of 12 labelled image\(s\) not found') as w:
        m = match_images(labels, tmp_path/'images')
    msg = ' '.join(str(x.message) for x in w)
    assert all(g in msg for g in gone) and str(tmp_path/'images') in msg
    assert len(m) == 10 and m.attrs['missing'] == gone and not set(gone) & set(m.fname) and m.path.notna().all()
    with pytest.raises(FileNotFoundError, match='not found') as e: match_images(labels, tmp_path/'images', on_missing='raise')
    assert all(g in str(e.value) for g in gone)

def labels_val_test_leak(tmp_path, request):
    labels = make_labels()
    leak = labels[labels.split == 'test'].head(2).assign(split='valid')
    d = write_txt_form(pd.concat([labels, leak], ignore_index=True), tmp_path/'labels')
    with pytest.warns(UserWarning, match=r'Dropped 2 validation image\(s\) that are also in test'):
        df = read_aadb_labels(d)
    valid, test = set(df.fname[df.split == 'valid']), set(df.fname[df.split == 'test'])
    assert not valid & test and set(leak.fname) <= test and len(valid) == 3

def labels_dataframe_with_inf(tmp_path, request):
    df = make_labels(); df.loc[5, 'Content'] = np.inf
    with pytest.raises(AADBLabelError, match=r'row 5: Content') as e: validate_labels(df, source='my table')
    assert 'my table' in str(e.value)

# --- `aaacov train` cases -------------------------------------------------------------------------------------------

def train_val_test_leak(tmp_path, request):
    "Through `aaacov train`: the leaked validation rows are dropped (with a warning) before the DataLoaders are built."
    import aaacov.dataloaders as dl_mod
    labels = make_labels()
    leak = labels[labels.split == 'test'].head(2).assign(split='valid')
    d = write_csv_form(pd.concat([labels, leak], ignore_index=True), tmp_path/'data'); write_images(labels, d/'images')
    seen, real = {}, dl_mod.aadb_dataloaders
    def spy(labels, *a, **k): seen['labels'] = labels.copy(); return real(labels, *a, **k)
    import aaacov.train as train_mod   # the spy where `train` looks the name up, whichever imported it first
    for mod in (dl_mod, train_mod): request.getfixturevalue('monkeypatch').setattr(mod, 'aadb_dataloaders', spy)
    with pytest.warns(UserWarning, match=r'Dropped 2 validation image\(s\)'):
        rc, out, err = run_cli(['train', '--data', d, '--out', tmp_path/'model', '--epochs', '1', '--size', '32', '--bs', '4',
                                '--lr', '1e-3'], request.getfixturevalue('capsys'))
    assert rc == 0, err[-2000:]
    used = seen['labels']
    assert not set(used.fname[used.split == 'valid']) & set(used.fname[used.split == 'test'])
    assert set(leak.fname) <= set(used.fname[used.split == 'test']) and (used.split == 'valid').sum() == 3
    assert (tmp_path/'model'/'model.safetensors').is_file() and (tmp_path/'model'/'test_scores.csv').is_file()

def train_corrupt_training_image(tmp_path, request):
    labels = make_labels()
    d = write_csv_form(labels, tmp_path/'data'); write_images(labels, d/'images')
    bad = d/'images'/labels.fname.iat[1]; _corrupt_jpeg(bad)
    rc, _, err = run_cli(['train', '--data', d, '--out', tmp_path/'model', '--epochs', '1', '--size', '32', '--bs', '4', '--lr', '1e-3'],
                         request.getfixturevalue('capsys'))
    assert_cli_error(rc, err, 'train', bad)

def train_no_images_found(tmp_path, request):
    d = write_csv_form(make_labels(), tmp_path/'data'); (tmp_path/'imgs').mkdir()
    rc, _, err = run_cli(['train', '--data', d, '--images', tmp_path/'imgs', '--out', tmp_path/'model', '--epochs', '1'],
                         request.getfixturevalue('capsys'))
    assert_cli_error(rc, err, 'train', tmp_path/'imgs', 'no image files')
    assert not (tmp_path/'model').exists()

def train_data_folder_missing(tmp_path, request):
    rc, _, err = run_cli(['train', '--data', tmp_path/'no data', '--out', tmp_path/'model'], request.getfixturevalue('capsys'))
    assert_cli_error(rc, err, 'train', tmp_path/'no data')

def train_label_out_of_range(tmp_path, request):
    labels = make_labels(); labels.loc[labels.index[labels.split == 'valid'][1], 'score'] = 3.5   # a 1-5 rating, not rescaled
    d = write_csv_form(labels, tmp_path/'data'); write_images(labels, d/'images')
    rc, _, err = run_cli(['train', '--data', d, '--out', tmp_path/'model'], request.getfixturevalue('capsys'))
    assert_cli_error(rc, err, 'train', d/'imgListValidationRegression_.csv', 'line 3', 'outside')

def train_non_finite_loss_batch(tmp_path, request):
    "A batch whose loss is NaN/inf (here: a learning rate that blows the weights up) stops training naming epoch, batch and files."
    labels = make_labels((16, 3, 3))   # several training batches: the second one meets the broken weights
    d = write_csv_form(labels, tmp_path/'data'); write_images(labels, d/'images')
    rc, _, err = run_cli(['train', '--data', d, '--out', tmp_path/'model', '--epochs', '2', '--size', '32', '--bs', '4',
                          '--lr', '1e12', '--from-scratch', '--arch', 'resnet18'], request.getfixturevalue('capsys'))
    assert_cli_error(rc, err, 'train', 'the training loss is', 'epoch 0, batch 1', '.jpg', 'Lower the learning rate')
    assert not (tmp_path/'model'/'model.safetensors').exists()

def train_damaged_checkpoint(tmp_path, request):
    "A checkpoint folder whose state.json is garbage (e.g. a disk filled up) is named, with what to do."
    labels = make_labels()
    d = write_csv_form(labels, tmp_path/'data'); write_images(labels, d/'images')
    (tmp_path/'model'/'checkpoint').mkdir(parents=True); (tmp_path/'model'/'checkpoint'/'state.json').write_text('{"epoch": 1, "wei')
    rc, _, err = run_cli(['train', '--data', d, '--out', tmp_path/'model', '--epochs', '1', '--size', '32', '--bs', '4', '--lr', '1e-3'],
                         request.getfixturevalue('capsys'))
    assert_cli_error(rc, err, 'train', tmp_path/'model'/'checkpoint'/'state.json', 'damaged checkpoint')

# --- AVA-format folders through `aaacov train` (Zeng et al.'s methods) ------------------------------------------------

def write_ava(d:Path, n:int=12, test:int=3, bad_line:str|None=None, test_list:bool=True) -> Path:
    "A small AVA-format folder: AVA.txt (n images, 10 rating counts each), the standard test list, one 16 px JPEG per image."
    rng = np.random.default_rng(0)
    (d/'images').mkdir(parents=True)
    lines = [f"{i} {1000 + i} {' '.join(map(str, rng.integers(0, 20, 10)))} 0 0 0" for i in range(1, n + 1)]
    if bad_line is not None: lines.insert(4, bad_line)
    (d/'AVA.txt').write_text('\n'.join(lines) + '\n')
    if test_list:
        (d/'aesthetics_image_lists').mkdir()
        (d/'aesthetics_image_lists'/'generic_test.jpgl').write_text(''.join(f"{1000 + i}\n" for i in range(1, test + 1)))
    for i in range(1, n + 1): Image.fromarray(rng.integers(0, 255, (16, 16, 3), dtype=np.uint8)).save(d/'images'/f"{1000 + i}.jpg")
    return d

def _train_ava(tmp_path, request, d, *extra):
    return run_cli(['train', '--data', d, '--out', tmp_path/'model', '--loss', 'ce', '--epochs', '1', '--size', '32', '--bs', '4',
                    '--lr', '1e-3', *extra], request.getfixturevalue('capsys'))

def train_ava_without_test_list(tmp_path, request):
    d = write_ava(tmp_path/'ava', test_list=False)
    rc, _, err = _train_ava(tmp_path, request, d)
    assert_cli_error(rc, err, 'train', 'generic_test.jpgl')
    assert not (tmp_path/'model').exists()

def train_ava_bad_line(tmp_path, request):
    d = write_ava(tmp_path/'ava', bad_line='99 2000 1 2 3')
    rc, _, err = _train_ava(tmp_path, request, d)
    assert_cli_error(rc, err, 'train', d/'AVA.txt', 'line 5', 'expected 15 fields')

def train_emd_on_scores(tmp_path, request):
    "NIMA's EMD compares distributions: an AADB folder (one score per photo) is refused before anything is written."
    labels = make_labels()
    d = write_csv_form(labels, tmp_path/'data'); write_images(labels, d/'images')
    rc, _, err = run_cli(['train', '--data', d, '--out', tmp_path/'model', '--loss', 'emd', '--epochs', '1', '--size', '32'],
                         request.getfixturevalue('capsys'))
    assert_cli_error(rc, err, 'train', 'the EMD loss compares distributions')
    assert not (tmp_path/'model').exists()

def train_labels_for_the_covariance(tmp_path, request):
    d = write_ava(tmp_path/'ava')
    rc, _, err = run_cli(['train', '--data', d, '--out', tmp_path/'model', '--loss', 'cov', '--labels', 'rsd'], request.getfixturevalue('capsys'))
    assert_cli_error(rc, err, 'train', "takes no parameter(s) ['labels']")
    assert not (tmp_path/'model').exists()

def train_ava_trains(tmp_path, request):
    "The same small folder, well formed, trains: the bad-input cases above fail for their reason only."
    d = write_ava(tmp_path/'ava')
    rc, out, err = _train_ava(tmp_path, request, d, '--labels', 'gaussian_mv', '--arch', 'resnet18', '--from-scratch')
    assert rc == 0, err
    assert (tmp_path/'model'/'model.safetensors').is_file()

# --- unreadable permissions (load_photo as an unprivileged user) ----------------------------------------------------

def _load_as(uid, path):
    "load_photo(path) in a forked child running as `uid` -> dict (readable / error type / message); None if setuid fails."
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:   # child: never returns into pytest
        res = {}
        try:
            os.close(r)
            try: os.setgroups([]); os.setgid(uid); os.setuid(uid)
            except OSError as e: res = {'setuid': str(e)}
            else:
                try: open(path, 'rb').close(); res['readable'] = True
                except PermissionError: res['readable'] = False
                try: load_photo(path); res['result'] = 'loaded'
                except ImageLoadError as e: res.update(result='ImageLoadError', message=str(e))
                except BaseException as e: res.update(result=type(e).__name__, message=str(e))
            os.write(w, json.dumps(res).encode())
        finally: os._exit(0)
    os.close(w)
    buf, deadline = b'', time.time() + 60
    while time.time() < deadline:
        if select.select([r], [], [], 1)[0]:
            chunk = os.read(r, 65536)
            if not chunk: break
            buf += chunk
    else: os.kill(pid, signal.SIGKILL)
    os.close(r); os.waitpid(pid, 0)
    res = json.loads(buf or b'{}')
    return None if 'setuid' in res or not res else res

def unreadable_permissions(tmp_path, request):
    d = Path(tempfile.mkdtemp(prefix='aaacov-perm-'))   # world-traversable, so only the file's own mode can deny
    try:
        os.chmod(d, 0o755)
        f = d/'locked photo.jpg'; _noise_image().save(f); os.chmod(f, 0)
        if os.geteuid() == 0:   # root ignores chmod: check as the unprivileged user `nobody` instead
            res = _load_as(65534, str(f))
            if res is None: pytest.skip('running as root and cannot drop to an unprivileged user: chmod is ineffective')
            if res['readable']: pytest.skip('the file stays readable after chmod 0 even for an unprivileged user')
            assert res['result'] == 'ImageLoadError', res
            msg = res['message']
        else:
            try: open(f, 'rb').close(); pytest.skip('chmod 0 does not make files unreadable here')
            except PermissionError: pass
            with pytest.raises(ImageLoadError) as e: load_photo(f)
            msg = str(e.value)
        assert str(f) in msg and 'permission denied' in msg, msg
    finally:
        os.chmod(d/'locked photo.jpg', 0o600) if (d/'locked photo.jpg').exists() else None
        shutil.rmtree(d, ignore_errors=True)

def folder_passed_as_a_file(tmp_path, request):
    (tmp_path/'2024 trip.jpg').mkdir()
    with pytest.raises(ImageLoadError, match='is a folder') as e: load_photo(tmp_path/'2024 trip.jpg')
    assert str(tmp_path/'2024 trip.jpg') in str(e.value)

# === issue 13, the data side: synth folders, progress bars, entries that are not regular files, label line numbers and
# duplicated columns, other photo formats. Helpers here; the cases are the marked block at the end of CASES. ==========
import socket, threading   # noqa: E402  (kept with the cases that use them)
from aaacov.data import walk_images   # noqa: E402
from aaacov.dataloaders import load_photo_resized, can_decode   # noqa: E402
from aaacov.synthetic import make_aadb_like   # noqa: E402

def _bounded(f, seconds=30): return bounded(f, seconds)   # conftest.bounded: a hang is a failure, never a stuck suite

def _tree(root) -> list:
    "Every entry under `root` (links not followed) with its bytes: equal before and after means nothing was changed."
    root = Path(root)
    if root.is_file(): return [('', False, root.read_bytes())]
    return sorted((str(p.relative_to(root)), p.is_symlink(), p.read_bytes() if p.is_file() and not p.is_symlink() else None)
                  for p in root.rglob('*'))

def _fake_heic(p): p.write_bytes(b'\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic' + bytes(64))   # HEIC's header, nothing to decode

NOT_REGULAR = 'not a regular file \\(a FIFO/pipe, device or socket'

@pytest.fixture(scope='module')
def odd_inputs(tmp_path_factory):
    """One `aaacov predict` run (real subprocess, packaged model) over a folder of other photo formats and of entries that
    are not regular files (FIFO, socket), plus a FIFO and /dev/null named directly; a timeout instead of a hang."""
    root = Path(tempfile.mkdtemp(prefix='aaacov-odd-'))   # short: a socket's path must fit in 108 bytes
    photos = root/'photos'; photos.mkdir()
    for ext in ('jfif', 'jpe', 'JFIF'): Image.new('RGB', (12, 8), (200, 30, 40)).save(photos/f'photo {ext}.{ext}', 'JPEG', quality=95)
    if can_decode('.avif'): Image.new('RGB', (12, 8), (200, 30, 40)).save(photos/'photo.avif')
    else: (photos/'photo.avif').write_bytes(b'\x00\x00\x00\x1cftypavif\x00\x00\x00\x00avifmif1miaf' + bytes(64))
    _fake_heic(photos/'photo.heic')
    os.mkfifo(photos/'a pipe.jpg')                         # sorted first: the photos after it must still be scored
    sock = socket.socket(socket.AF_UNIX); sock.bind(str(photos/'b socket.png'))
    _noise_image(seed=4).save(photos/'z good.jpg')
    os.mkfifo(root/'named pipe.jpg')
    named = [root/'named pipe.jpg'] + ([Path('/dev/null')] if os.path.exists('/dev/null') else [])
    out = root/'results.csv'
    cmd = [str(BIN/'aaacov'), 'predict', str(photos), *map(str, named), '--out', str(out), '--quiet', '--bs', '4']
    try:
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=300, env={**os.environ, 'MPLBACKEND': 'Agg'})
        rc, err = r.returncode, r.stderr
    except subprocess.TimeoutExpired: rc, err = 'timeout', 'aaacov predict still running after 300 s (it waits on a FIFO?)'
    yield {'root': root, 'photos': photos, 'named': named, 'rc': rc, 'stderr': err,
           'rows': {r['file']: r for r in read_rows(out)} if out.is_file() else {}}
    sock.close(); shutil.rmtree(root, ignore_errors=True)

def _odd_row(s, path):
    assert s['rc'] == 0 and 'Traceback' not in s['stderr'], f"exit {s['rc']}: {s['stderr'][-2000:]}"
    assert str(path) in s['rows'], f"no row for {path}: {sorted(s['rows'])}"
    return s['rows'][str(path)]

# --- item: entries that are not regular files never hang, are named, and get a `skipped` row ------------------------------

def predict_fifo_socket_device_among_inputs(tmp_path, request):
    "A FIFO and a socket in the folder, a FIFO and /dev/null named directly: one skipped row each, the photo after them scored."
    s = request.getfixturevalue('odd_inputs')
    for p in [s['photos']/'a pipe.jpg', *s['named']]: assert_skipped_row(_odd_row(s, p), NOT_REGULAR)
    assert_skipped_row(_odd_row(s, s['photos']/'b socket.png'), NOT_REGULAR)
    assert_ok_row(_odd_row(s, s['photos']/'z good.jpg'))
    assert sorted(s['rows']) == sorted(map(str, [*s['photos'].iterdir(), *s['named']])), 'not one row per input'

def load_photo_fifo_socket_device(tmp_path, request):
    "load_photo and load_photo_resized refuse each by name, in bounded time (an os.stat look, never an open)."
    s = request.getfixturevalue('odd_inputs')
    for p, kind in [(s['photos']/'a pipe.jpg', 'a FIFO/pipe'), (s['photos']/'b socket.png', 'a socket'), (Path('/dev/null'), 'a device')]:
        if not (p.exists() or p.is_socket()): continue
        for load in (load_photo, lambda p: load_photo_resized(p, 32)):
            with pytest.raises(ImageLoadError, match=f"{NOT_REGULAR}: this is {kind}\\); skipped") as e: _bounded(lambda: load(p))
            assert str(p) in str(e.value)

def walk_images_lists_fifo_without_opening(tmp_path, request):
    "The folder walk lists a FIFO like any other name (so the caller records it), and returns at once."
    d = tmp_path/'w'; d.mkdir(); os.mkfifo(d/'pipe.jpg'); _noise_image().save(d/'x.jpg')
    assert _bounded(lambda: [p.name for p in walk_images(d)], 10) == ['pipe.jpg', 'x.jpg']

# --- item: other photo file names ------------------------------------------------------------------------------------------

def predict_jfif_and_jpe(tmp_path, request):
    "JPEGs named .jfif / .jpe (any case) are found by the folder walk and scored, and load with the right pixels."
    s = request.getfixturevalue('odd_inputs')
    for ext in ('jfif', 'jpe', 'JFIF'):
        p = s['photos']/f'photo {ext}.{ext}'
        assert_ok_row(_odd_row(s, p))
        assert _close(load_photo(p).getpixel((6, 4)), (200, 30, 40), 4)

def predict_heic_without_decoder(tmp_path, request):
    "A HEIC photo is never silently left out: read with pillow-heif, else a skipped row saying to install it."
    s = request.getfixturevalue('odd_inputs')
    p = s['photos']/'photo.heic'
    if can_decode('.heic'): pytest.skip('pillow-heif is installed here (and the test file is only a header)')
    assert_skipped_row(_odd_row(s, p), 'a HEIC/HEIF image, which the installed Pillow cannot decode; skipped. To read such photos: pip install pillow-heif')
    with pytest.raises(ImageLoadError, match='pip install pillow-heif') as e: load_photo(p)
    assert str(p) in str(e.value)

def predict_avif(tmp_path, request):
    "An AVIF photo: scored where Pillow has the decoder (>= 11.2 with libavif), else a skipped row naming pillow-avif-plugin."
    s = request.getfixturevalue('odd_inputs')
    p = s['photos']/'photo.avif'
    if can_decode('.avif'):
        assert_ok_row(_odd_row(s, p)); assert _close(load_photo(p).getpixel((6, 4)), (200, 30, 40), 8)
    else: assert_skipped_row(_odd_row(s, p), 'an AVIF image, .*pip install pillow-avif-plugin')

# --- item: aaacov synth replaces only a dataset its generator wrote ------------------------------------------------------

def _synth(args, request): return run_cli(['synth', *args, '--quiet'], request.getfixturevalue('capsys'))

def synth_overwrite_web_app_folder(tmp_path, request):
    "A folder that merely holds a manifest.json (a web app): refused with one line naming it, nothing deleted."
    web = tmp_path/'site'; (web/'css').mkdir(parents=True)
    (web/'manifest.json').write_text('{"name": "My app", "start_url": "/", "display": "standalone"}')
    (web/'index.html').write_text('<!doctype html><title>app</title>'); (web/'css'/'a.css').write_text('body{}')
    before = _tree(web)
    rc, _, err = _synth([web, '--overwrite', '--n', '3'], request)
    assert_cli_error(rc, err, 'synth', web/'manifest.json', "not written by aaacov's synthetic generator")
    assert _tree(web) == before and sorted(p.name for p in tmp_path.iterdir()) == ['site']

def synth_manifest_not_a_json_object(tmp_path, request):
    for i, text in enumerate(['["a.jpg", "b.jpg"]', '"hello"', '{"args": [', '[' * 50000 + ']' * 50000]):
        d = tmp_path/f'd{i}'; d.mkdir(); (d/'manifest.json').write_text(text); before = _tree(d)
        rc, _, err = _synth([d, '--overwrite', '--n', '3'], request)
        assert_cli_error(rc, err, 'synth', d/'manifest.json', 'not a JSON object' if i < 2 else 'not readable JSON')
        assert _tree(d) == before

def synth_dest_is_a_file(tmp_path, request):
    f = tmp_path/'notes.txt'; f.write_text('my notes\n')
    for args in ([f], ['--out', f, '--overwrite']):
        rc, _, err = _synth([*args, '--n', '3'], request)
        assert_cli_error(rc, err, 'synth', f, 'is a file, not a folder')
        assert f.read_text() == 'my notes\n' and sorted(p.name for p in tmp_path.iterdir()) == ['notes.txt']

def synth_overwrite_own_dataset_with_user_files(tmp_path, request):
    "A dataset the generator wrote, plus a file of the user's: --overwrite refuses naming the file; only its own files are replaced."
    own = make_aadb_like(tmp_path/'own', n=3, workers=1, progress=False)
    (own/'my notes.txt').write_text('keep'); before = _tree(own)
    rc, _, err = _synth([own, '--overwrite', '--n', '3', '--seed', '1'], request)
    assert_cli_error(rc, err, 'synth', own, 'my notes.txt', 'nothing is replaced or deleted')
    assert _tree(own) == before
    (own/'my notes.txt').unlink()
    rc, _, err = _synth([own, '--overwrite', '--n', '3', '--seed', '1'], request)
    assert rc == 0, err
    assert json.loads((own/'manifest.json').read_text())['args']['seed'] == 1 and sorted(p.name for p in tmp_path.iterdir()) == ['own']

def synth_no_progress_bars_in_logs(tmp_path, request):
    "Output to a log (not a terminal): the generator draws no progress bar by default; an explicit progress=True still does."
    def run(extra=''):
        code = f"from aaacov.synthetic import make_aadb_like; make_aadb_like(r'{tmp_path}/d{len(extra)}', n=3, workers=1{extra})"
        r = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True, timeout=300)
        assert r.returncode == 0, r.stderr[-2000:]
        return r.stdout + r.stderr
    log = run()
    assert not re.search('[\r█]|\\|-+\\|', log), f"progress bar in a log: {log[-300:]!r}"
    assert re.search('[\r█]', run(', progress=True')), 'progress=True drew nothing'

# --- item: label errors name the file's own line; a duplicated column is refused ------------------------------------------

def _label_line_check(edit, line, match='holds \'x\', which is not a number'):
    "A case: the Train CSV's lines (no line ends) edited by `edit` -> bytes; the error must name `file, line <line>`."
    def fn(tmp_path, request):
        d = write_csv_form(make_labels(), tmp_path/'labels'); f = d/'imgListTrainRegression_.csv'
        f.write_bytes(edit(f.read_text().splitlines()))
        _raises_naming(d, f"{f}, line {line}", match=match)
    return fn

def _x(L, i):
    "Lines `L` with the score of line index `i` made 'x'."
    row = L[i].split(','); row[-1] = 'x'; return L[:i] + [','.join(row)] + L[i + 1:]

def _duplicate_column(tmp_path, col):
    "A second `col` column appended to the Train CSV: refused, naming the file, the header line and the column."
    d, f = _csv_folder(tmp_path/col, lambda L: [L[0].rstrip('\n') + f',{col}\n'] + [l.rstrip('\n') + ',0.5\n' for l in L[1:]])
    _raises_naming(d, f"{f}, line 1: column '{col}' appears 2 times in the header", match='Keep one and delete the others')

def labels_duplicate_score_column(tmp_path, request): _duplicate_column(tmp_path, 'score')

def labels_duplicate_column(tmp_path, request):
    for col in ('DoF', 'ImageFile'): _duplicate_column(tmp_path, col)

def labels_line_txt_unicode_separators(tmp_path, request):
    "Per-attribute text file with a form feed, \\x85 and U+2028 in lines (str.splitlines breaks there, an editor does not)."
    d = write_txt_form(make_labels(), tmp_path/'labels'); f = d/'imgListTrainRegression_Light.txt'
    L = f.read_text().splitlines(True)
    L[0] = L[0].rstrip('\n') + ' \x0c\n'; L[1] = L[1].rstrip('\n') + ' \x85 \u2028\n'; L[4] = L[4].split()[0] + ' x\n'
    f.write_text(''.join(L), newline='')
    _raises_naming(d, f"{f}, line 5", match="column 'Light' holds 'x'")

# --- the list ---------------------------------------------------------------------------------------------------------

# --- issue 13: outputs, results files, model folders, the report ---------------------------------------------------

def _tiny_model(tmp_path) -> Path:
    "An untrained ResNet-18 covariance model at 32 px (fast), saved as a model folder."
    from aaacov.synthetic import synthetic_dataset
    from aaacov.dataloaders import aadb_dataloaders
    from aaacov.learner import cov_learner
    from aaacov.modelfiles import save_model_folder
    path = synthetic_dataset('tiny', progress=False)
    dls = aadb_dataloaders(match_images(read_aadb_labels(path), path/'images'), size=32, bs=16, standardize=True, num_workers=0, progress=False)
    return save_model_folder(cov_learner(dls, 'resnet18', pretrained=False), tmp_path/'tiny-model')

def _predict(tmp_path, request, *args):
    "`aaacov predict ARGS --quiet` in-process (the packaged model unless `--model` is given)."
    model = [] if '--model' in args else ['--model', default_model_dir()]
    return run_cli(['predict', *args, *model, '--quiet'], request.getfixturevalue('capsys'))

def predict_out_is_a_users_file(tmp_path, request):
    "`--out precious.jpg` (no final newline): refused before anything is read into or cut from it."
    out = tmp_path/'precious.jpg'; out.write_bytes(b'\xff\xd8 a photo\nwith no final newline')
    rc, _, err = _predict(tmp_path, request, one_photo(tmp_path/'p'), '--out', out)
    assert_cli_error(rc, err, 'predict', out, 'not written by aaacov')
    assert out.read_bytes() == b'\xff\xd8 a photo\nwith no final newline'

def predict_out_same_as_report(tmp_path, request):
    out = tmp_path/'same.csv'
    rc, _, err = _predict(tmp_path, request, one_photo(tmp_path/'p'), '--out', out, '--report', tmp_path/'.'/'same.csv')
    assert_cli_error(rc, err, 'predict', 'same file')
    assert not out.exists(), 'the run started'

def predict_report_is_a_folder(tmp_path, request):
    (tmp_path/'rep').mkdir()
    rc, _, err = _predict(tmp_path, request, one_photo(tmp_path/'p'), '--out', tmp_path/'r.csv', '--report', tmp_path/'rep')
    assert_cli_error(rc, err, 'predict', tmp_path/'rep', 'is a folder')
    assert not (tmp_path/'r.csv').exists(), 'the run started before the report path was checked'

def predict_report_over_a_users_file(tmp_path, request):
    (tmp_path/'notes.html').write_text('<p>mine</p>')
    rc, _, err = _predict(tmp_path, request, one_photo(tmp_path/'p'), '--out', tmp_path/'r.csv', '--report', tmp_path/'notes.html')
    assert_cli_error(rc, err, 'predict', tmp_path/'notes.html', 'not written by aaacov')
    assert (tmp_path/'notes.html').read_text() == '<p>mine</p>' and not (tmp_path/'r.csv').exists()

def predict_out_device(tmp_path, request):
    rc, _, err = _predict(tmp_path, request, one_photo(tmp_path/'p'), '--out', '/dev/full')
    assert_cli_error(rc, err, 'predict', '/dev/full', 'not a regular file')

def predict_out_folder_missing(tmp_path, request):
    rc, _, err = _predict(tmp_path, request, one_photo(tmp_path/'p'), '--out', tmp_path/'no such folder'/'r.csv')
    assert_cli_error(rc, err, 'predict', 'does not exist')

def predict_out_disk_full(tmp_path, request, monkeypatch=None):
    "A disk that fills up mid-run: one line naming the CSV; the rows written before stay, and a re-run resumes."
    import errno, aaacov.inference as inf
    real, calls = inf._write_batch, []
    def full(*a, **k):
        if calls: raise OSError(errno.ENOSPC, 'No space left on device')
        calls.append(1); return real(*a, **k)
    folder = tmp_path/'p'; folder.mkdir()
    for i in range(3): _noise_image(seed=i).save(folder/f'{i}.jpg')
    mp = request.getfixturevalue('monkeypatch'); mp.setattr(inf, '_write_batch', full)
    rc, _, err = _predict(tmp_path, request, folder, '--out', tmp_path/'r.csv', '--bs', '1')
    assert_cli_error(rc, err, 'predict', tmp_path/'r.csv', 'disk is full')
    assert len(read_rows(tmp_path/'r.csv')) == 1
    mp.setattr(inf, '_write_batch', real)
    rc, _, err = _predict(tmp_path, request, folder, '--out', tmp_path/'r.csv', '--bs', '1')
    assert rc == 0 and len(read_rows(tmp_path/'r.csv')) == 3

def predict_out_read_only_folder(tmp_path, request):
    "A folder nobody may write in: refused before the run (checked by really trying to create a file there)."
    import aaacov.outputs as outputs
    mp = request.getfixturevalue('monkeypatch'); mp.setattr(outputs, 'writable_dir', lambda d: False)   # root writes anywhere
    rc, _, err = _predict(tmp_path, request, one_photo(tmp_path/'p'), '--out', tmp_path/'r.csv')
    assert_cli_error(rc, err, 'predict', tmp_path/'r.csv', 'cannot write in')
    assert not (tmp_path/'r.csv').exists()

def predict_resume_with_another_model(tmp_path, request):
    "A CSV written by one model is never continued by another: the rows of two models must not mix."
    photos = tmp_path/'p'; one_photo(photos)
    rc, _, _ = _predict(tmp_path, request, photos, '--model', _tiny_model(tmp_path), '--out', tmp_path/'r.csv')
    before = (tmp_path/'r.csv').read_bytes()
    _noise_image(seed=5).save(photos/'new.jpg')
    rc, _, err = _predict(tmp_path, request, photos, '--model', default_model_dir(), '--out', tmp_path/'r.csv')
    assert_cli_error(rc, err, 'predict', tmp_path/'r.csv', 'another model')
    assert (tmp_path/'r.csv').read_bytes() == before

def predict_resume_cut_inside_quoted_name(tmp_path, request):
    "A kill inside a quoted file name (a name with a newline): the resumed run rescans that file, nothing glued on."
    from aaacov.inference import csv_key
    photos = tmp_path/'p'; photos.mkdir()
    names = ['a.jpg', 'two\nlines.jpg', 'z.jpg']
    for i, n in enumerate(names): _noise_image(seed=i).save(photos/n)
    rc, _, _ = _predict(tmp_path, request, photos, '--out', tmp_path/'r.csv')
    whole = read_rows(tmp_path/'r.csv')
    data = (tmp_path/'r.csv').read_bytes()
    (tmp_path/'r.csv').write_bytes(data[:data.index(b'two\n') + 4])   # cut inside the quoted name
    rc, _, _ = _predict(tmp_path, request, photos, '--out', tmp_path/'r.csv')
    again = read_rows(tmp_path/'r.csv')
    assert rc == 0 and sorted(r['file'] for r in again) == sorted(csv_key(photos/n) for n in names)
    assert {r['file']: r['score'] for r in again} == {r['file']: r['score'] for r in whole}

def predict_distinct_non_utf8_names(tmp_path, request):
    "b'\\xff.jpg' and a file literally named '\\xff.jpg' are two files: two rows, counted as two."
    folder = os.path.join(os.fsencode(str(tmp_path)), b'p'); os.mkdir(folder)
    for i, n in enumerate([b'\xff.jpg', b'\\xff.jpg']): _noise_image(seed=i).save(os.fsdecode(os.path.join(folder, n)), 'JPEG')
    rc, _, err = _predict(tmp_path, request, os.fsdecode(folder), '--out', tmp_path/'r.csv')
    rows = read_rows(tmp_path/'r.csv')
    assert rc == 0 and len(rows) == 2 and len({r['file'] for r in rows}) == 2 and all(r['status'] == 'ok' for r in rows)

def predict_same_file_different_spellings(tmp_path, request):
    p = one_photo(tmp_path/'a')
    rc, _, _ = _predict(tmp_path, request, p, tmp_path/'a'/'..'/'a'/'photo.jpg', tmp_path/'a', '--out', tmp_path/'r.csv')
    assert rc == 0 and len(read_rows(tmp_path/'r.csv')) == 1

def predict_no_formula_cells(tmp_path, request):
    "Names beginning with = + - @ never start a cell (spreadsheet formula injection): every key is an absolute path."
    folder = tmp_path/'p'; folder.mkdir()
    for i, n in enumerate(['=1+2.jpg', '+x.jpg', '-y.jpg', '@z.jpg']): _noise_image(seed=i).save(folder/n)
    rc, _, _ = _predict(tmp_path, request, folder, '--out', tmp_path/'r.csv')
    with open(tmp_path/'r.csv', newline='', encoding='utf-8') as f: cells = [c for row in csv.reader(f) for c in row[:2]]
    assert rc == 0 and not any(c[:1] in '=+@' for c in cells) and not any(c.startswith('-') for c in cells)

def _config_case(edit, field):
    def case(tmp_path, request):
        d = copy_model(tmp_path/'model', edit)
        with pytest.raises(ModelFileError, match=field): load_model(d)
        rc, err, _ = predict_with_model(tmp_path, d, request)
        assert_cli_error(rc, err, 'predict', 'config.json', field)
    return case

def model_config_deeply_nested(tmp_path, request):
    d = copy_model(tmp_path/'model'); (d/'config.json').write_text('[' * 200000 + ']' * 200000)
    rc, err, _ = predict_with_model(tmp_path, d, request)
    assert_cli_error(rc, err, 'predict', 'config.json')

def _train_case(args, *names):
    def case(tmp_path, request):
        from aaacov.synthetic import synthetic_dataset
        data = synthetic_dataset('tiny', progress=False)
        rc, _, err = run_cli(['train', data, *args(tmp_path), '--size', '32', '--quiet'], request.getfixturevalue('capsys'))
        assert_cli_error(rc, err, 'train', *names)
    return case

def train_out_users_folder(tmp_path, request):
    from aaacov.synthetic import synthetic_dataset
    (tmp_path/'site').mkdir(); (tmp_path/'site'/'index.html').write_text('<html>')
    rc, _, err = run_cli(['train', synthetic_dataset('tiny', progress=False), '--out', tmp_path/'site', '--epochs', '1', '--size', '32', '--quiet'],
                         request.getfixturevalue('capsys'))
    assert_cli_error(rc, err, 'train', tmp_path/'site', 'did not write')
    assert sorted(p.name for p in (tmp_path/'site').iterdir()) == ['index.html']

def report_odd_names_deleted_files_non_utf8(tmp_path, request):
    "The report reads names as written (NA, nan, 1e5, True), shows files deleted since and non-UTF-8 names, never crashes."
    folder = os.path.join(os.fsencode(str(tmp_path)), b'p'); os.mkdir(folder)
    names = [b'NA.jpg', b'nan.jpg', b'1e5.jpg', b'True.jpg', b'\xff.jpg', b'gone.jpg']
    for i, n in enumerate(names): _noise_image(seed=i).save(os.fsdecode(os.path.join(folder, n)), 'JPEG')
    rc, _, _ = _predict(tmp_path, request, os.fsdecode(folder), '--out', tmp_path/'r.csv')
    os.unlink(os.path.join(folder, b'gone.jpg'))
    from aaacov.report import write_report
    txt = write_report(tmp_path/'r.csv', default_model_dir(), tmp_path/'r.html').read_text()
    assert txt.count('<section class=card>') == 6 and 'cannot be shown' in txt and 'NA.jpg' in txt

def report_few_photos(tmp_path, request):
    "Four photos: no best/worst lists (they would repeat photos), no across-photo correlation of four points."
    folder = tmp_path/'p'; folder.mkdir()
    for i in range(4): _noise_image(seed=i).save(folder/f'{i}.jpg')
    rc, _, _ = _predict(tmp_path, request, folder, '--out', tmp_path/'r.csv', '--report', tmp_path/'r.html')
    txt = (tmp_path/'r.html').read_text()
    assert rc == 0 and '<h3>Best</h3>' not in txt and 'correlation of the predictions (' not in txt and 'mean predicted correlation of a photo' in txt

# --- issue 14: withheld labels ---
def labels_empty_score_even_when_allowed(tmp_path, request):
    d, f = _csv_folder(tmp_path, lambda L: _set(L, 4, 'score', ''))
    with pytest.raises(AADBLabelError, match='the score is never withheld') as e: read_aadb_labels(d, allow_missing=True)
    assert f"{f}, line 4" in str(e.value)

def labels_text_in_attribute_when_gaps_allowed(tmp_path, request):
    "Gaps allowed means empty cells, not anything: a word is still an error naming the line."
    d, f = _csv_folder(tmp_path, lambda L: _set(L, 5, 'DoF', 'blurry'))
    with pytest.raises(AADBLabelError, match="'blurry', which is not a number") as e: read_aadb_labels(d, allow_missing=True)
    assert f"{f}, line 5" in str(e.value)

def labels_txt_form_unlisted_image(tmp_path, request):
    "Per-attribute files: an image missing from one attribute's file is refused, saying how to accept withheld labels."
    d = write_txt_form(make_labels(), tmp_path/'labels'); f = d/'imgListTrainRegression_Light.txt'
    lines = f.read_text().splitlines(True); f.write_text(''.join(lines[1:]))
    with pytest.raises(AADBLabelError, match='allow_missing=True') as e: read_aadb_labels(d)
    assert str(f) in str(e.value)
    got = read_aadb_labels(d, allow_missing=True)
    assert got.Light.isna().sum() == 1 and got.drop(columns='Light').notna().all().all()


CASES = PHOTOS + [
    Check('unreadable_permissions', unreadable_permissions),
    Check('folder_passed_as_a_file', folder_passed_as_a_file),
    # aaacov predict
    Check('predict_bad_files_among_good', predict_bad_files_among_good),
    Check('predict_missing_path_argument', predict_missing_path_argument),
    Check('predict_symlink_loop_in_folder', predict_symlink_loop_in_folder),
    Check('predict_folder_named_like_an_image', folder_named_like_an_image),
    Check('predict_no_path_argument', predict_no_path_argument),
    Check('predict_resume_csv_with_other_columns', predict_resume_csv_with_other_columns),
    Check('predict_resume_csv_truncated_last_row', predict_resume_csv_truncated_last_row),
    Check('predict_out_is_a_folder', predict_out_is_a_folder),
    Check('predict_non_utf8_file_name', predict_non_utf8_file_name),
    Check('predict_model_weights_truncated', predict_model_weights_truncated),
    Check('predict_model_folder_missing', predict_model_folder_missing),
    Check('predict_model_config_other_m', predict_model_config_other_m),
    Check('predict_model_config_inconsistent_fields', predict_model_config_inconsistent_fields),
    Check('predict_head_only_model_config_other_arch', predict_head_only_model_config_other_arch),
    Check('predict_model_config_lacks_normalize', predict_model_config_lacks_normalize),
    Check('predict_model_weights_not_finite', predict_model_weights_not_finite),
    # aaacov train on AVA-format folders
    Check('train_ava_without_test_list', train_ava_without_test_list),
    Check('train_ava_bad_line', train_ava_bad_line),
    Check('train_emd_on_scores', train_emd_on_scores),
    Check('train_labels_for_the_covariance', train_labels_for_the_covariance),
    Check('train_ava_trains', train_ava_trains),
    # load_model
    Check('model_weights_garbage', model_weights_garbage),
    Check('model_weights_empty', model_weights_empty),
    Check('model_config_other_arch', model_config_other_arch),
    Check('model_config_lacks_arch', model_config_lacks_arch),
    # labels
    Check('labels_nan', label_value_check(4, 'Light', 'nan', 'NaN or infinite')),
    Check('labels_inf_in_attribute_txt', labels_inf_in_attribute_txt),
    Check('labels_score_out_of_range', label_value_check(6, 'score', '1.5', r'score = 1.5 is outside \[0, 1\]')),
    Check('labels_attribute_out_of_range', label_value_check(3, 'DoF', '-1.2', r'DoF = -1.2 is outside \[-1, 1\]')),
    Check('labels_non_numeric', label_value_check(5, 'Object', 'high', "'high', which is not a number")),
    Check('labels_decimal_comma', label_value_check(2, 'Content', '"0,4"', "'0,4', which is not a number")),
    Check('labels_wrong_header', labels_wrong_header),
    Check('labels_semicolon_delimited', labels_semicolon_delimited),
    Check('labels_utf16_encoded', labels_utf16_encoded),
    Check('labels_row_with_extra_field', labels_row_with_extra_field),
    Check('labels_duplicate_rows', labels_duplicate_rows),
    Check('labels_empty_csv', labels_empty_csv),
    Check('labels_header_only_csv', labels_header_only_csv),
    Check('labels_missing_attribute_file', labels_missing_attribute_file),
    Check('labels_extra_rows_across_attribute_files', labels_extra_rows_across_attribute_files),
    Check('labels_missing_image_files', labels_missing_image_files),
    Check('labels_val_test_leak', labels_val_test_leak),
    Check('labels_dataframe_with_inf', labels_dataframe_with_inf),
    # aaacov train
    Check('train_val_test_leak', train_val_test_leak),
    Check('train_corrupt_training_image', train_corrupt_training_image),
    Check('train_no_images_found', train_no_images_found),
    Check('train_data_folder_missing', train_data_folder_missing),
    Check('train_label_out_of_range', train_label_out_of_range),
    Check('train_non_finite_loss_batch', train_non_finite_loss_batch),
    Check('train_damaged_checkpoint', train_damaged_checkpoint),
    # >>> issue 13, the data side (synth, progress, FIFO/device/socket, label lines, duplicated columns, photo formats) >>>
    Check('synth_overwrite_web_app_folder', synth_overwrite_web_app_folder),
    Check('synth_manifest_not_a_json_object', synth_manifest_not_a_json_object),
    Check('synth_dest_is_a_file', synth_dest_is_a_file),
    Check('synth_overwrite_own_dataset_with_user_files', synth_overwrite_own_dataset_with_user_files),
    Check('synth_no_progress_bars_in_logs', synth_no_progress_bars_in_logs),
    Check('predict_fifo_socket_device_among_inputs', predict_fifo_socket_device_among_inputs),
    Check('load_photo_fifo_socket_device', load_photo_fifo_socket_device),
    Check('walk_images_lists_fifo_without_opening', walk_images_lists_fifo_without_opening),
    Check('labels_line_after_blank_lines', _label_line_check(lambda L: '\n'.join(_x(L[:2] + ['', ''] + L[2:], 5)).encode() + b'\n', 6)),
    Check('labels_line_after_blank_lines_above_header', _label_line_check(lambda L: b'\n\n' + '\n'.join(_x(L, 3)).encode() + b'\n', 6)),
    Check('labels_line_with_crlf', _label_line_check(lambda L: '\r\n'.join(_x(L, 3)).encode() + b'\r\n', 4)),
    Check('labels_line_with_bom', _label_line_check(lambda L: '\ufeff'.encode() + '\n'.join(_x(L, 3)).encode() + b'\n', 4)),
    Check('labels_line_after_quoted_newline', _label_line_check(
        lambda L: '\n'.join(_x([L[0], '"my\nphoto.jpg"' + L[1][L[1].index(','):]] + L[2:], 3)).encode() + b'\n', 5)),
    Check('labels_comment_line', _label_line_check(lambda L: '\n'.join(L[:3] + ['# checked'] + L[3:]).encode() + b'\n', 4,
                                                   match='not a readable CSV row: 1 field')),
    Check('labels_line_txt_unicode_separators', labels_line_txt_unicode_separators),
    Check('labels_duplicate_score_column', labels_duplicate_score_column),
    Check('labels_duplicate_column', labels_duplicate_column),
    Check('predict_jfif_and_jpe', predict_jfif_and_jpe),
    Check('predict_heic_without_decoder', predict_heic_without_decoder),
    Check('predict_avif', predict_avif),
    # <<< issue 13, the data side <<<
    # >>> issue 13, outputs, results files, model folders, the report >>>
    Check('predict_out_is_a_users_file', predict_out_is_a_users_file),
    Check('predict_out_same_as_report', predict_out_same_as_report),
    Check('predict_report_is_a_folder', predict_report_is_a_folder),
    Check('predict_report_over_a_users_file', predict_report_over_a_users_file),
    Check('predict_out_device', predict_out_device),
    Check('predict_out_folder_missing', predict_out_folder_missing),
    Check('predict_out_disk_full', predict_out_disk_full),
    Check('predict_out_read_only_folder', predict_out_read_only_folder),
    Check('predict_resume_with_another_model', predict_resume_with_another_model),
    Check('predict_resume_cut_inside_quoted_name', predict_resume_cut_inside_quoted_name),
    Check('predict_distinct_non_utf8_names', predict_distinct_non_utf8_names),
    Check('predict_same_file_different_spellings', predict_same_file_different_spellings),
    Check('predict_no_formula_cells', predict_no_formula_cells),
    Check('model_config_zero_std', _config_case(lambda c: c.update(normalize={'mean': [0.5] * 3, 'std': [0, 0, 0]}), 'normalize')),
    Check('model_config_nan_target_std', _config_case(lambda c: c.update(target_std=[float('nan')] * 12), 'target_std')),
    Check('model_config_size_wrong_type', _config_case(lambda c: c.update(size='big'), 'size')),
    Check('model_config_targets_not_a_list', _config_case(lambda c: c.update(targets='score'), 'targets')),
    Check('model_config_deeply_nested', model_config_deeply_nested),
    Check('train_out_is_a_file', _train_case(lambda t: (t.joinpath('f').write_text('x'), ['--out', t/'f'])[1], 'is a file')),
    Check('train_out_users_folder', train_out_users_folder),
    Check('train_bs_zero', _train_case(lambda t: ['--out', t/'m', '--bs', '0'], '--bs')),
    Check('train_epochs_zero', _train_case(lambda t: ['--out', t/'m', '--epochs', '0'], '--epochs')),
    Check('train_epochs_negative', _train_case(lambda t: ['--out', t/'m', '--epochs', '-1'], '--epochs')),
    Check('train_lr_zero', _train_case(lambda t: ['--out', t/'m', '--lr', '0'], '--lr')),
    Check('train_lr_negative', _train_case(lambda t: ['--out', t/'m', '--lr', '-1'], '--lr')),
    Check('report_odd_names_deleted_files_non_utf8', report_odd_names_deleted_files_non_utf8),
    Check('report_few_photos', report_few_photos),
    # <<< issue 13, outputs, results files, model folders, the report <<<
    # >>> issue 14: withheld labels, method parameters, a calibration in a model file >>>
    Check('labels_empty_attribute_cell', label_value_check(3, 'Light', '', 'is empty; if labels were withheld on purpose, read with allow_missing=True')),
    Check('labels_empty_score_even_when_allowed', labels_empty_score_even_when_allowed),
    Check('labels_text_in_attribute_when_gaps_allowed', labels_text_in_attribute_when_gaps_allowed),
    Check('labels_txt_form_unlisted_image', labels_txt_form_unlisted_image),
    Check('train_param_for_a_method_without_one', _train_case(lambda t: ['--out', t/'m', '--loss', 'mse', '--param', 'lowrank'], "takes no parameter(s) ['param']")),
    Check('train_rank_zero', _train_case(lambda t: ['--out', t/'m', '--param', 'lowrank', '--rank', '0'], 'rank')),
    Check('model_config_calibration_wrong_size', _config_case(lambda c: c['loss_params'].update(
        calibration={'pop_cov': [[1.0]], 'shrink': 0.5, 'scale': [1.0]}), 'calibration')),
    Check('model_config_calibration_shrink_out_of_range', _config_case(lambda c: c['loss_params'].update(
        calibration={'pop_cov': np.eye(12).tolist(), 'shrink': 1.5, 'scale': [1.0] * 12}), 'calibration')),
]


assert len(CASES) >= 30 and len({c.id for c in CASES}) == len(CASES) and len({c.name for c in PHOTOS}) == len(PHOTOS)

@pytest.mark.parametrize('case', CASES, ids=[c.id for c in CASES])
def test_bad_input(case, tmp_path, request):
    case.run(tmp_path, request)
