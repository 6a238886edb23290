"PEAR from the command line: train on rating histograms and attributes (some withheld), predict the score, its distribution and the inferred attributes; its bad input."
import json, shutil
import numpy as np, pandas as pd, pytest
from conftest import aaacov_cli as run

from aaacov.data import TARGETS
ATTRS = list(TARGETS[:-1])
FAST = ['--epochs', '2', '--size', '64', '--bs', '16', '--lr', '3e-3', '--quiet']

@pytest.fixture(scope='module')
def tiny(tmp_path_factory):
    "The tiny synthetic set with half of its photos missing some attributes."
    d = tmp_path_factory.mktemp('pear')
    run('synth', '--out', d/'data', '--preset', 'tiny', '--missing', '0.5', '--quiet')
    return d

def test_train_predict_report(tiny):
    "Withheld attributes train (NaN labels); predict writes the score, 11 inferred attributes with sigmas and the distribution."
    lab = pd.read_csv(tiny/'data'/'imgListTrainRegression_.csv')
    assert lab[ATTRS].isna().any().any()   # the data really withholds attributes
    run('train', tiny/'data', '--out', tiny/'model', '--loss', 'pear', *FAST)
    cfg = json.loads((tiny/'model'/'config.json').read_text())
    assert cfg['loss'] == 'pear' and cfg['targets'][-10:] == [f"p{i}" for i in range(1, 11)] and cfg['loss_params']['lam'] == 0.1
    t = pd.read_csv(tiny/'model'/'test_scores.csv', index_col=0)
    assert list(t.index[:12]) == ATTRS + ['score'] and np.isfinite(t.loc['score', 'SRCC'])
    run('predict', tiny/'data'/'images', '--model', tiny/'model', '--out', tiny/'r.csv', '--report', tiny/'r.html', '--quiet')
    res = pd.read_csv(tiny/'r.csv')
    assert (res.status == 'ok').all() and len(res) == 64
    assert set(ATTRS + ['score', 'sigma_score', 'sigma_Light'] + [f"p_{i}" for i in range(1, 11)]) <= set(res.columns)
    np.testing.assert_allclose(res[[f"p_{i}" for i in range(1, 11)]].sum(axis=1), 1, atol=1e-3)
    np.testing.assert_allclose(res.score, res[[f"p_{i}" for i in range(1, 11)]].to_numpy() @ np.arange(1, 11), atol=1e-3)
    assert res[ATTRS].abs().le(1).all().all() and res[ATTRS].notna().all().all()   # every photo gets all 11 attributes
    assert res.score.std() > 0
    html = (tiny/'r.html').read_text()
    assert 'distribution' in html.lower() and '64 photos scored (the first 60 shown)' in html   # the report shows 60 of them

def test_other_methods_refuse_withheld_attributes(tiny, tmp_path):
    "Methods that do not learn from withheld attributes still name the row instead of training on NaN."
    r = run('train', tiny/'data', '--out', tmp_path/'m', '--loss', 'mse', *FAST, check=False)
    assert r.returncode == 2 and 'is empty' in r.stderr and '--loss pear' in r.stderr and 'Traceback' not in r.stderr, r.stderr[-2000:]

def test_ablations_train(tiny):
    "No reconstruction (λ = 0) and no prior (p(z|x) = Bernoulli(½)) are parameters."
    run('train', tiny/'data', '--out', tiny/'abl', '--loss', 'pear', '--set', 'lam=0', '--set', 'prior=none', *FAST)
    cfg = json.loads((tiny/'abl'/'config.json').read_text())
    assert cfg['loss_params']['lam'] == 0 and cfg['loss_params']['prior'] == 'none'

def test_without_histograms_the_score_is_learned(tiny, tmp_path):
    "AADB's released labels have no rating histogram: the default is refused with what to do; bins=0 learns the score."
    d = tmp_path/'nohist'; d.mkdir()
    for f in (tiny/'data').glob('imgList*'): shutil.copy(f, d/f.name)
    r = run('train', d, '--images', tiny/'data'/'images', '--out', tmp_path/'m', '--loss', 'pear', *FAST, check=False)
    assert r.returncode == 2 and '--set bins=0' in r.stderr and 'Traceback' not in r.stderr, r.stderr[-2000:]
    run('train', d, '--images', tiny/'data'/'images', '--out', tmp_path/'m0', '--loss', 'pear', '--set', 'bins=0', *FAST)
    run('predict', tiny/'data'/'images', '--model', tmp_path/'m0', '--out', tmp_path/'r.csv', '--quiet')
    res = pd.read_csv(tmp_path/'r.csv')
    assert res.score.between(0, 1).all() and not any(c.startswith('p_') for c in res.columns)

def test_ava_format_needs_prior_none(tiny, tmp_path):
    "An AVA-format folder has no attributes to fit the prior on: refused with what to do; prior=none trains on the distributions."
    ava = tiny/'data'/'ava'
    r = run('train', ava, '--out', tmp_path/'m', '--loss', 'pear', *FAST, check=False)
    assert r.returncode == 2 and "prior=none" in r.stderr and 'Traceback' not in r.stderr, r.stderr[-2000:]
    run('train', ava, '--out', tmp_path/'m1', '--loss', 'pear', '--set', 'prior=none', *FAST)
    r = run('predict', ava/'images', '--model', tmp_path/'m1', '--out', tmp_path/'r.csv', '--quiet')
    assert 'PyTorch engine' not in r.stderr, r.stderr[-1500:]   # the head without a prior exports to ONNX with a free batch size
    res = pd.read_csv(tmp_path/'r.csv')
    assert 'score' in res.columns and 'p_10' in res.columns and not set(ATTRS) & set(res.columns)

@pytest.mark.parametrize('args, says', [
    (['--set', 'prior=maybe'], "prior must be 'net' or 'none'"),
    (['--set', 'px=40'], "px must be one of"),
    (['--set', 'bins=1'], "bins must be"),
    (['--set', 'lam=-1'], "lam must be a number >= 0"),
    (['--set', 'k=5'], "must match"),
])
def test_bad_parameters_one_line(tiny, tmp_path, args, says):
    r = run('train', tiny/'data', '--out', tmp_path/'m', '--loss', 'pear', *FAST, *args, check=False)
    assert r.returncode == 2, r.stderr[-2000:]
    assert says in r.stderr and 'Traceback' not in r.stderr, r.stderr[-2000:]
    assert not (tmp_path/'m'/'model.safetensors').exists()

def test_end_to_end_reconstructs(tiny, tmp_path):
    "--fine-tune: the whole network with the decoder's thumbnails from each image batch."
    run('train', tiny/'data', '--out', tmp_path/'ft', '--loss', 'pear', '--fine-tune', '--epochs', '1', '--size', '64',
        '--bs', '16', '--lr', '1e-4', '--quiet')
    assert (tmp_path/'ft'/'model.safetensors').exists()
