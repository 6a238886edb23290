import os, subprocess, sys, threading
import warnings
from pathlib import Path
import numpy as np, pandas as pd, pytest
from PIL import Image
from aaacov.data import TARGETS

RELEASE = {'train': 'Train', 'valid': 'Validation', 'test': 'TestNew'}

def make_labels(n_per_split=(6, 3, 3), seed=0, prefix='img'):
    "A small valid labels table (fname, split, TARGETS) on AADB's value grid."
    rng = np.random.default_rng(seed)
    rows = []
    for split, n in zip(('train', 'valid', 'test'), n_per_split):
        for i in range(n):
            r = {'fname': f'{prefix}_{split}_{i}.jpg', 'split': split}
            r.update({t: round(float(rng.integers(-5, 6)) / 5, 1) for t in TARGETS[:-1]})
            r['score'] = round(float(rng.integers(0, 21)) / 20, 2)
            rows.append(r)
    return pd.DataFrame(rows)

def write_csv_form(df, dest):
    dest = Path(dest); dest.mkdir(parents=True, exist_ok=True)
    for split, g in df.groupby('split'):
        g.drop(columns='split').rename(columns={'fname': 'ImageFile'}).to_csv(dest/f'imgList{RELEASE[split]}Regression_.csv', index=False)
    return dest

def write_txt_form(df, dest):
    dest = Path(dest); dest.mkdir(parents=True, exist_ok=True)
    for split, g in df.groupby('split'):
        for t in TARGETS:
            (dest/f'imgList{RELEASE[split]}Regression_{t}.txt').write_text(
                ''.join(f'{f} {v:g}\n' for f, v in zip(g.fname, g[t])))
    return dest

def write_images(df, root, size=(40, 30)):
    root = Path(root); root.mkdir(parents=True, exist_ok=True)
    for i, f in enumerate(df.fname):
        Image.new('RGB', size if i % 2 else size[::-1], (int(255 * df.score.iat[i]), 80, 160)).save(root/f)
    return root

@pytest.fixture
def labels(): return make_labels()

@pytest.fixture
def quiet():
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        yield

@pytest.fixture(autouse=True, scope='session')
def _private_cache(tmp_path_factory):
    "Resized-image and feature caches of the tests go to a fresh folder, never the user's ~/.cache."
    import os
    old = os.environ.get('AAACOV_CACHE')
    os.environ['AAACOV_CACHE'] = str(tmp_path_factory.mktemp('aaacov-cache'))
    yield
    if old is None: os.environ.pop('AAACOV_CACHE', None)
    else: os.environ['AAACOV_CACHE'] = old

def bounded(f, seconds=20):
    "`f()` in a daemon thread: its result, its exception, or a failure (never a hang) if it still waits after `seconds`."
    out = {}
    def run():
        try: out['result'] = f()
        except BaseException as e: out['error'] = e
    t = threading.Thread(target=run, daemon=True); t.start(); t.join(seconds)
    if t.is_alive(): pytest.fail(f"still waiting after {seconds}s: the file was opened", pytrace=False)
    if 'error' in out: raise out['error']
    return out.get('result')

def small_photos(dest, thumb=None):
    "Three real photos (scikit-image) and a broken file in `dest`: what the predict/report tests score."
    from skimage import data
    dest = Path(dest)
    for name in ('astronaut', 'coffee', 'chelsea'):
        im = Image.fromarray(getattr(data, name)())
        if thumb: im.thumbnail((thumb, thumb))
        im.save(dest/f'{name}.jpg', quality=90)
    (dest/'broken.jpg').write_bytes(b'not a jpeg')
    return dest

def predict_csv_report(model, photos, tmp_path, name):
    "`aaacov predict` with a report: (CSV rows as read by csv, the CSV as a DataFrame, the report's HTML)."
    import csv
    from aaacov.cli import main
    out, rep = Path(tmp_path)/f'{name}.csv', Path(tmp_path)/f'{name}.html'
    assert main(['predict', str(photos), '--model', str(model), '--out', str(out), '--report', str(rep), '--quiet', '--bs', '2']) in (0, None)
    with open(out, newline='', encoding='utf-8') as f: rows = list(csv.reader(f))
    return rows, pd.read_csv(out), rep.read_text(encoding='utf-8')

def aaacov_cli(*args, check:bool=True, timeout:int=900) -> subprocess.CompletedProcess:
    "Run the `aaacov` command of this environment (matplotlib headless); with `check`, its exit status must be 0."
    r = subprocess.run([str(Path(sys.executable).parent/'aaacov'), *map(str, args)], capture_output=True, text=True, timeout=timeout,
                       env={**os.environ, 'MPLBACKEND': 'Agg'})
    if check: assert r.returncode == 0, r.stderr[-3000:]
    return r

def pytest_configure(config):
    "Under pytest-xdist (`make test` runs a worker per core), each worker and the commands it starts use one thread: two workers share the two cores instead of fighting over them."
    if os.environ.get('PYTEST_XDIST_WORKER'):
        import torch
        torch.set_num_threads(1)
        os.environ['OMP_NUM_THREADS'] = '1'
