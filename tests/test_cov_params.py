"""The covariance method's 'diag' and 'lowrank' precisions and its post-hoc calibration: the loss, learners of both on photos,
and model files that keep the parameters (the notebooks nbs/07_losses and nbs/11_methods test the pieces in more detail)."""
import json
import numpy as np, pytest, torch
from torch.distributions import MultivariateNormal
from aaacov.data import read_aadb_labels, match_images
from aaacov.dataloaders import aadb_dataloaders, target_norm
from aaacov.losses import (CovarianceLoss, cov_params, gaussian_nll, n_cov_outputs, cov_summary, cov_nll,
                           fit_cov_calibration, apply_cov_calibration)
from aaacov.methods import get_method, to_label_units, decode_cov
from aaacov.learner import cov_learner, fit_head, predict_distribution
from aaacov.modelfiles import save_model_folder, load_model_folder, ModelFileError
from aaacov.synthetic import make_aadb_like

M = 12

@pytest.mark.parametrize('dtype', [torch.float32, torch.float64])
@pytest.mark.parametrize('param,rank', [('diag', 2), ('lowrank', 1), ('lowrank', 2), ('lowrank', 6)])
def test_nll_is_the_gaussian_log_density(param, rank, dtype):
    g = torch.Generator().manual_seed(rank)
    out = (torch.randn(64, n_cov_outputs(M, param, rank), generator=g) * 0.5).to(dtype)
    y = torch.randn(64, M, generator=g).to(dtype)
    mu, S = cov_params(out, M, param, rank)
    ref = -MultivariateNormal(mu, precision_matrix=S).log_prob(y) - 0.5 * M * np.log(2 * np.pi)   # the loss omits the constant
    got = gaussian_nll(out, y, M, param, rank)
    assert got.dtype == dtype
    assert torch.allclose(got, ref, atol=1e-3 if dtype == torch.float32 else 1e-9, rtol=0)

@pytest.mark.parametrize('param', ['diag', 'lowrank'])
@pytest.mark.parametrize('dtype', [torch.float32, torch.float64])
def test_finite_loss_and_gradients_at_extreme_outputs(param, dtype):
    g = torch.Generator().manual_seed(0)
    sign = (torch.randint(0, 2, (16, n_cov_outputs(M, param)), generator=g) * 2 - 1).to(dtype)
    for out in (sign * 1e4, torch.full_like(sign, 1e4), torch.full_like(sign, -1e4)):
        out = out.clone().requires_grad_()
        loss = CovarianceLoss(M, param)(out, torch.randn(16, M, generator=g).to(dtype))
        loss.backward()
        assert torch.isfinite(loss) and torch.isfinite(out.grad).all()
        assert torch.isfinite(cov_summary(out.detach(), M, param)['cov']).all()

def test_shape_errors_are_explained():
    with pytest.raises(ValueError, match=r"expected outputs of shape \(batch, 48\) for m=12, param='lowrank', rank=2; got \(4, 24\)"):
        CovarianceLoss(M, 'lowrank')(torch.randn(4, 24), torch.randn(4, M))
    with pytest.raises(ValueError, match=r"expected outputs of shape \(batch, 24\) for m=12, param='diag'; got"):
        cov_params(torch.randn(4, 48), M, 'diag')
    with pytest.raises(ValueError, match=r'expected targets of shape \(4, 12\)'): gaussian_nll(torch.randn(4, 24), torch.randn(4, 3), M, 'diag')
    with pytest.raises(ValueError, match='rank must be a whole number'): n_cov_outputs(M, 'lowrank', 0)

def test_rank_is_ignored_by_other_parameterisations():
    out = torch.randn(3, n_cov_outputs(M, 'gram'))
    assert torch.equal(gaussian_nll(out, torch.zeros(3, M), M, 'gram', rank=7), gaussian_nll(out, torch.zeros(3, M), M, 'gram'))

def _synthetic(n, m, seed=0):
    rng = np.random.default_rng(seed)
    A = rng.normal(size=(n, m, m)) * rng.uniform(0.2, 2, size=(n, 1, 1))
    true = A @ A.transpose(0, 2, 1) + 0.1 * np.eye(m)
    mu = rng.normal(size=(n, m))
    return rng, mu, true, mu + (np.linalg.cholesky(true) @ rng.normal(size=(n, m, 1)))[..., 0]

def test_calibration_identity_scale_and_shrinkage():
    rng, mu, true, y = _synthetic(4000, 5)
    ident = {'pop_cov': np.eye(5).tolist(), 'shrink': 1.0, 'scale': [1.0] * 5}
    assert np.array_equal(apply_cov_calibration(true, ident), true)
    cal = fit_cov_calibration(mu, 0.5 * true, y)                      # Sigma half the truth: scale sqrt 2 per target
    assert cal['shrink'] == 1.0
    assert np.allclose(cal['scale'], np.sqrt(2), rtol=0.05)
    pop = true[0]
    W = np.linalg.cholesky(pop) @ rng.normal(size=(4000, 5, 7))
    noisy = W @ W.transpose(0, 2, 1) / 7                              # per-photo Sigma: pure noise around the population's
    y = mu + (np.linalg.cholesky(pop) @ rng.normal(size=(4000, 5, 1)))[..., 0]
    cal = fit_cov_calibration(mu, noisy, y)
    assert cal['shrink'] < 1
    assert cov_nll(mu, apply_cov_calibration(noisy, cal), y).mean() < cov_nll(mu, noisy, y).mean()
    assert json.loads(json.dumps(cal)) == cal

def test_decode_with_a_round_tripped_calibration():
    raw = torch.randn(300, n_cov_outputs(4, 'lowrank', 3)) * 0.5
    mean, std = np.zeros(4), np.array([1., 2., 3., 4.])
    d = decode_cov(raw, 4, mean, std, 'lowrank', 3)
    y = d['mu'] + 1.5 * (np.linalg.cholesky(d['cov']) @ np.random.default_rng(1).normal(size=(300, 4, 1)))[..., 0]
    cal = fit_cov_calibration(d['mu'], d['cov'], y)
    a, b = decode_cov(raw, 4, mean, std, 'lowrank', 3, cal), decode_cov(raw, 4, mean, std, 'lowrank', 3, json.loads(json.dumps(cal)))
    for k in ('mu', 'sigma', 'cov', 'corr'): assert np.array_equal(a[k], b[k])
    assert np.allclose(np.median(a['sigma'] / d['sigma'], 0), 1.5, rtol=0.1)

@pytest.fixture(scope='module')
def tiny_dls(tmp_path_factory):
    d = make_aadb_like(tmp_path_factory.mktemp('syn')/'tiny', preset='tiny', progress=False)
    labels = match_images(read_aadb_labels(d), d/'images')
    return aadb_dataloaders(labels, size=64, bs=16, standardize=True, num_workers=0, progress=False)

@pytest.mark.parametrize('param', ['diag', 'lowrank'])
def test_cov_learner_builds_and_trains(tiny_dls, param):
    torch.manual_seed(0)
    learn = cov_learner(tiny_dls, 'mobilenet_v2', loss='cov', param=param, pretrained=False)
    assert learn.model[1].linear.out_features == n_cov_outputs(M, param)
    assert learn.aaacov_config['loss_params'] == {'param': param, 'rank': 2, 'calibration': None}
    before = learn.model[1].linear.weight.detach().clone()
    with learn.no_bar(), learn.no_logging(): learn.fit(1, 1e-3)
    vals = dict(zip(learn.recorder.metric_names[1:-1], learn.recorder.values[-1]))
    assert all(np.isfinite(vals[k]) for k in ('train_loss', 'valid_loss', 'mean_sigma')), vals   # (an SRCC over 3 photos may be NaN)
    cb = next(c for c in learn.cbs if type(c).__name__ == 'CovStatsCallback')
    assert learn.recorder.values[-1][-1] == cb.history[-1]['mean_sigma']   # this epoch's summary, not the previous one's
    assert not torch.equal(before, learn.model[1].linear.weight)
    dist = predict_distribution(learn)
    assert dist['cov'].shape[1:] == (M, M) and (dist['sigma'] > 0).all()
    if param == 'diag': assert np.allclose(dist['corr'], np.eye(M))

def test_frozen_body_head_fit_with_lowrank(tiny_dls):
    learn = cov_learner(tiny_dls, 'mobilenet_v2', loss='cov', param='lowrank', loss_params={'rank': 3})   # the CPU default path
    hl = fit_head(learn, 1, lr=1e-3, show=False)
    assert np.isfinite(hl.recorder.values[-1]).all()
    assert learn.model[1].linear.out_features == 12 + 12 + 36

def _valid_labels(learn):
    preds, targs = learn.get_preds()
    norm = target_norm(learn.dls)
    return preds, targs.double().numpy() * norm.std.double().numpy() + norm.mean.double().numpy()

def test_model_folder_keeps_lowrank_and_calibration(tiny_dls, tmp_path):
    learn = cov_learner(tiny_dls, 'mobilenet_v2', loss='cov', param='lowrank', loss_params={'rank': 3}, pretrained=False)
    learn.model.eval()
    preds, y = _valid_labels(learn)
    d = predict_distribution(learn, preds=preds)
    cal = fit_cov_calibration(d['mu'], d['cov'], y)
    learn.aaacov_config['loss_params']['calibration'] = cal
    dc = predict_distribution(learn, preds=preds)
    assert not np.allclose(dc['sigma'], d['sigma'])
    save_model_folder(learn, tmp_path/'m')
    model, cfg = load_model_folder(tmp_path/'m')
    assert cfg['loss_params'] == {'param': 'lowrank', 'rank': 3, 'calibration': cal}
    xb = tiny_dls.valid.one_batch()[0]
    with torch.inference_mode(): raw, raw_loaded = learn.model(xb), model(xb)
    assert torch.allclose(raw, raw_loaded, atol=1e-5)
    a = predict_distribution(learn, preds=raw)
    b = to_label_units(raw_loaded, cfg, cfg['target_mean'], cfg['target_std'])
    for k in ('mu', 'sigma', 'cov', 'corr'): assert np.allclose(a[k], b[k], atol=1e-5), k
    assert np.allclose(b['cov'], apply_cov_calibration(to_label_units(raw_loaded, {**cfg, 'loss_params': {'param': 'lowrank', 'rank': 3}},
                                                                     cfg['target_mean'], cfg['target_std'])['cov'], cal))

def test_model_folder_parameters_old_and_bad(tiny_dls, tmp_path):
    learn = cov_learner(tiny_dls, 'mobilenet_v2', loss='cov', param='lowrank', pretrained=False)
    save_model_folder(learn, tmp_path/'m')
    f = tmp_path/'m'/'config.json'
    cfg = json.loads(f.read_text())
    f.write_text(json.dumps({**cfg, 'loss_params': {'param': 'lowrank'}}))       # written before rank and calibration existed
    model, old = load_model_folder(tmp_path/'m')
    raw = torch.randn(3, n_cov_outputs(M, 'lowrank'))
    assert to_label_units(raw, old)['cov'].shape == (3, M, M)
    assert get_method('cov').params(**old['loss_params']) == {'param': 'lowrank', 'rank': 2, 'calibration': None}
    ok = {'pop_cov': np.eye(M).tolist(), 'shrink': 0.5, 'scale': [1.0] * M}
    for params, msg in [({'param': 'lowrank', 'rank': 0}, 'rank must be'),
                        ({'param': 'lowrank', 'calibration': {**ok, 'shrink': 2}}, "'shrink' must be"),
                        ({'param': 'lowrank', 'calibration': {**ok, 'scale': [1.0] * 11}}, 'm x m'),
                        ({'param': 'lowrank', 'calibration': {**ok, 'scale': [1.0] * 11, 'pop_cov': np.eye(11).tolist()}},
                         'made for 11 targets, not 12')]:
        f.write_text(json.dumps({**cfg, 'loss_params': params}))
        with pytest.raises(ModelFileError, match=msg): load_model_folder(tmp_path/'m')

def test_packaged_model_config_without_rank_still_decodes():
    from aaacov.inference import default_model_dir
    model, cfg = load_model_folder(default_model_dir())
    n = get_method(cfg['loss']).n_out(cfg['m'], **get_method(cfg['loss']).params(**cfg.get('loss_params', {})))
    d = to_label_units(torch.randn(2, n) * 0.1, cfg, cfg['target_mean'], cfg['target_std'])
    assert d['sigma'].shape == (2, cfg['m']) and np.isfinite(d['sigma']).all()
