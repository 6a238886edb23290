"The covariance loss's edge cases, cov_learner on photos, the benchmark's output. (The loss against torch.distributions and the\nmodel-file round trip are tested in nbs/07_losses and nbs/13_modelfiles.)"
import json, subprocess, sys
from pathlib import Path
import numpy as np, pytest, torch
from scipy import stats
from aaacov.data import TARGETS, read_aadb_labels, match_images
from aaacov.dataloaders import aadb_dataloaders, aadb_test_dl
from aaacov.losses import (CovarianceLoss, cov_params, gaussian_nll, n_cov_outputs, conditional_gaussian, cov_summary,
                           NotPositiveDefinite, logdet_pd)
from aaacov.metrics import target_table, corr_per_target
from aaacov.learner import cov_learner, fit_head, predict_distribution, evaluate
from aaacov.synthetic import make_aadb_like

ROOT = Path(__file__).resolve().parents[1]

def test_paper_parameterisation_raises_instead_of_nan():
    with pytest.raises(NotPositiveDefinite, match="use param='gram'"):
        CovarianceLoss(12, 'paper')(torch.randn(8, n_cov_outputs(12, 'paper')) * 5, torch.randn(8, 12))

def test_logdet_matches_slogdet_even_when_float32_cholesky_fails():
    A = torch.randn(4, 12, 12) * 1e4
    S = A.transpose(1, 2) @ A + torch.eye(12) / 12
    assert torch.allclose(logdet_pd(S.double()), torch.linalg.slogdet(S.double())[1], rtol=1e-9)
    assert torch.isfinite(logdet_pd(S)).all()

def test_wrong_output_width_is_explained():
    with pytest.raises(ValueError, match=r'expected outputs of shape \(batch, 156\)'): CovarianceLoss(12)(torch.randn(4, 12), torch.randn(4, 12))

def test_conditional_gaussian_matches_sampling():
    rng = np.random.default_rng(0)
    L = rng.normal(size=(4, 4)); cov = L @ L.T + np.eye(4); mu = rng.normal(size=4)
    x = rng.multivariate_normal(mu, cov, size=400_000)
    # for a Gaussian, E[x_u | x_o] is linear in x_o and the residual covariance is the conditional covariance
    X = np.column_stack([np.ones(len(x)), x[:, 1]]); U = x[:, [0, 2, 3]]
    coef = np.linalg.lstsq(X, U, rcond=None)[0]
    mean, c = conditional_gaussian(mu, cov, [1], [0.7])
    assert np.allclose(mean, np.array([1, 0.7]) @ coef, atol=0.02)
    assert np.allclose(c, np.cov((U - X @ coef).T), atol=0.05)
    with pytest.raises(ValueError, match='distinct indices'): conditional_gaussian(mu, cov, [1, 1], [0.1, 0.2])

def test_metrics_equal_scipy():
    rng = np.random.default_rng(3)
    y = rng.normal(size=(150, 3)); p = y + rng.normal(size=(150, 3))
    t = target_table(torch.tensor(p), torch.tensor(y), ['a', 'b', 'c'])
    for j, name in enumerate('abc'):
        assert t.loc[name, 'SRCC'] == pytest.approx(stats.spearmanr(p[:, j], y[:, j])[0], abs=1e-12)
        assert t.loc[name, 'KRCC'] == pytest.approx(stats.kendalltau(p[:, j], y[:, j])[0], abs=1e-12)
    assert t.loc['average', 'PLCC'] == pytest.approx(np.mean([stats.pearsonr(p[:, j], y[:, j])[0] for j in range(3)]))

@pytest.fixture(scope='module')
def tiny_dls(tmp_path_factory):
    d = make_aadb_like(tmp_path_factory.mktemp('syn')/'tiny', preset='tiny', progress=False)
    labels = match_images(read_aadb_labels(d), d/'images')
    return labels, aadb_dataloaders(labels, size=64, bs=16, standardize=True, num_workers=0)

def test_end_to_end_training_from_scratch(tiny_dls):
    labels, dls = tiny_dls
    learn = cov_learner(dls, 'resnet18', pretrained=False)
    learn.create_opt()
    h = learn.opt.hypers[0]
    assert (h['mom'], h['sqr_mom'], h['wd']) == (0.9, 0.99, 1e-2)                      # AdamW: beta (0.9, 0.99), wd 1e-2
    assert 'weight_decay' in [getattr(f, 'func', f).__name__ for f in learn.opt.cbs]   # ... decoupled (not L2)
    with learn.no_bar(), learn.no_logging(): learn.fit_one_cycle(1, 1e-3)
    assert all(np.isfinite(v[0]) for v in learn.recorder.values)
    dist = predict_distribution(learn, aadb_test_dl(dls, labels))
    assert dist['cov'].shape == (6, 12, 12) and (dist['sigma'] > 0).all()

def test_mse_learner_and_frozen_head_path(tiny_dls):
    labels, dls = tiny_dls
    learn = cov_learner(dls, 'alexnet', loss='mse', pretrained=False, freeze=True)
    hl = fit_head(learn, 2, lr=1e-3, show=False)
    full, _ = learn.get_preds(dl=dls.valid)
    fast, _ = hl.get_preds(dl=hl.dls.valid)
    assert torch.allclose(full, fast, atol=1e-4)
    assert predict_distribution(learn)['sigma'] is None
    assert list(evaluate(learn).index) == TARGETS + ['average']

def test_bench_prints_a_ratio_last():
    r = subprocess.run([sys.executable, str(ROOT/'bench'/'cov_vs_mse.py'), '--size', '64', '--bs', '4', '--steps', '1'],
                       capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr
    last = r.stdout.strip().splitlines()[-1]
    assert last.startswith('covariance vs MSE training step: ') and last.endswith('x')
    float(last.split(': ')[1][:-1])
