"The project itself: the two commands, CI, nbdev 3 layout, the demo command."
import os, re, subprocess, sys, tomllib
from pathlib import Path
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]

def test_readme_starts_with_the_two_commands():
    text = (ROOT/'README.md').read_text()
    first_block = re.search(r'```sh\n(.*?)```', text, re.S)[1]
    assert [l.split('#')[0].strip() for l in first_block.strip().splitlines()] == ['make demo', 'make test']
    assert text.index('make demo') < 600

def test_ci_runs_the_readme_test_command():
    lines = [l.strip() for l in (ROOT/'.ci'/'run').read_text().splitlines()]
    assert 'set -euo pipefail' in lines and 'make test' in lines

def test_makefile_targets_depend_on_setup():
    mk = (ROOT/'Makefile').read_text()
    for target in ('demo', 'test'): assert re.search(rf'^{target}: setup\b', mk, re.M), target

def test_nbdev3_layout():
    cfg = tomllib.loads((ROOT/'pyproject.toml').read_text())
    assert 'nbdev' in cfg['tool'] and set(cfg['tool']['nbdev']['tst_flags'].split()) >= {'slow', 'aadb'}
    assert not (ROOT/'settings.ini').exists() and not (ROOT/'setup.py').exists()
    nbs = sorted(p.name for p in (ROOT/'nbs').glob('*.ipynb'))
    assert 'index.ipynb' in nbs and all(re.match(r'\d\d_', n) for n in nbs if n != 'index.ipynb')
    deps = ' '.join(cfg['project']['dependencies'])
    for pkg in ('torch', 'torchvision', 'fastai', 'pandas', 'matplotlib', 'scipy', 'safetensors'): assert pkg in deps

def test_demo_command_writes_its_outputs(tmp_path):
    r = subprocess.run([sys.executable, '-m', 'aaacov.demo', '--out', str(tmp_path/'out'), '--preset', 'tiny', '--size', '64'],
                       capture_output=True, text=True, timeout=300,
                       env={**os.environ, 'MPLBACKEND': 'Agg', 'AAACOV_DATA': str(tmp_path/'cache')})
    assert r.returncode == 0, r.stderr
    names = sorted(p.name for p in (tmp_path/'out').iterdir())
    assert names == ['label_corr.csv', 'label_corr.png', 'label_hists.png', 'label_stats.csv', 'model', 'split_sizes.csv',
                     'synthetic_gallery.png', 'synthetic_noise_ceiling.csv', 'synthetic_vs_real_corr.png',
                     'test_predictions.png', 'test_srcc.csv']
    assert sorted(p.name for p in (tmp_path/'out'/'model').iterdir()) == ['config.json', 'model.safetensors']
    srcc = pd.read_csv(tmp_path/'out'/'test_srcc.csv', index_col=0)
    assert list(srcc.columns) == ['SRCC', 'PLCC', 'KRCC', 'noise ceiling'] and srcc.index[-1] == 'average'
    assert len(list((tmp_path/'cache').glob('synthetic-tiny-seed0/images/*.jpg'))) == 64
    assert pd.read_csv(tmp_path/'out'/'split_sizes.csv', index_col=0)['images'].tolist() == [8458, 373, 1000]
    assert (tmp_path/'out'/'label_corr.png').read_bytes()[:4] == b'\x89PNG'
    assert 'Dropped 127 validation image(s)' in r.stdout

def test_demo_help():
    r = subprocess.run([sys.executable, '-m', 'aaacov.demo', '--help'], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0 and '--out' in r.stdout
