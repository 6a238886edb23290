"Attribute maps (CAM, multi-block, Grad-CAM fallback), the pointing game, correlation distance, human consistency."
import warnings
import numpy as np, pandas as pd, pytest, torch
from torch import nn
from aaacov.data import TARGETS, read_aadb_labels, match_images
from aaacov.dataloaders import aadb_dataloaders
from aaacov.learner import cov_learner, fit_head, MALU_WEIGHTS, AestheticModel
from aaacov.synthetic import make_aadb_like, read_ground_truth
from aaacov.interpret import (attribute_maps, show_attribute_maps, pointing_game, corr_matrix_distance, plot_corr,
                              human_consistency, load_ratings, plot_image_corr)

@pytest.fixture(scope='module')
def tiny(tmp_path_factory):
    d = make_aadb_like(tmp_path_factory.mktemp('syn')/'tiny', preset='tiny', progress=False)
    labels = match_images(read_aadb_labels(d), d/'images')
    return d, labels, aadb_dataloaders(labels, size=64, bs=16, standardize=True, num_workers=0)

def test_cam_maps_at_image_resolution_and_png(tiny, tmp_path):
    d, labels, dls = tiny
    learn = cov_learner(dls, 'resnet18', pretrained=False)
    maps = attribute_maps(learn, labels.path.iat[1], ['DoF', 'score'])
    w, h = __import__('PIL.Image', fromlist=['Image']).open(labels.path.iat[1]).size
    assert set(maps) == {'DoF', 'score'} and maps['DoF'].shape == (h, w) and np.isfinite(maps['DoF']).all()
    show_attribute_maps(learn, labels.path.iat[1], ['DoF', 'Object'], path=tmp_path/'maps.png')
    assert (tmp_path/'maps.png').read_bytes()[:4] == b'\x89PNG'
    plot_image_corr(learn, labels.path.iat[1], labels)

def test_multiblock_maps_and_pointing_game(tiny):
    d, labels, dls = tiny
    mb = cov_learner(dls, 'alexnet', loss='mse', mse_weights=MALU_WEIGHTS, multiblock=True, pretrained=False)
    fit_head(mb, 1, lr=1e-3, show=False)
    maps = attribute_maps(mb, labels.path.iat[0], ['Object'])
    assert maps['Object'].ndim == 2
    pg = pointing_game(mb, labels[labels.split == 'test'], read_ground_truth(d), targets=('Object',))
    assert pg.loc['Object', 'images'] == (labels.split == 'test').sum() and 0 <= pg.loc['Object', 'hit rate'] <= 1
    assert 0 < pg.loc['Object', 'chance'] < 1

def test_gradcam_fallback_for_other_heads(tiny):
    d, labels, dls = tiny
    learn = cov_learner(dls, 'resnet18', loss='mse', pretrained=False)
    body = learn.model[0]
    learn.model = AestheticModel(body, nn.Sequential(nn.AdaptiveMaxPool2d(1), nn.Flatten(), nn.Linear(512, 12)))
    maps = attribute_maps(learn, labels.path.iat[0], ['Light'])
    assert (maps['Light'] >= 0).all() and np.isfinite(maps['Light']).all()   # Grad-CAM is rectified

def test_corr_matrix_distance():
    rng = np.random.default_rng(0)
    y = rng.normal(size=(500, 3)); y[:, 1] += y[:, 0]
    assert corr_matrix_distance(y, y) == {'mean_all': 0.0, 'mean_offdiag': 0.0}
    d = corr_matrix_distance(rng.normal(size=(500, 3)), y)
    c = np.corrcoef(y, rowvar=False)
    assert d['mean_offdiag'] == pytest.approx(np.abs(c[~np.eye(3, dtype=bool)]).mean(), abs=0.05)
    plot_corr(y, y, targets=['a', 'b', 'c'])

def test_corr_matrix_distance_leaves_out_constant_columns():
    rng = np.random.default_rng(0)
    y = rng.normal(size=(200, 4)); y[:, 1] += y[:, 0]
    p = y + rng.normal(size=(200, 4)); p[:, 3] = 0.0                      # an untrained zero-weight output
    with pytest.warns(UserWarning, match=r'predictions: d$'): d = corr_matrix_distance(p, y, names=list('abcd'))
    assert d == corr_matrix_distance(p[:, :3], y[:, :3]) and np.isfinite(list(d.values())).all()
    with pytest.warns(UserWarning, match=r'predictions: column 3$'): corr_matrix_distance(p, y)
    with pytest.warns(UserWarning, match=r'predictions: d$'): fig = plot_corr(p, y, targets=list('abcd'))
    assert len(fig.axes[0].get_xticklabels()) == 3
    with pytest.raises(ValueError, match='fewer than two non-constant columns'), pytest.warns(UserWarning, match='column 1'):
        corr_matrix_distance(p[:, 2:], y[:, 2:])

def test_human_consistency_reports_dropped_raters():
    rng = np.random.default_rng(2)
    rows = [{'fname': f'i{i}', 'rater': f'r{k}', 'score_rating': float(rng.integers(1, 6))} for i in range(10) for k in range(3)]
    rows += [{'fname': 'i0', 'rater': 'few', 'score_rating': 3.0}]                          # one image: too few
    rows += [{'fname': f'i{i}', 'rater': 'flat', 'score_rating': 3.0} for i in range(10)]    # always the same
    with pytest.warns(UserWarning, match=r"2 of 5 raters left out: 1 \(fewer than 3 .*\), 1 \(constant ratings\)"):
        hc = human_consistency(pd.DataFrame(rows), thresholds=(0,))
    assert hc.attrs['dropped'] == {'fewer than 3 images shared with other raters': 1, 'constant ratings': 1,
                                   'constant mean of the others': 0}
    assert hc.loc['> 0 images', 'raters'] == 3
    with warnings.catch_warnings():
        warnings.simplefilter('error')                                     # nobody left out: no warning
        assert sum(human_consistency(pd.DataFrame(rows[:30]), thresholds=(0,)).attrs['dropped'].values()) == 0

def test_human_consistency_on_constructed_ratings():
    rng = np.random.default_rng(1)
    truth = rng.normal(size=60)
    rows = [{'fname': f'i{i}', 'rater': f'r{k}', 'score_rating': truth[i] + (0.1 if k < 2 else 2.0) * rng.normal()}
            for i in range(60) for k in range(4)]
    hc = human_consistency(pd.DataFrame(rows), thresholds=(0,))
    per = hc.attrs['per_rater'].set_index('rater')
    assert hc.loc['> 0 images', 'raters'] == 4
    assert per.loc['r0', 'srcc_vs_others'] > per.loc['r3', 'srcc_vs_others']     # the precise rater agrees more
    assert (per.srcc_vs_label >= per.srcc_vs_others - 1e-9).all()

def test_load_ratings_errors(tmp_path, tiny):
    d, _, _ = tiny
    assert set(load_ratings(d).columns) >= {'fname', 'rater', 'score_rating', *TARGETS[:-1]}
    with pytest.raises(FileNotFoundError, match='no per-rater ratings file'): load_ratings(tmp_path)
    pd.DataFrame({'fname': ['a'], 'who': ['r']}).to_csv(tmp_path/'ratings.csv', index=False)
    with pytest.raises(ValueError, match=r"missing column\(s\) \['rater', 'score_rating'\]"): load_ratings(tmp_path)
    pd.DataFrame({'fname': ['a', 'a'], 'rater': ['r', 'r'], 'score_rating': [3, 4]}).to_csv(tmp_path/'ratings.csv', index=False)
    with pytest.raises(ValueError, match='line 3: rater r rated a twice'): load_ratings(tmp_path)
