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
    assert sorted(p.name for p in (tmp_path/'out'/'model').iterdir()) == ['config.json', 'model.safetensors', 'test_scores.csv']
    srcc = pd.read_csv(tmp_path/'out'/'test_srcc.csv', index_col=0)
    assert list(srcc.columns) == ['SRCC', 'PLCC', 'KRCC', 'noise ceiling'] and srcc.index[-1] == 'average'
    assert len(list((tmp_path/'cache').glob('synthetic-tiny-seed0/images/*.jpg'))) == 64
    assert pd.read_csv(tmp_path/'out'/'split_sizes.csv', index_col=0)['images'].tolist() == [8458, 373, 1000]
    assert (tmp_path/'out'/'label_corr.png').read_bytes()[:4] == b'\x89PNG'
    assert 'Dropped 127 validation image(s)' in r.stdout

def test_demo_help():
    r = subprocess.run([sys.executable, '-m', 'aaacov.demo', '--help'], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0 and '--out' in r.stdout

def _readme_tool():
    import importlib.util
    spec = importlib.util.spec_from_file_location('_readme_tool', ROOT/'tools'/'readme.py')
    mod = importlib.util.module_from_spec(spec); spec.loader.exec_module(mod)
    return mod

def test_readme_placeholders_have_recorded_results():
    "Every `{{key}}` in index.ipynb's markdown names a finite number in nbs/results.json, recorded by a file of this repo."
    import json, math
    from aaacov.results import placeholders, load_results
    nb = json.loads((ROOT/'nbs'/'index.ipynb').read_text(encoding='utf-8'))
    keys = {k for c in nb['cells'] if c['cell_type'] == 'markdown' for k, _ in placeholders(''.join(c['source']))}
    assert keys, 'no placeholder in nbs/index.ipynb: the README tables are typed by hand again'
    results = load_results(ROOT/'nbs'/'results.json')
    assert not keys - set(results), f'placeholders without a recorded result: {sorted(keys - set(results))}'
    for k in keys:
        e = results[k]
        assert set(e) == {'value', 'source', 'recorded'} and math.isfinite(e['value']), (k, e)
        assert (ROOT/e['source']).is_file() and re.fullmatch(r'\d{4}-\d\d-\d\d', e['recorded']), (k, e)

def test_readme_is_what_readme_py_renders_now():
    "Also checked (by rewriting) in tools/check_sync.py; here without writing, so a plain `pytest` catches a stale README too."
    tool = _readme_tool()
    assert (ROOT/'README.md').read_text(encoding='utf-8') == tool.render(ROOT/'nbs'/'index.ipynb'), \
        'README.md is stale: run `python tools/readme.py` (values come from nbs/results.json)'

def test_readme_py_fills_placeholders_and_fails_on_unknown_keys(tmp_path, monkeypatch):
    import json
    tool = _readme_tool()
    md = lambda s: {'cell_type': 'markdown', 'metadata': {}, 'source': s}
    (tmp_path/'nbs').mkdir()
    nb = tmp_path/'nbs'/'index.ipynb'
    nb.write_text(json.dumps({'cells': [md('| a | {{bench_x:.2f}}× | {{n}} |'), md('{{missing_key:.3f}}')]}))
    (tmp_path/'nbs'/'results.json').write_text(json.dumps(
        {'bench_x': {'value': 1.5678, 'source': 'bench/x.py', 'recorded': '2025-01-01'}, 'n': {'value': 3, 'source': 'x', 'recorded': 'x'}}))
    monkeypatch.setattr(tool, 'ROOT', tmp_path); monkeypatch.setattr(tool, 'RESULTS', tmp_path/'nbs'/'results.json')
    msg = tool.main()                                  # sys.exit(msg): exit code 1
    assert isinstance(msg, str) and "'missing_key'" in msg and 'nbs/index.ipynb' in msg
    assert not (tmp_path/'README.md').exists()
    nb.write_text(json.dumps({'cells': [md('| a | {{bench_x:.2f}}× | {{n}} |')]}))
    assert tool.main() is None and (tmp_path/'README.md').read_text() == '| a | 1.57× | 3 |\n'
    monkeypatch.setenv('AAACOV_RESULTS', str(tmp_path/'elsewhere.json'))   # the README reads nbs/results.json, never $AAACOV_RESULTS
    assert tool.main() is None and (tmp_path/'README.md').read_text() == '| a | 1.57× | 3 |\n'
