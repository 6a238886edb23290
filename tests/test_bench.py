"Every benchmark runs end to end at a tiny size and prints its ratio as the last line (no timing is asserted: benchmarks are not tests)."
import re, subprocess, sys
from pathlib import Path
import pytest

ROOT = Path(__file__).resolve().parents[1]
TINY = {
    'head_fit.py': ['--n', '300', '--valid', '60', '--dim', '64', '--epochs', '2', '--repeats', '1', '--size', '64', '--img-bs', '4'],
    'flops.py': ['--size', '64', '--bs', '2', '--rounds', '1', '--mm-sizes', '256'],
    'train_pipeline.py': ['--size', '64', '--bs', '8', '--n', '16', '--rounds', '1', '--photo-size', '160x120'],
    'inference.py': ['--n', '8', '--rounds', '1', '--bs', '4', '--photo-size', '160x120'],
    'predict_memory.py': ['--n-small', '20', '--n-large', '40', '--unique', '10', '--image-size', '64x48'],
}

def test_every_benchmark_is_covered():
    assert {p.name for p in (ROOT/'bench').glob('*.py')} - {'cov_vs_mse.py'} == set(TINY)

@pytest.mark.parametrize('script', sorted(TINY))
def test_bench_runs_and_prints_a_ratio_last(script, tmp_path):
    r = subprocess.run([sys.executable, str(ROOT/'bench'/script), *TINY[script]], capture_output=True, text=True, timeout=900,
                       cwd=tmp_path)
    assert r.returncode == 0, r.stderr[-3000:]
    last = r.stdout.strip().splitlines()[-1]
    assert re.fullmatch(r'[^:]+: [0-9.]+x', last), last
