"""`aaacov predict` and `--report` with Zeng et al.'s distribution models: one `score` column, its sigma, p_1..p_10; a
score-only model; maps of the decoded score."""
import csv, json, shutil
from pathlib import Path
import numpy as np, pandas as pd, pytest, torch
from PIL import Image
from conftest import small_photos, predict_csv_report

P = [f'p_{r}' for r in range(1, 11)]

@pytest.fixture(scope='module')
def models(tmp_path_factory):
    """Untrained 'ce' heads (on the local ImageNet MobileNetV2: photo-dependent outputs), 64 px, for the synthetic AVA
    copy's p1..p10: labels 'rsd' (a distribution) and 'score' (one value)."""
    from aaacov.synthetic import synthetic_ava
    from aaacov.ava import ava_dataloaders
    from aaacov.learner import cov_learner
    from aaacov.modelfiles import save_model_folder
    d = tmp_path_factory.mktemp('models')
    dls = ava_dataloaders(synthetic_ava('tiny', progress=False), size=64, bs=16, num_workers=0, progress=False)
    torch.manual_seed(0)
    out = {lab: save_model_folder(cov_learner(dls, 'mobilenet_v2', loss='ce', loss_params={'labels': lab}), d/lab)
           for lab in ('rsd', 'score')}
    # an AADB-like score model (m = 1, a [0, 1] score column): the same one-output head, another config
    shutil.copytree(out['score'], d/'aadb')
    cfg = json.loads((d/'aadb'/'config.json').read_text())
    cfg.update(m=1, targets=['score'], loss_params={**cfg['loss_params'], 'labels': 'score'})
    (d/'aadb'/'config.json').write_text(json.dumps(cfg))
    out['aadb'] = d/'aadb'
    return out

@pytest.fixture(scope='module')
def photos(tmp_path_factory): return small_photos(tmp_path_factory.mktemp('photos'))

_predict = predict_csv_report

def test_distribution_model_csv_and_report(models, photos, tmp_path):
    rows, res, html = _predict(models['rsd'], photos, tmp_path, 'rsd')
    assert rows[0] == ['file', 'status', 'score', 'sigma_score', *P]
    assert all(len(r) == len(rows[0]) for r in rows)                   # the skipped row too: empty cells, same width
    ok = res[res.status == 'ok']
    assert len(ok) == 3 and res.status.str.startswith('skipped').sum() == 1
    assert res.loc[res.status != 'ok', ['score', 'sigma_score', *P]].isna().all().all()
    probs = ok[P].to_numpy()
    assert (probs >= 0).all() and np.allclose(probs.sum(1), 1, atol=1e-4)
    r = np.arange(1, 11)
    assert np.allclose(probs @ r, ok.score, atol=1e-3)                 # the score is the mean rating sum p_r r
    sd = np.sqrt((probs * (r - ok.score.to_numpy()[:, None]) ** 2).sum(1))
    assert np.allclose(sd, ok.sigma_score, atol=1e-3)                  # and its sigma the distribution's std
    assert ok.score.between(1, 10).all()
    # the report: a rating chart per photo, the score's map, no correlation figure for one output, no network
    assert html.count('<section class=card>') == 3 and html.count('<figure class=dist>') == 3
    assert html.count("<svg xmlns='http://www.w3.org/2000/svg'") == 3 and html.count('<rect ') == 30
    assert html.count("alt='map'") == 3 and 'predicted ratings: mean' in html and ' · std ' in html
    assert 'One predicted value per photo (score)' in html and 'correlation heat map' not in html
    assert '<script' not in html and "src='http" not in html

def test_resume_keeps_the_distribution_columns(models, photos, tmp_path):
    from aaacov.inference import predict_files
    out = tmp_path/'r.csv'
    predict_files([photos/'astronaut.jpg'], models['rsd'], out, progress=False)
    counts = predict_files([photos], models['rsd'], out, progress=False)
    assert counts == {'ok': 2, 'skipped': 1, 'already': 1}
    res = pd.read_csv(out)
    assert len(res) == 4 and list(res.columns) == ['file', 'status', 'score', 'sigma_score', *P]

@pytest.mark.parametrize('which,top', [('score', 10), ('aadb', 1)])
def test_score_only_model(models, photos, tmp_path, which, top):
    rows, res, html = _predict(models[which], photos, tmp_path, which)
    assert rows[0] == ['file', 'status', 'score', 'sigma_score']
    ok = res[res.status == 'ok']
    assert len(ok) == 3 and ok.score.between(0, top).all() and ok.sigma_score.isna().all()
    assert html.count('<section class=card>') == 3 and '<figure class=dist>' not in html and '±' not in html
    assert html.count("alt='map'") == 3 and 'One predicted value per photo (score)' in html

def test_score_map_is_the_linearised_cam(models, photos):
    "A distribution model's map of its score: sum_r p_r (r - mu) CAM_r, the CAM of the score's linearisation at the photo."
    from aaacov.inference import Predictor
    from aaacov.models import cam_maps
    pred = Predictor(models['rsd'])
    assert pred.outputs == ['score'] and pred.ratings == list(range(1, 11))
    im = Image.open(photos/'coffee.jpg').convert('RGB'); im.thumbnail((200, 200))
    got = pred.maps(im, [0])
    p = pred([im])['dist'][0]; r = np.arange(1, 11)
    cams = cam_maps(pred.model, pred.tensor(im)[None], range(10), (im.height, im.width)).numpy()
    want = np.einsum('r,rhw->hw', p * (r - p @ r), cams)
    assert got.shape == (1, im.height, im.width) and np.allclose(got[0], want, atol=1e-4 * np.abs(want).max())
    assert pred.maps(im, []).shape == (0, im.height, im.width)
