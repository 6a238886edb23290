"""Build a rehearsal AADB folder: the release's layout and real label files, synthetic pictures under real names.

    python tools/aadb_rehearsal.py DEST [--n 300] [--form csv|txt] [--seed 0]

DEST gets the layout of the AADB release:

    DEST/REHEARSAL.txt              marker: says what this folder is (the notebooks detect it)
    DEST/imgListFiles_label/        the real AADB label files shipped with aaacov (all 9,958 rows)
    DEST/datasetImages_warp256/     N synthetic 256x256 JPEGs saved under real AADB file names

The pictures are `aaacov.scenes.render_scene` drawings whose cues follow each name's real labels, but they are
not the photos: any number computed on this folder is meaningless. Its only use is to run the real-data path
(`read_aadb_labels` -> `match_images` -> training on AADB) end to end where the AADB images are not available.
The names are a deterministic sample of the shipped labels spread over train / valid / test (2/3, 1/6, 1/6;
validation names never among the validation/TestNew overlap); every other labelled image is missing, as
`match_images` reports. Deterministic in (n, seed, form); re-running is idempotent (files already right are
kept, stale ones removed). A non-empty DEST without the marker is refused, so a real AADB folder is never touched.
"""
import argparse, csv, hashlib, io, shutil, sys, warnings
from pathlib import Path

import numpy as np

MARKER = 'REHEARSAL.txt'
LABEL_DIR = 'imgListFiles_label'
IMAGE_DIR = 'datasetImages_warp256'
SIZE = 256  # the release's `warp256` images are 256 x 256
_CSV = {'Train': 'imgListTrainRegression_.csv', 'Validation': 'imgListValidationRegression_.csv',
        'TestNew': 'imgListTestNewRegression_.csv'}


def plan(n:int=300, seed:int=0):
    "-> DataFrame of the `n` chosen rows (`fname`, `split`, TARGETS) of the shipped labels, sorted by split then name."
    import pandas as pd
    from aaacov.data import aadb_labels, SPLITS
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')   # the validation/TestNew overlap is dropped (and reported) by the reader
        labels = aadb_labels()
    n_valid = n_test = max(1, n // 6)
    counts = {'train': max(1, n - n_valid - n_test), 'valid': n_valid, 'test': n_test}
    rng = np.random.default_rng(seed)
    parts = []
    for s in SPLITS:
        rows = labels[labels.split == s].sort_values('fname').reset_index(drop=True)
        if counts[s] > len(rows): raise ValueError(f"n={n} asks for {counts[s]} {s} images; the labels hold {len(rows)}")
        parts.append(rows.iloc[np.sort(rng.choice(len(rows), counts[s], replace=False))])
    return pd.concat(parts, ignore_index=True)


def render(row, seed:int=0) -> bytes:
    "JPEG bytes of the synthetic picture for one labelled row (cues from its labels, layout from its name)."
    from PIL import Image
    from aaacov.data import TARGETS
    from aaacov.scenes import attribute_strengths, render_scene
    mean, cov = _moments()
    u = attribute_strengths(row[TARGETS].to_numpy(dtype=np.float64), mean, np.sqrt(np.diag(cov)))
    name_seed = int.from_bytes(hashlib.sha256(row['fname'].encode()).digest()[:8], 'little')
    im, _ = render_scene(dict(zip(TARGETS, u)), [seed, name_seed])
    buf = io.BytesIO()
    im.resize((SIZE, SIZE), Image.BILINEAR).save(buf, format='JPEG', quality=90)
    return buf.getvalue()

_MOMENTS = None
def _moments():
    global _MOMENTS
    if _MOMENTS is None:
        from aaacov.scenes import aadb_label_moments
        _MOMENTS = aadb_label_moments()
    return _MOMENTS


def _write(path:Path, data:bytes) -> bool:
    "Write `data` to `path` unless it already holds exactly that; True if written."
    if path.is_file() and path.read_bytes() == data: return False
    tmp = path.with_name(path.name + '.tmp')
    tmp.write_bytes(data); tmp.replace(path)
    return True


def _label_files(form:str) -> dict:
    "{file name: bytes} of the label folder: the shipped CSVs, or the release's per-attribute text files."
    from aaacov.data import aadb_label_dir
    src = aadb_label_dir()
    out = {}
    for release, name in _CSV.items():
        raw = (src/name).read_bytes()
        if form == 'csv': out[name] = raw; continue
        rows = list(csv.reader(io.StringIO(raw.decode('utf-8'))))
        head, body = rows[0], [r for r in rows[1:] if r]
        for j, col in enumerate(head[1:], start=1):   # `<file> <value>` lines, the values as written in the CSV
            out[f"imgList{release}Regression_{col}.txt"] = ''.join(f"{r[0]} {r[j]}\n" for r in body).encode()
    return out


def build(dest, n:int=300, seed:int=0, form:str='csv', quiet:bool=False) -> Path:
    "Write (or bring up to date) the rehearsal folder `dest`; returns its path."
    from aaacov.data import aadb_label_dir
    if form not in ('csv', 'txt'): raise ValueError(f"form must be 'csv' or 'txt', not {form!r}")
    dest = Path(dest)
    if dest.exists() and any(dest.iterdir()) and not (dest/MARKER).is_file():
        raise FileExistsError(f"{dest} is not empty and has no {MARKER}: not a rehearsal folder, left untouched.")
    (dest/LABEL_DIR).mkdir(parents=True, exist_ok=True); (dest/IMAGE_DIR).mkdir(exist_ok=True)
    files = _label_files(form)
    files['LICENSE'] = (aadb_label_dir()/'LICENSE').read_bytes()
    for name, data in files.items(): _write(dest/LABEL_DIR/name, data)
    for p in (dest/LABEL_DIR).iterdir():
        if p.name not in files: p.unlink()
    rows = plan(n, seed)
    want = set(rows.fname)
    written = sum(_write(dest/IMAGE_DIR/r.fname, render(r, seed)) for _, r in rows.iterrows())
    stale = [p for p in (dest/IMAGE_DIR).iterdir() if p.name not in want]
    for p in stale: p.unlink() if p.is_file() else shutil.rmtree(p)
    counts = rows.split.value_counts().reindex(['train', 'valid', 'test']).to_dict()
    _write(dest/MARKER, (
        "AADB REHEARSAL FOLDER: synthetic pictures under real AADB names. Not the AADB photos.\n\n"
        f"Built by tools/aadb_rehearsal.py (n={n}, seed={seed}, form={form}).\n"
        f"{LABEL_DIR}/ holds the real AADB labels shipped with aaacov (all splits, {form} form).\n"
        f"{IMAGE_DIR}/ holds {len(rows)} synthetic 256x256 pictures drawn by aaacov.scenes from each name's labels\n"
        f"(train {counts['train']}, valid {counts['valid']}, test {counts['test']}); every other labelled image is missing.\n"
        "Its only use is to run the real-data (`aadb`) notebook cells end to end: every number computed here is meaningless.\n"
        "The notebooks detect this file and switch to tiny settings.\n").encode())
    if not quiet:
        print(f"{dest}: {len(rows)} pictures ({written} written, {len(stale)} stale removed), "
              f"train {counts['train']} / valid {counts['valid']} / test {counts['test']}; labels as {form}")
    return dest


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('dest', help='folder to create (or update); refused if non-empty without REHEARSAL.txt')
    ap.add_argument('--n', type=int, default=300, help='number of pictures (default 300)')
    ap.add_argument('--seed', type=int, default=0, help='which names and layouts (default 0)')
    ap.add_argument('--form', choices=('csv', 'txt'), default='csv',
                    help="label files: the shipped combined CSVs (default) or the release's per-attribute .txt files")
    a = ap.parse_args(argv)
    if a.n < 3: ap.error('--n must be at least 3 (one image per split)')
    build(a.dest, a.n, a.seed, a.form)


if __name__ == '__main__': sys.exit(main())
