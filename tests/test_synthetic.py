"The synthetic AADB-format dataset: same reader as real AADB, determinism, raters, files, caching, and the analysis path."
import hashlib, json
from pathlib import Path
import numpy as np, pandas as pd, pytest
from aaacov.data import TARGETS, ATTRIBUTES, read_aadb_labels, match_images, validate_labels
from aaacov.dataloaders import aadb_dataloaders
from aaacov.synthetic import (make_aadb_like, split_counts, read_ground_truth, render_scene, attribute_strengths,
                              aadb_label_moments, draw_latent, noise_ceiling, statistics_table, learnability, synthetic_dataset,
                              PRESETS)

@pytest.fixture(scope='module')
def tiny(tmp_path_factory):
    return make_aadb_like(tmp_path_factory.mktemp('syn')/'tiny', preset='tiny', progress=False)

def _digest(root):
    h = hashlib.sha256()
    for f in sorted(Path(root).rglob('*')):
        if f.is_file(): h.update(str(f.relative_to(root)).encode()); h.update(f.read_bytes())
    return h.hexdigest()

def test_reads_like_real_aadb_in_both_forms(tiny):
    csv, txt = read_aadb_labels(tiny, form='csv'), read_aadb_labels(tiny, form='txt')
    pd.testing.assert_frame_equal(csv, txt)
    assert csv.split.value_counts().to_dict() == split_counts(64) and PRESETS['tiny'] == 64
    assert len(match_images(csv, tiny/'images')) == 64

def test_deterministic_byte_identical(tiny, tmp_path):
    again = make_aadb_like(tmp_path/'again', preset='tiny', progress=False, workers=1)
    assert _digest(again) == _digest(tiny)
    other = make_aadb_like(tmp_path/'other', preset='tiny', seed=1, progress=False)
    assert _digest(other) != _digest(tiny)

def test_labels_are_rater_means_on_aadb_grid(tiny):
    lab = read_aadb_labels(tiny).set_index('fname')
    votes = pd.read_csv(tiny/'ratings.csv')
    assert votes.groupby('fname').rater.nunique().eq(5).all()
    assert set(np.unique(votes[ATTRIBUTES].to_numpy())) <= {-1, 0, 1}
    assert (votes[['Repetition', 'Symmetry']] >= 0).all().all()
    assert votes.score_rating.between(1, 5).all()
    g = votes.groupby('fname')
    assert np.allclose(g[ATTRIBUTES].mean().loc[lab.index], lab[ATTRIBUTES])
    assert np.allclose(((g.score_rating.mean() - 1) / 4).loc[lab.index], lab.score)
    raters = pd.read_csv(tiny/'raters.csv')
    assert set(votes.rater) <= set(raters.rater) and {'attr_bias', 'attr_noise', 'score_bias', 'score_noise'} <= set(raters.columns)

def test_ground_truth_boxes_and_histograms(tiny):
    gt = read_ground_truth(tiny)
    assert list(gt.columns[:14]) == ['fname', 'split', *TARGETS]
    validate_labels(gt)
    assert (gt.box_x0 >= 0).all() and (gt.box_x1 <= gt.width).all() and (gt.box_y1 <= gt.height).all()
    assert (gt.box_x1 > gt.box_x0).all() and (gt.box_y1 > gt.box_y0).all()
    assert (gt.height > gt.width).any() and (gt.width > gt.height).any()   # portrait and landscape
    hist = pd.read_csv(tiny/'histograms.csv')
    assert hist.shape == (64, 11) and hist.iloc[:, 1:].sum(axis=1).between(50, 150).all()

def test_leak_option(tmp_path):
    d = make_aadb_like(tmp_path/'leaky', n=200, leak=True, progress=False)
    with pytest.warns(UserWarning, match=r'Dropped 3 validation image\(s\)'):
        lab = read_aadb_labels(d)
    assert (read_aadb_labels(d, keep_leak=True).split == 'valid').sum() == (lab.split == 'valid').sum() + 3

def test_cache_reuse_and_refusals(tiny, tmp_path):
    before = (tiny/'manifest.json').stat().st_mtime_ns
    assert make_aadb_like(tiny, preset='tiny', progress=False) == tiny
    assert (tiny/'manifest.json').stat().st_mtime_ns == before
    with pytest.raises(FileExistsError, match='different or incomplete'): make_aadb_like(tiny, preset='tiny', seed=3, progress=False)
    (tmp_path/'mine').mkdir(); (tmp_path/'mine'/'holiday.jpg').write_bytes(b'x')
    with pytest.raises(FileExistsError, match='not empty'): make_aadb_like(tmp_path/'mine', preset='tiny', progress=False)
    with pytest.raises(FileExistsError, match="not empty"): make_aadb_like(tmp_path/"mine", preset="tiny", progress=False, overwrite=True)
    assert (tmp_path/"mine"/"holiday.jpg").exists()   # never deletes a folder that is not a synthetic dataset
    with pytest.raises(ValueError, match='preset must be one of'): make_aadb_like(tmp_path/'x', preset='huge')
    with pytest.raises(ValueError, match='at least 3 images'): split_counts(2)

def test_synthetic_dataset_uses_the_cache_folder(monkeypatch, tmp_path):
    monkeypatch.setenv('AAACOV_DATA', str(tmp_path))
    p = synthetic_dataset('tiny', n=12, progress=False)
    assert p.parent == tmp_path and len(list((p/'images').glob('*.jpg'))) == 12

def test_latent_matches_real_moments():
    mean, cov = aadb_label_moments()
    z = draw_latent(20000, np.random.default_rng(0), mean, cov)
    assert np.abs(z.mean(0) - mean).max() < 0.03
    c = np.corrcoef(z, rowvar=False)
    d = np.sqrt(np.diag(cov)); real_corr = cov / np.outer(d, d)
    assert np.abs(c - real_corr).max() < 0.08

def test_one_attribute_changes_one_property():
    mean, cov = aadb_label_moments(); std = np.sqrt(np.diag(cov))
    base = dict(zip(TARGETS, attribute_strengths(mean, mean, std)))
    a, _ = render_scene(base, 5)
    b, _ = render_scene(base, 5)
    assert np.array_equal(np.asarray(a), np.asarray(b))
    vivid, _ = render_scene({**base, 'VividColor': 1.0}, 5)
    dull, _ = render_scene({**base, 'VividColor': 0.0}, 5)
    sat = lambda im: np.asarray(im.convert('HSV'))[..., 1].mean()
    assert sat(vivid) > sat(a) > sat(dull)
    big_box = render_scene({**base, 'Object': 1.0}, 5)[1]; small_box = render_scene({**base, 'Object': 0.0}, 5)[1]
    area = lambda b: (b[2] - b[0]) * (b[3] - b[1])
    assert area(big_box) > 4 * area(small_box)

def test_analysis_path_runs_on_tiny(tiny):
    """The notebook's slow cells, on the tiny preset: noise ceiling, hand statistics, learnability."""
    lab = read_aadb_labels(tiny)
    truth = read_ground_truth(tiny).set_index('fname').loc[lab.fname].reset_index()
    ceil = noise_ceiling(lab, truth)
    assert ceil.index.tolist() == TARGETS and ceil.between(-1, 1).all()
    stats = statistics_table([tiny/'images'/f for f in lab.fname])
    assert stats.shape[0] == 64 and np.isfinite(stats.to_numpy()).all()
    res = learnability(stats.to_numpy(), lab, truth)
    assert res.index.tolist() == TARGETS and set(res.columns) == {'srcc_labels', 'srcc_truth'}

def test_trains_through_the_same_dataloaders(tiny):
    lab = match_images(read_aadb_labels(tiny), tiny/'images')
    dls = aadb_dataloaders(lab, size=64, bs=8, num_workers=0)
    xb, yb = dls.one_batch()
    assert xb.shape == (8, 3, 64, 64) and yb.shape == (8, 12)

def test_concurrent_generation_of_the_same_dataset(tmp_path):
    "Parallel notebook tests and jobs may ask for one cached preset at once: all succeed, one complete copy remains."
    import subprocess, sys
    code = f"from aaacov.synthetic import make_aadb_like; make_aadb_like(r'{tmp_path}/same', preset='tiny', progress=False, workers=1)"
    procs = [subprocess.Popen([sys.executable, '-c', code], stderr=subprocess.PIPE, text=True) for _ in range(3)]
    errs = [p.communicate()[1] for p in procs]
    assert [p.returncode for p in procs] == [0, 0, 0], errs
    assert sorted(p.name for p in tmp_path.iterdir()) == ['same']
    assert len(read_aadb_labels(tmp_path/'same')) == 64
