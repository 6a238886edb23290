"""Every benchmark runs end to end at a tiny size and prints its ratio as the last line (no timing is asserted: benchmarks
are not tests), and records nothing unless asked: `--record` is what writes nbs/results.json, only at the default sizes."""
import argparse, importlib.util, json, os, re, subprocess, sys
from pathlib import Path
import pytest

ROOT = Path(__file__).resolve().parents[1]
TINY = {
    'cov_vs_mse.py': ['--size', '32', '--bs', '2', '--steps', '1'],
    'head_fit.py': ['--n', '300', '--valid', '60', '--dim', '64', '--epochs', '2', '--repeats', '1', '--size', '64', '--img-bs', '4'],
    'flops.py': ['--size', '64', '--bs', '2', '--rounds', '1', '--mm-sizes', '256'],
    'train_pipeline.py': ['--size', '64', '--bs', '8', '--n', '16', '--rounds', '1', '--photo-size', '160x120'],
    'inference.py': ['--n', '8', '--rounds', '1', '--bs', '4', '--photo-size', '160x120'],
    'engines.py': ['--n', '8', '--rounds', '1', '--bs', '4', '--photo-size', '160x120', '--data', 'tiny', '--first-row-n', '2'],
    'predict_memory.py': ['--n-small', '20', '--n-large', '40', '--unique', '10', '--image-size', '64x48'],
}

def _env(tmp_path, **kw):
    "The environment of a benchmark run: results go to a scratch file, and AAACOV_RECORD=1 as if a `make nbs` were running."
    return {**os.environ, 'AAACOV_RESULTS': str(tmp_path/'results.json'), 'AAACOV_RECORD': '1', **kw}

def test_every_benchmark_is_covered():
    assert {p.name for p in (ROOT/'bench').glob('*.py') if not p.name.startswith('_')} == set(TINY)

@pytest.mark.parametrize('script', sorted(TINY))
def test_bench_runs_and_prints_a_ratio_last(script, tmp_path):
    r = subprocess.run([sys.executable, str(ROOT/'bench'/script), *TINY[script]], capture_output=True, text=True, timeout=900,
                       cwd=tmp_path, env=_env(tmp_path))
    assert r.returncode == 0, r.stderr[-3000:]
    last = r.stdout.strip().splitlines()[-1]
    assert re.fullmatch(r'[^:]+: [0-9.]+x', last), last
    assert not (tmp_path/'results.json').exists(), 'a benchmark recorded without --record'

@pytest.mark.parametrize('script', sorted(TINY))
def test_record_refused_off_the_default_sizes(script, tmp_path):
    "A tiny-size number must never land in the README: --record with non-default sizes exits 2 before measuring."
    r = subprocess.run([sys.executable, str(ROOT/'bench'/script), *TINY[script], '--record'], capture_output=True, text=True,
                       timeout=120, cwd=ROOT, env=_env(tmp_path))
    assert r.returncode == 2 and '--record' in r.stderr and 'default' in r.stderr, r.stderr[-2000:]
    assert not (tmp_path/'results.json').exists()

def test_record_all_writes_through_aaacov_results(tmp_path, monkeypatch):
    spec = importlib.util.spec_from_file_location('_bench_record', ROOT/'bench'/'_record.py')
    mod = importlib.util.module_from_spec(spec); spec.loader.exec_module(mod)
    monkeypatch.setenv('AAACOV_RESULTS', str(tmp_path/'results.json'))
    monkeypatch.setenv('AAACOV_RECORD', '')                        # restored after the test (record_all sets it to 1)
    mod.record_all(argparse.Namespace(record=False), {'bench_x': 1.5}, 'bench/x.py')
    assert not (tmp_path/'results.json').exists()
    mod.record_all(argparse.Namespace(record=True), {'bench_x': 1.5, 'bench_y': 0.25}, '/abs/bench/x.py')
    res = json.loads((tmp_path/'results.json').read_text())
    assert {k: (v['value'], v['source']) for k, v in res.items()} == {'bench_x': (1.5, 'bench/x.py'), 'bench_y': (0.25, 'bench/x.py')}
