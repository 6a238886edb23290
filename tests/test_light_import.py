"""Loading a saved model folder and scoring photos never imports fastai, scikit-learn or matplotlib (seconds and
hundreds of MB at start-up): checked in a fresh interpreter for the packaged model and for model folders of the
methods with a head of their own (Kong et al.'s, PEAR's) or a multi-block body (Malu et al.'s), saved here."""
import json, subprocess, sys
from pathlib import Path
import numpy as np
from PIL import Image

HEAVY = ('fastai', 'sklearn', 'matplotlib')

SCORE = """
import json, sys
from pathlib import Path
from aaacov.inference import Predictor, predict_files, default_model_dir
photos, out, dirs = Path(sys.argv[1]), Path(sys.argv[2]), [default_model_dir()] + [Path(d) for d in sys.argv[3:]]
rows = {}
for i, d in enumerate(dirs):
    pred = Predictor(d)
    mu = pred(sorted(photos.glob('*.jpg')))['mu']
    counts = predict_files([photos], d, out/f'{i}.csv', progress=False)
    rows[d.name] = [len(mu), len(pred.outputs), counts['ok'], counts['skipped']]
print(json.dumps({'rows': rows, 'heavy': sorted({m.split('.')[0] for m in sys.modules} & set(%r))}))
""" % (HEAVY,)

def _model_folders(root:Path) -> list:
    "Tiny model folders (untrained heads, size 64, body not saved) of 'kong', 'pear' and 'malu' on the synthetic tiny set."
    from aaacov.dataloaders import aadb_dataloaders
    from aaacov.learner import cov_learner
    from aaacov.methods import get_method, standardize_mask
    from aaacov.modelfiles import save_model_folder
    from aaacov.synthetic import synthetic_dataset
    from aaacov.train import read_training_data
    syn, out = synthetic_dataset('tiny', progress=False), []
    for name in ('kong', 'pear', 'malu'):
        meth = get_method(name)
        labels, targets = read_training_data(syn, loss=name)
        dls = aadb_dataloaders(labels, targets=targets, size=64, bs=16, standardize=standardize_mask(meth, targets),
                               allow_missing=meth.missing, num_workers=0, progress=False)
        out.append(save_model_folder(cov_learner(dls, 'mobilenet_v2', loss=name), root/name, include_body=False))
    return out

def test_scoring_imports_no_fastai_sklearn_matplotlib(tmp_path):
    photos = tmp_path/'photos'; photos.mkdir()
    rng = np.random.default_rng(0)
    for i in range(3): Image.fromarray(rng.integers(0, 256, (48 + 8 * i, 64, 3), dtype=np.uint8)).save(photos/f'p{i}.jpg')
    dirs = _model_folders(tmp_path/'models')
    r = subprocess.run([sys.executable, '-W', 'ignore', '-c', SCORE, str(photos), str(tmp_path), *map(str, dirs)],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-3000:]
    res = json.loads(r.stdout.strip().splitlines()[-1])
    assert res['heavy'] == [], f"loading and scoring a model imported {res['heavy']}"
    assert set(res['rows']) == {'synthetic-mobilenet_v2', 'kong', 'pear', 'malu'}
    for name, (n_mu, n_out, ok, skipped) in res['rows'].items():
        assert (n_mu, ok, skipped) == (3, 3, 0) and n_out >= 1, (name, res['rows'][name])
