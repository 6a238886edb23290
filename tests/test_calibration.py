"""Calibration metrics at their edges: many missing-target patterns at once, a target with no label, one photo, mixed
numpy/torch inputs, and every function's input checks.
What nbs/08_metrics.ipynb checks (agreement with torch.distributions, coverage on a correctly specified sample, an
overconfident Σ) is not repeated here."""
import numpy as np, pandas as pd, pytest, torch
from torch.distributions import MultivariateNormal
from aaacov.metrics import (predictive_nll, interval_coverage, ellipsoid_coverage, gaussian_kl, calibration_table,
                            calibration_summary)

def _sample(n=40, m=5, seed=0):
    rng = np.random.default_rng(seed)
    A = rng.normal(size=(n, m, m))
    cov = A @ A.transpose(0, 2, 1) / m + 0.2 * np.eye(m)
    mu = rng.normal(size=(n, m))
    y = mu + (np.linalg.cholesky(cov) @ rng.normal(size=(n, m, 1)))[..., 0]
    return rng, y, mu, cov

def test_nll_with_a_different_missing_pattern_on_most_rows():
    rng, y, mu, cov = _sample(n=200)
    y[rng.random(y.shape) < 0.5] = np.nan                      # ~2^5 patterns, including all-missing rows
    nll = predictive_nll(y, mu, cov)
    for i in range(len(y)):
        o = ~np.isnan(y[i])
        if not o.any(): assert np.isnan(nll[i]); continue
        want = -MultivariateNormal(torch.tensor(mu[i, o]), covariance_matrix=torch.tensor(cov[i][np.ix_(o, o)])).log_prob(torch.tensor(y[i, o]))
        assert abs(nll[i] - want.item()) < 1e-8

def test_one_photo_and_mixed_numpy_torch_inputs():
    _, y, mu, cov = _sample(n=1)
    want = predictive_nll(y, mu, cov)
    assert want.shape == (1,)
    np.testing.assert_allclose(predictive_nll(torch.tensor(y), mu, torch.tensor(cov)), want, rtol=0, atol=1e-12)
    assert gaussian_kl(cov, torch.tensor(cov)).shape == (1,)

def test_a_target_without_labels_gives_a_nan_row_not_an_error():
    _, y, mu, cov = _sample()
    y[:, 2] = np.nan
    t = calibration_table(y, mu, cov, targets=list('abcde'))
    assert t.loc['c'].isna().all() and t.drop(index='c').notna().all().all()
    assert np.isnan(interval_coverage(y, mu, np.ones_like(mu))[2])
    s = calibration_summary(y, mu, cov)
    assert all(np.isfinite(v) for v in s.values())
    assert 0 <= ellipsoid_coverage(y, mu, cov, 0.5) <= 1

@pytest.mark.parametrize('call, msg', [
    (lambda y, mu, cov: predictive_nll(y[:, :-1], mu, cov), 'expected y and mu n x m and cov n x m x m'),
    (lambda y, mu, cov: predictive_nll(y[0], mu[0], cov[0]), 'expected y and mu n x m and cov n x m x m'),
    (lambda y, mu, cov: predictive_nll(y, mu, cov[:, :, :-1]), 'expected y and mu n x m and cov n x m x m'),
    (lambda y, mu, cov: predictive_nll(y, np.where(mu > 1, np.nan, mu), cov), 'mu and cov must be finite'),
    (lambda y, mu, cov: predictive_nll(y, mu, cov - 5 * np.eye(5)), 'not positive definite'),
    (lambda y, mu, cov: interval_coverage(y, mu, np.ones((len(y), 4))), 'expected y, mu and sigma all n x m'),
    (lambda y, mu, cov: interval_coverage(y, mu, np.ones_like(y), 1.0), 'level must be between 0 and 1'),
    (lambda y, mu, cov: ellipsoid_coverage(y, mu, cov[:-1]), 'expected y and mu n x m and cov n x m x m'),
    (lambda y, mu, cov: ellipsoid_coverage(y, mu, cov, 0), 'level must be between 0 and 1'),
    (lambda y, mu, cov: gaussian_kl(cov, cov[:-1]), 'expected cov_p and cov_q both n x m x m'),
    (lambda y, mu, cov: gaussian_kl(cov, cov, mu, mu[:, :-1]), 'expected mu_p and mu_q both'),
    (lambda y, mu, cov: gaussian_kl(cov, cov, mu_q=mu), 'give both means'),
    (lambda y, mu, cov: calibration_table(y, mu, cov), '12 target names for 5 targets'),
    (lambda y, mu, cov: calibration_summary(y, mu, cov, true_cov=cov[:, :-1, :-1]), 'expected true_cov'),
])
def test_bad_input_is_a_one_line_value_error(call, msg):
    _, y, mu, cov = _sample()
    with pytest.raises(ValueError, match=msg) as e: call(y, mu, cov)
    assert '\n' not in str(e.value)
