"Kong et al.'s method from the command line: train with rater-aware pairs and content gates, predict, report; its bad input."
import shutil
import numpy as np, pandas as pd, pytest
from conftest import aaacov_cli as run


@pytest.fixture(scope='module')
def tiny(tmp_path_factory):
    d = tmp_path_factory.mktemp('kong')
    run('synth', '--out', d/'data', '--preset', 'tiny', '--quiet')
    return d

def test_train_predict_report_with_gates(tiny):
    "within-rater pairs (the tiny set's 8 raters share every pair of photos), attributes, 2 content groups; predict gives gates."
    r = run('train', tiny/'data', '--out', tiny/'model', '--loss', 'kong', '--set', 'sampling=within', '--set', 'k=2',
            '--epochs', '2', '--size', '64', '--bs', '16', '--lr', '3e-3', '--quiet')
    cfg = __import__('json').loads((tiny/'model'/'config.json').read_text())
    assert cfg['loss'] == 'kong' and cfg['loss_params']['k'] == 2 and cfg['loss_params']['sampling'] == 'within'
    assert len(cfg['group_names']) == 2 and all(n.endswith('-like') for n in cfg['group_names'])   # named by the true classes
    run('predict', tiny/'data'/'images', '--model', tiny/'model', '--out', tiny/'r.csv', '--report', tiny/'r.html', '--quiet')
    res = pd.read_csv(tiny/'r.csv')
    assert (res.status == 'ok').all() and len(res) == 64
    assert {'score', 'Light', 'gate_1', 'gate_2'} <= set(res.columns)
    np.testing.assert_allclose(res[['gate_1', 'gate_2']].sum(axis=1), 1, atol=1e-4)
    assert res.score.std() > 0
    html = (tiny/'r.html').read_text()
    assert 'Scored mostly as' in html and '-like' in html

def test_no_rank_loss_trains_plain_regression(tiny):
    run('train', tiny/'data', '--out', tiny/'reg', '--loss', 'kong', '--set', 'omega_r=0', '--set', 'attributes=off',
        '--epochs', '1', '--size', '64', '--bs', '16', '--lr', '1e-3', '--quiet')
    t = pd.read_csv(tiny/'reg'/'test_scores.csv', index_col=0)
    assert list(t.index[:1]) == ['score']   # one output: the score

@pytest.mark.parametrize('args, says', [
    (['--set', 'sampling=best'], "sampling must be one of"),
    (['--set', 'omega_q=1'], "takes no parameter(s) ['omega_q']"),
    (['--set', 'k=1'], "k = 1 content group"),
    (['--set', 'k10'], "--set expects KEY=VALUE"),
    (['--set', 'sampling=cross'], "cannot sample"),           # 8 raters for 64 photos: every two photos share one
    (['--set', 'sampling=within', '--fine-tune', '--bs', '15'], "even batch size"),   # end to end: pairs in image batches
])
def test_bad_parameters_one_line(tiny, tmp_path, args, says):
    r = run('train', tiny/'data', '--out', tmp_path/'m', '--loss', 'kong', '--epochs', '1', '--size', '64', '--bs', '16',
            '--lr', '1e-3', '--quiet', *args, check=False)
    assert r.returncode == 2, r.stderr[-2000:]
    assert says in r.stderr and 'Traceback' not in r.stderr, r.stderr[-2000:]
    assert not (tmp_path/'m'/'model.safetensors').exists()

def test_within_rater_pairs_need_raters(tiny, tmp_path):
    "A labels folder without ratings.csv: rater-aware sampling is refused with what to do; random pairs train."
    d = tmp_path/'noraters'; d.mkdir()
    for f in (tiny/'data').glob('imgList*'): shutil.copy(f, d/f.name)
    (d/'images').symlink_to(tiny/'data'/'images')
    r = run('train', d, '--out', tmp_path/'m', '--loss', 'kong', '--set', 'sampling=mix', '--epochs', '1', '--size', '64',
            '--bs', '16', '--lr', '1e-3', '--quiet', check=False)
    assert r.returncode == 2 and "need each photo's raters" in r.stderr and 'Traceback' not in r.stderr, r.stderr[-2000:]
    run('train', d, '--out', tmp_path/'m2', '--loss', 'kong', '--epochs', '1', '--size', '64', '--bs', '16', '--lr', '1e-3', '--quiet')

def test_end_to_end_pair_batches(tiny):
    "Fine-tuning the whole network: the pairs are batches of images, content groups fitted from the body's features."
    run('train', tiny/'data', '--out', tiny/'e2e', '--loss', 'kong', '--set', 'sampling=within', '--set', 'k=2', '--fine-tune',
        '--epochs', '1', '--size', '64', '--bs', '16', '--lr', '1e-4', '--quiet')
    cfg = __import__('json').loads((tiny/'e2e'/'config.json').read_text())
    assert len(cfg['group_names']) == 2
    t = pd.read_csv(tiny/'e2e'/'test_scores.csv', index_col=0)
    assert np.isfinite(t.loc['score', 'SRCC'])
