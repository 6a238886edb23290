"""`aaacov predict` and `--report` with a gated (content-adaptive) method: a decoder that returns `gates` (n x K, rows
summing to 1) gets `gate_1..gate_K` columns after every other one, resumes, and a sentence and bar chart per photo in
the report; a method without gates keeps exactly the old header."""
import csv, json, shutil
import numpy as np, pandas as pd, pytest, torch
from PIL import Image
from conftest import make_labels, write_images, small_photos, predict_csv_report
from aaacov.data import TARGETS

TOY, K, NAMES = 'test-gated', 3, ['landscape-like', 'portrait-like', 'object-like']
GATES = [f'gate_{k}' for k in range(1, K + 1)]
OUT = ['Light', 'score']

def _decode(raw, m, mean, std, groups=K):
    "K branches of m values mixed by the softmax of K gate logits (the shape of Kong et al.'s content-adaptive decoder)."
    raw = raw.double(); g = torch.softmax(raw[:, m * groups:], 1)
    mu = torch.einsum('nk,nkm->nm', g, raw[:, :m * groups].reshape(-1, groups, m)).numpy() * std + mean
    return {'mu': mu, 'sigma': None, 'cov': None, 'corr': None, 'gates': g.numpy()}

@pytest.fixture(scope='module')
def models(tmp_path_factory):
    """A toy gated method, registered for this module only; untrained 32 px heads on the local ImageNet MobileNetV2 (head
    only saved) for two targets: the gated model with and without group names, and the same data with the MSE method."""
    from fastai.losses import MSELossFlat
    from aaacov.methods import Method, register_method, METHODS
    from aaacov.dataloaders import aadb_dataloaders
    from aaacov.learner import cov_learner
    from aaacov.modelfiles import save_model_folder
    register_method(Method(TOY, 'test: K score branches weighed by K content gates', n_out=lambda m, groups, **p: (m + 1) * groups,
                           loss=lambda targets, **p: MSELossFlat(), decode=_decode, defaults={'groups': K},
                           outputs=lambda targets, **p: list(targets)))
    try:
        d = tmp_path_factory.mktemp('gated-models')
        labels = make_labels()
        write_images(labels, d/'images')
        dls = aadb_dataloaders(labels, root=d/'images', targets=OUT, size=32, bs=4, standardize=True, num_workers=0, progress=False)
        torch.manual_seed(0)
        learn = cov_learner(dls, 'mobilenet_v2', loss=TOY)
        out = {'plain': save_model_folder(learn, d/'plain', include_body=False)}   # no group_names: 'group 1'..'group K'
        learn.aaacov_config['group_names'] = NAMES
        out['named'] = save_model_folder(learn, d/'named', include_body=False)
        out['mse'] = save_model_folder(cov_learner(dls, 'mobilenet_v2', loss='mse'), d/'mse', include_body=False)
        yield out
    finally: METHODS.pop(TOY, None)

@pytest.fixture(scope='module')
def photos(tmp_path_factory): return small_photos(tmp_path_factory.mktemp('photos'), thumb=96)

_predict = predict_csv_report

def test_predictor_exposes_the_groups(models, photos):
    from aaacov.inference import Predictor
    named, plain, mse = Predictor(models['named']), Predictor(models['plain']), Predictor(models['mse'])
    assert (named.outputs, named.ratings, named.groups) == (OUT, None, NAMES)
    assert plain.groups == ['group 1', 'group 2', 'group 3'] and mse.groups is None
    g = named([photos/'coffee.jpg', photos/'astronaut.jpg'])['gates']
    assert g.shape == (2, K) and np.allclose(g.sum(1), 1) and not np.allclose(g[0], g[1])   # photo-dependent weights

def test_gated_csv_and_report(models, photos, tmp_path):
    rows, res, html = _predict(models['named'], photos, tmp_path, 'named')
    assert rows[0] == ['file', 'status', *OUT, *[f'sigma_{t}' for t in OUT], *GATES]   # the gates last, all else in place
    assert all(len(r) == len(rows[0]) for r in rows)                   # the skipped row too: empty cells, same width
    ok = res[res.status == 'ok']
    assert len(ok) == 3 and res.status.str.startswith('skipped').sum() == 1
    assert res.loc[res.status != 'ok', GATES].isna().all().all() and ok[[f'sigma_{t}' for t in OUT]].isna().all().all()
    g = ok[GATES].to_numpy()
    assert (g > 0).all() and np.allclose(g.sum(1), 1, atol=1e-4)
    from aaacov.inference import Predictor, key_path
    want = Predictor(models['named'])([key_path(f) for f in ok.file])
    assert np.allclose(g, want['gates'], atol=1e-4) and np.allclose(ok[OUT].to_numpy(), want['mu'], atol=1e-4)
    # the report: per photo the sentence with the dominant group's name, number and weight, and a chart of the K weights
    assert html.count('<section class=card>') == 3 and html.count('<figure class=gates>') == 3
    assert html.count("aria-label='content group weights'") == 3 and html.count('<rect ') == 2 * K * 3
    for w in g:
        k = int(w.argmax())
        assert f"Scored mostly as a {NAMES[k]} photo (content group {k + 1}, weight {w[k]:.2f})." in html
    assert all(html.count(f">{n}</text>") == 3 for n in NAMES)   # every bar labelled with its group's name
    assert '<figure class=dist>' not in html and '<script' not in html and "src='http" not in html

def test_unnamed_groups_in_the_report(models, photos, tmp_path):
    _, res, html = _predict(models['plain'], photos, tmp_path, 'plain')
    assert list(res.columns[-K:]) == GATES and html.count('<figure class=gates>') == 3
    assert html.count('Scored mostly by content group') == 3 and 'Scored mostly as' not in html
    assert all(html.count(f">group {k}</text>") == 3 for k in range(1, K + 1))

def test_resume_keeps_the_gate_columns(models, photos, tmp_path):
    from aaacov.inference import predict_files, results_record
    out = tmp_path/'r.csv'
    predict_files([photos/'astronaut.jpg'], models['named'], out, progress=False)
    first = out.read_bytes()
    with open(out, 'ab') as f: f.write(first.splitlines(keepends=True)[1][:40])   # a row half-written by a killed run
    counts = predict_files([photos], models['named'], out, progress=False)
    assert counts == {'ok': 2, 'skipped': 1, 'already': 1}
    assert out.read_bytes().startswith(first)                          # the old rows untouched, the partial one cut
    res = pd.read_csv(out)
    assert len(res) == 4 and res.file.is_unique and list(res.columns)[-K:] == GATES
    assert np.allclose(res.loc[res.status == 'ok', GATES].sum(axis=1), 1, atol=1e-4)
    assert json.loads(results_record(out).read_text())['columns'] == list(res.columns)

def test_no_gates_no_change(models, photos, tmp_path):
    "A method without gates: exactly the old header, CSV and record (no gate columns, no gate sentence or chart)."
    from aaacov.inference import Predictor, results_header, predict_files, results_record
    rows, res, html = _predict(models['mse'], photos, tmp_path, 'mse')
    assert rows[0] == ['file', 'status', *OUT, *[f'sigma_{t}' for t in OUT]] == results_header(OUT)
    assert results_header(OUT, None, 0) == results_header(OUT) and results_header(TARGETS, list(range(1, 11))) == \
        ['file', 'status', *TARGETS, *[f'sigma_{t}' for t in TARGETS], *[f'p_{r}' for r in range(1, 11)]]
    assert not any(c.startswith('gate_') for c in res.columns) and all(len(r) == len(rows[0]) for r in rows)
    assert '<figure class=gates>' not in html and 'Scored mostly' not in html and 'content group' not in html
    assert json.loads(results_record(tmp_path/'mse.csv').read_text())['columns'] == rows[0]
    # and a CSV written before gates existed resumes as it is: same columns, nothing rewritten
    before = (tmp_path/'mse.csv').read_bytes()
    assert predict_files([photos], models['mse'], tmp_path/'mse.csv', progress=False) == {'ok': 0, 'skipped': 0, 'already': 4}
    assert (tmp_path/'mse.csv').read_bytes() == before

def test_group_names_must_fit(models, tmp_path):
    from aaacov.inference import Predictor
    from aaacov.modelfiles import ModelFileError
    bad = shutil.copytree(models['named'], tmp_path/'bad')
    cfg = json.loads((bad/'config.json').read_text()); cfg['group_names'] = NAMES[:2]
    (bad/'config.json').write_text(json.dumps(cfg))
    with pytest.raises(ModelFileError, match='list of 3 non-empty names'): Predictor(bad)
