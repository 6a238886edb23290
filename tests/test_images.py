"""Finding images under a root, and opening every kind of image file (or failing with its name): the odd cases on disk,
also entries that are not regular files (FIFO, socket, device: refused, never waited on) and other photo formats.
The ordinary ones (sub-folders, score prefixes, missing images, 16-bit, EXIF, PILPhoto) are checked in nbs/00_data and 01_dataloaders."""
import importlib.util, os, re, shutil, socket, tempfile, threading
from pathlib import Path
import numpy as np, pytest
from PIL import Image, features
from aaacov.data import match_images, index_images, walk_images
from aaacov.dataloaders import load_photo, load_photo_resized, open_image_file, can_decode, ImageCache, PILPhoto, ImageLoadError
from conftest import write_images, bounded

# --- match_images ---------------------------------------------------------------------------------------------

def test_exact_name_wins_over_prefixed(tmp_path, labels):
    f = labels.fname.iat[0]
    Image.new('RGB', (4, 4)).save(tmp_path/f); Image.new('RGB', (4, 4)).save(tmp_path/f'0.5_{f}')
    with pytest.warns(UserWarning):
        m = match_images(labels.iloc[:2], tmp_path)
    assert Path(m.path.iat[0]).name == f

def test_ambiguous_names_warn(tmp_path, labels):
    write_images(labels.iloc[:1], tmp_path/'x'); write_images(labels.iloc[:1], tmp_path/'y')
    with pytest.warns(UserWarning, match='more than once'):
        m = match_images(labels.iloc[:1], tmp_path)
    assert '/x/' in m.path.iat[0]

def test_bad_roots(tmp_path, labels):
    with pytest.raises(FileNotFoundError, match='no such folder'): match_images(labels, tmp_path/'none')
    with pytest.raises(FileNotFoundError, match='no image files'): match_images(labels, tmp_path)

def test_symlink_loop_terminates(tmp_path, labels):
    write_images(labels.iloc[:2], tmp_path/'imgs')
    os.symlink(tmp_path, tmp_path/'imgs'/'loop')
    idx = index_images(tmp_path)
    assert sorted(idx) == sorted(labels.fname.iloc[:2])

def test_unicode_and_spaces_in_names(tmp_path, labels):
    lab = labels.iloc[:2].copy(); lab['fname'] = ['ph oto é.jpg', '写真 1.JPG']
    write_images(lab, tmp_path)
    m = match_images(lab, tmp_path)
    assert [load_photo(p).size for p in m.path] == [(30, 40), (40, 30)]

# --- load_photo -----------------------------------------------------------------------------------------------

def _px(im, xy=(0, 0)): return im.getpixel(xy)

def test_modes_become_8bit_rgb(tmp_path):
    cases = {
        'cmyk.jpg': Image.new('CMYK', (8, 8), (0, 255, 255, 0)),
        'grey.png': Image.new('L', (8, 8), 77),
        'bw.png': Image.new('1', (8, 8), 1),
        'la.png': Image.new('LA', (8, 8), (0, 0)),
        'rgba.png': Image.new('RGBA', (8, 8), (255, 0, 0, 255)),
        'tiny.png': Image.new('RGB', (1, 1), (1, 2, 3)),
        'photo.webp': Image.new('RGB', (8, 8), (0, 0, 250)),
    }
    for name, im in cases.items(): im.save(tmp_path/name)
    out = {n: load_photo(tmp_path/n) for n in cases}
    assert all(im.mode == 'RGB' for im in out.values())
    assert _px(out['cmyk.jpg'])[0] > 200 and _px(out['cmyk.jpg'])[2] < 60
    assert _px(out['grey.png']) == (77, 77, 77) and _px(out['bw.png']) == (255, 255, 255)
    assert _px(out['la.png']) == (255, 255, 255)           # transparent -> white, not black
    assert _px(out['rgba.png']) == (255, 0, 0) and _px(out['tiny.png']) == (1, 2, 3)
    assert _px(out['photo.webp'])[2] > 230

def test_palette_with_transparency(tmp_path):
    p = Image.new('P', (4, 4), 0); p.putpalette([10, 20, 30] + [0] * 765); p.info['transparency'] = 0
    p.save(tmp_path/'p.png', transparency=0)
    assert _px(load_photo(tmp_path/'p.png')) == (255, 255, 255)

def test_animated_gif_first_frame(tmp_path):
    frames = [Image.new('RGB', (6, 6), c) for c in [(255, 0, 0), (0, 0, 255)]]
    frames[0].save(tmp_path/'a.gif', save_all=True, append_images=frames[1:])
    r, g, b = _px(load_photo(tmp_path/'a.gif'))
    assert r > 200 and b < 50

@pytest.mark.parametrize('make,msg', [
    (lambda p: p.write_bytes(b''), 'not an image Pillow can read'),
    (lambda p: p.write_text('hello'), 'not an image Pillow can read'),
    (lambda p: p.write_bytes(b'\xff\xd8\xff\xe0' + os.urandom(500)), 'not an image|cannot decode'),
])
def test_unreadable_files_name_the_file(tmp_path, make, msg):
    p = tmp_path/'bad file.jpg'; make(p)
    with pytest.raises(ImageLoadError, match=msg) as e: load_photo(p)
    assert 'bad file.jpg' in str(e.value)

def test_truncated_jpeg(tmp_path):
    rng = np.random.default_rng(0)
    Image.fromarray(rng.integers(0, 255, (64, 64, 3), dtype=np.uint8)).save(tmp_path/'w.jpg')
    (tmp_path/'t.jpg').write_bytes((tmp_path/'w.jpg').read_bytes()[:1500])
    with pytest.raises(ImageLoadError, match='t.jpg: cannot decode'): load_photo(tmp_path/'t.jpg')

def test_missing_folder_and_bomb(tmp_path, monkeypatch):
    with pytest.raises(ImageLoadError, match='file not found'): load_photo(tmp_path/'x.jpg')
    with pytest.raises(ImageLoadError, match='is a folder'): load_photo(tmp_path)
    Image.new('RGB', (200, 200)).save(tmp_path/'big.png')
    monkeypatch.setattr(Image, 'MAX_IMAGE_PIXELS', 100)
    with pytest.raises(ImageLoadError, match='decompression bomb'): load_photo(tmp_path/'big.png')

def test_unreadable_permissions(tmp_path, monkeypatch):
    Image.new('RGB', (4, 4)).save(tmp_path/'locked.jpg'); os.chmod(tmp_path/'locked.jpg', 0)
    if os.geteuid() == 0:  # root reads files without read permission: make the open fail as it does for a user
        def denied(*a, **k): raise PermissionError(13, 'Permission denied')
        monkeypatch.setattr(Image, 'open', denied)
    with pytest.raises(ImageLoadError, match='locked.jpg: permission denied'): load_photo(tmp_path/'locked.jpg')


# --- entries that are not regular files: refused by name, in bounded time (issue 13) ------------------------------

@pytest.fixture
def specials():
    "A short-named folder (a socket path must fit in 108 bytes) with a FIFO, a socket and a good photo, all named .jpg."
    d = Path(tempfile.mkdtemp(prefix='aaacov-'))
    Image.new('RGB', (8, 6), (10, 200, 30)).save(d/'good.jpg')
    os.mkfifo(d/'pipe.jpg')
    sock = socket.socket(socket.AF_UNIX); sock.bind(str(d/'socket.jpg'))
    yield d
    sock.close(); shutil.rmtree(d, ignore_errors=True)

@pytest.mark.parametrize('loader', ['load_photo', 'load_photo_resized', 'ImageCache.load', 'ImageCache.build', 'PILPhoto.create'])
@pytest.mark.parametrize('name,kind', [('pipe.jpg', 'a FIFO/pipe'), ('socket.jpg', 'a socket'), ('/dev/null', 'a device')])
def test_not_a_regular_file(specials, tmp_path, loader, name, kind):
    p = Path(name) if name.startswith('/') else specials/name
    if not (p.exists() or p.is_socket()): pytest.skip(f'{p} does not exist here')
    call = {'load_photo': lambda: load_photo(p), 'load_photo_resized': lambda: load_photo_resized(p, 16),
            'ImageCache.load': lambda: ImageCache(16, tmp_path/'cache').load(p),
            'ImageCache.build': lambda: ImageCache(16, tmp_path/'cache').build([specials/'good.jpg', p], progress=False),
            'PILPhoto.create': lambda: PILPhoto.create(p)}[loader]
    with pytest.raises(ImageLoadError, match=re.escape(f'not a regular file (a FIFO/pipe, device or socket: this is {kind}); skipped')) as e:
        bounded(call)
    assert str(p) in str(e.value)

def test_fifo_swapped_in_after_the_stat_is_not_waited_on(specials, monkeypatch):
    "The entry is a regular file when looked at, a FIFO when opened: the non-blocking open and fstat still refuse it."
    import aaacov.dataloaders as dl
    real_stat = os.stat
    monkeypatch.setattr(dl.os, 'stat', lambda p, *a, **k: real_stat(specials/'good.jpg', *a, **k))   # the look sees a photo
    with pytest.raises(ImageLoadError, match='not a regular file'): bounded(lambda: open_image_file(specials/'pipe.jpg'))

def test_symlink_to_a_fifo(specials):
    os.symlink('pipe.jpg', specials/'link.jpg')
    with pytest.raises(ImageLoadError, match='link.jpg: not a regular file'): bounded(lambda: load_photo(specials/'link.jpg'))

def test_walk_lists_a_fifo_without_opening_it(specials):
    found = bounded(lambda: [p.name for p in walk_images(specials)])
    assert found == ['good.jpg', 'pipe.jpg', 'socket.jpg']   # listed, so that a caller records each as skipped

# --- other photo file names: .jfif/.jpe are JPEGs; HEIC/AVIF read with a decoder, else named with the fix -------------

def test_jfif_and_jpe_are_found_and_read(tmp_path, labels):
    lab = labels.iloc[:2].copy(); lab['fname'] = ['a.jfif', 'b.JPE']
    write_images(lab, tmp_path)
    m = match_images(lab, tmp_path)
    assert [Path(p).name for p in m.path] == ['a.jfif', 'b.JPE']
    assert [load_photo(p).size for p in m.path] == [(30, 40), (40, 30)]

def _fake_heic(p): p.write_bytes(b'\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic' + bytes(64))

@pytest.mark.parametrize('name', ['photo.heic', 'PHOTO.HEIF'])
def test_heic_without_a_decoder_names_the_package(tmp_path, name):
    if can_decode('.heic'): pytest.skip('pillow-heif is installed here')
    _fake_heic(tmp_path/name)
    assert [p.name for p in walk_images(tmp_path)] == [name]   # not silently skipped by the walk
    with pytest.raises(ImageLoadError, match='a HEIC/HEIF image, which the installed Pillow cannot decode; skipped. '
                                             'To read such photos: pip install pillow-heif') as e: load_photo(tmp_path/name)
    assert str(tmp_path/name) in str(e.value)
    with pytest.raises(ImageLoadError, match='pip install pillow-heif'): load_photo_resized(tmp_path/name, 16)

def test_heic_that_is_really_a_jpeg_is_read(tmp_path):
    Image.new('RGB', (6, 4), (200, 30, 40)).save(tmp_path/'photo.heic', 'JPEG')   # some phones' exports
    assert load_photo(tmp_path/'photo.heic').size == (6, 4)

def test_avif(tmp_path):
    if can_decode('.avif'):
        Image.new('RGB', (6, 4), (200, 30, 40)).save(tmp_path/'photo.avif')
        assert np.abs(np.subtract(load_photo(tmp_path/'photo.avif').getpixel((3, 2)), (200, 30, 40))).max() <= 6
    else:
        (tmp_path/'photo.avif').write_bytes(b'\x00\x00\x00\x1cftypavif\x00\x00\x00\x00avifmif1miaf' + bytes(64))
        with pytest.raises(ImageLoadError, match='an AVIF image, .* pip install pillow-avif-plugin'): load_photo(tmp_path/'photo.avif')
    assert can_decode('.avif') == ('avif' in features.get_supported_modules() or importlib.util.find_spec('pillow_avif') is not None)
