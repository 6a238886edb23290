"""Fail when the notebooks and what is committed disagree.

Runs `nbdev-export`, `nbdev-clean` and `tools/readme.py`, and fails (exit 1, listing the files) if any
of them changed a file under aaacov/, nbs/ or README.md. The rewritten files are left in place so that
a developer can review and commit them; in CI (a clean clone) this means the submission is out of sync.
"""
import hashlib, subprocess, sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent

def snapshot():
    files = [ROOT/'README.md', *ROOT.glob('aaacov/**/*.py'), *ROOT.glob('nbs/**/*.ipynb'), *ROOT.glob('nbs/**/*.yml')]
    return {str(f.relative_to(ROOT)): hashlib.sha256(f.read_bytes()).hexdigest()
            for f in files if f.is_file() and '.ipynb_checkpoints' not in f.parts}

def run(*cmd):
    r = subprocess.run(cmd, cwd=ROOT)
    if r.returncode: sys.exit(f'check_sync: `{" ".join(map(str, cmd))}` failed with exit code {r.returncode}')

def main():
    before = snapshot()
    run(BIN/'nbdev-export')
    run(BIN/'nbdev-clean')
    run(sys.executable, ROOT/'tools'/'readme.py')
    after = snapshot()
    changed = sorted(k for k in before.keys() | after.keys() if before.get(k) != after.get(k))
    if changed:
        print('check_sync: FAILED: nbdev-export / nbdev-clean / tools/readme.py changed these files, so the '
              'notebooks (the source) and the committed package/README disagreed:', *changed, sep='\n  ', file=sys.stderr)
        print('Review the rewritten files and commit them (edit nbs/*.ipynb, never aaacov/*.py).', file=sys.stderr)
        return 1
    print(f'check_sync: notebooks, package and README agree ({len(after)} files checked)')

if __name__ == '__main__': sys.exit(main())
