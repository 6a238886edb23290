"""Execute notebooks top to bottom and save their outputs, as a reader will see them (`make nbs`).

Runs each notebook in a fresh IPython shell (execnb), with fastprogress in notebook mode so training tables render as
HTML, then keeps only the final state of progress displays (execnb records every update of a live display).
Cells flagged `aadb` run only when AADB_PATH is set.
Sets AAACOV_RECORD=1, so that the `aaacov.results.record(...)` calls in the notebooks write the numbers they measure to
nbs/results.json (the README's tables are filled from it); `nbdev-test` / `make test` run without it and write nothing.
Usage: python tools/run_nbs.py [nbs/07_losses.ipynb ...]   (default: every notebook in nbs/)
"""
import json, os, sys, time, warnings
from pathlib import Path
from execnb.shell import CaptureShell
from aaacov.results import load_results

ROOT = Path(__file__).resolve().parents[1]
SETUP = '''
import warnings; warnings.filterwarnings('ignore', category=FutureWarning, module='torch.jit')
import matplotlib; matplotlib.use("Agg")
%matplotlib inline
import fastprogress.fastprogress as _fp
_fp.IN_NOTEBOOK = True
_fp.master_bar, _fp.progress_bar = _fp.NBMasterBar, _fp.NBProgressBar
try:
    import fastai.callback.progress as _fcp
    _fcp.master_bar, _fcp.progress_bar = _fp.NBMasterBar, _fp.NBProgressBar
except ImportError: pass
'''

def _html(o): return ''.join(o.get('data', {}).get('text/html', ''))

def tidy_outputs(nb_path):
    "Drop intermediate progress-bar displays and empty HTML displays; keep the last training table of each cell."
    nb = json.loads(Path(nb_path).read_text())
    for c in nb['cells']:
        outs = c.get('outputs', [])
        keep = []
        for i, o in enumerate(outs):
            h = _html(o)
            if o.get('output_type') == 'display_data' and 'text/html' in o.get('data', {}):
                if not h.strip() or '<progress' in h: continue
                nxt = [p for p in outs[i + 1:] if 'fastprogress' in _html(p) and '<progress' not in _html(p)]
                if 'class="fastprogress"' in h and nxt: continue      # a later, fuller table follows
            keep.append(o)
        c['outputs'] = keep
    Path(nb_path).write_text(json.dumps(nb, indent=1, ensure_ascii=False) + '\n')

def _skip(cell):
    "Cells flagged `aadb` need real AADB images: run them only when AADB_PATH is set (their old outputs are cleared)."
    if cell.cell_type == 'code' and any(l.strip() in ('#| aadb', '#|aadb') for l in cell.source.splitlines()) \
       and not os.environ.get('AADB_PATH'):
        cell.outputs = []
        return True
    return False

def _changed(before, after): return sorted(k for k in after if before.get(k) != after[k])

def main(paths):
    paths = [Path(p).resolve() for p in paths] or sorted((ROOT/'nbs').glob('*.ipynb'))
    os.environ['AAACOV_RECORD'] = '1'                  # record() writes: these runs are the ones whose outputs are saved
    results = Path(os.environ.get('AAACOV_RESULTS') or ROOT/'nbs'/'results.json')
    for nb in paths:
        before = load_results(results)
        os.chdir(nb.parent)
        t = time.time()
        sh = CaptureShell(path=nb.parent)
        sh.run_cell(SETUP)
        sh.execute(nb, nb, exc_stop=True, preproc=_skip)
        tidy_outputs(nb)
        rec = _changed(before, load_results(results))
        print(f'{nb.name}: executed in {time.time() - t:.1f}s' + (f"; recorded {', '.join(rec)}" if rec else ''), flush=True)

if __name__ == '__main__': main(sys.argv[1:])
