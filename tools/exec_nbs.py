"""Execute every notebook top to bottom as a user's Jupyter would (`make run-nbs`; `.ci/run` calls it).

Each notebook of nbs/ (or those named) is copied into a scratch folder and run there by nbclient with the `python3`
kernel that `make setup` registers for .venv, every cell included (slow ones too; `aadb` cells run when AADB_PATH is
set and print that they skip otherwise). The tracked notebooks are never rewritten, and nothing is recorded into
nbs/results.json (AAACOV_RECORD is unset). Stops at the first error, naming the notebook and the cell.
Usage: python tools/exec_nbs.py [nbs/05_synthetic.ipynb ...]
"""
import os, shutil, sys, tempfile, time
from pathlib import Path
import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

ROOT = Path(__file__).resolve().parents[1]

def run(nb_path:Path, scratch:Path) -> float:
    "Execute the scratch copy of `nb_path`; returns seconds; raises SystemExit naming the cell on an error."
    nb = nbformat.read(scratch/nb_path.name, as_version=4)
    t = time.time()
    client = NotebookClient(nb, timeout=3600, kernel_name='python3', resources={'metadata': {'path': str(scratch)}})
    try: client.execute()
    except CellExecutionError as e:
        sys.exit(f"exec_nbs: {nb_path.relative_to(ROOT)} failed:\n{str(e)[-3000:]}")
    return time.time() - t

def main(names):
    os.environ.pop('AAACOV_RECORD', None)   # a user's run records nothing
    os.environ.setdefault('MPLBACKEND', 'Agg')
    paths = [Path(n).resolve() for n in names] or sorted((ROOT/'nbs').glob('*.ipynb'))
    with tempfile.TemporaryDirectory(prefix='aaacov-nbs-') as d:
        scratch = Path(d)/'nbs'
        shutil.copytree(ROOT/'nbs', scratch)
        shutil.copy(ROOT/'pyproject.toml', scratch.parent)   # the scratch copy is a checkout too (aaacov.results finds its root)
        total = time.time()
        for p in paths: print(f"{p.name}: {run(p, scratch):.0f}s", flush=True)
    print(f"exec_nbs: {len(paths)} notebooks ran top to bottom in {time.time() - total:.0f}s "
          f"({'with' if os.environ.get('AADB_PATH') else 'without'} AADB_PATH)")

if __name__ == '__main__': main(sys.argv[1:])
