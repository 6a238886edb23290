"AADB DataLoaders: shapes, splits, target subsets, standardisation that decodes back to label units, errors."
import numpy as np, pandas as pd, pytest, torch
from aaacov.data import TARGETS, match_images
from aaacov.dataloaders import ImageLoadError, aadb_dataloaders, aadb_test_dl, decode_targets, TensorTargets, DecodedTargets
from conftest import write_images

@pytest.fixture
def items(tmp_path, labels):
    write_images(labels, tmp_path)
    return match_images(labels, tmp_path)

def test_batches_and_splits(items):
    dls = aadb_dataloaders(items, size=32, bs=4, num_workers=0)
    xb, yb = dls.one_batch()
    assert xb.shape == (4, 3, 32, 32) and isinstance(yb, TensorTargets) and yb.shape == (4, 12)
    assert (len(dls.train_ds), len(dls.valid_ds)) == (6, 3)
    assert set(dls.valid_ds.items.fname) == set(items[items.split == 'valid'].fname)

@pytest.mark.parametrize('size', [224, 227, (48, 64)])
def test_paper_sizes_and_rectangles(items, size):
    dls = aadb_dataloaders(items, size=size, bs=2, num_workers=0)
    want = (size, size) if isinstance(size, int) else size
    assert tuple(dls.valid.one_batch()[0].shape[-2:]) == want

def test_target_subset_in_given_order(items):
    dls = aadb_dataloaders(items, targets=['score', 'Light'], size=16, bs=3, num_workers=0, shuffle=False)
    _, yb = dls.valid.one_batch()
    want = np.ascontiguousarray(items[items.split == 'valid'][['score', 'Light']].to_numpy())
    assert torch.allclose(yb, torch.tensor(want, dtype=torch.float32))

def test_standardised_targets_decode_to_label_units(items):
    dls = aadb_dataloaders(items, size=16, bs=3, standardize=True, num_workers=0)
    _, yb = dls.valid.one_batch()
    raw = torch.tensor(np.ascontiguousarray(items[items.split == 'valid'][TARGETS].to_numpy()), dtype=torch.float32)
    train = items[items.split == 'train'][TARGETS].to_numpy()
    assert torch.allclose(yb, (raw - torch.tensor(train.mean(0)).float()) / torch.tensor(train.std(0)).float(), atol=1e-5)
    assert torch.allclose(decode_targets(dls, yb), raw, atol=1e-5)
    dec = dls.decode_batch((dls.valid.one_batch()))  # fastai's own decode path (as learn.predict uses)
    assert isinstance(dec[0][1], DecodedTargets)
    assert np.allclose(list(dec[0][1]), raw[0].numpy(), atol=1e-5)

def test_validation_is_deterministic_training_flips(items):
    dls = aadb_dataloaders(items, size=16, bs=3, num_workers=0)
    a, b = dls.valid.one_batch()[0], dls.valid.one_batch()[0]
    assert torch.equal(a, b)

def test_test_dl(items):
    dls = aadb_dataloaders(items, size=16, bs=3, num_workers=0)
    tdl = aadb_test_dl(dls, items)
    xb, yb = tdl.one_batch()
    assert len(tdl.dataset) == 3 and yb.shape == (3, 12)

def test_root_argument_matches_images(tmp_path, labels):
    write_images(labels, tmp_path)
    assert len(aadb_dataloaders(labels, root=tmp_path, size=16, bs=2, num_workers=0).train_ds) == 6

@pytest.mark.parametrize('change,msg', [
    (lambda d: d.drop(columns='path'), 'no `path` column'),
    (lambda d: d[d.split != 'valid'], 'no `valid` rows'),
    (lambda d: d.assign(score=d.score.where(d.index != 2, np.nan)), 'row 2: score'),
])
def test_bad_tables(items, change, msg):
    with pytest.raises(ValueError, match=msg): aadb_dataloaders(change(items), size=16, bs=2, num_workers=0)

def test_unknown_target(items):
    with pytest.raises(ValueError, match=r"target\(s\) \['Sharpness'\]"):
        aadb_dataloaders(items, targets=['score', 'Sharpness'], size=16, num_workers=0)

def test_constant_target_standardises_without_dividing_by_zero(items):
    flat = items.assign(Symmetry=0.0)
    with pytest.warns(UserWarning, match='constant'):
        dls = aadb_dataloaders(flat, size=16, bs=3, standardize=True, num_workers=0)
    assert torch.isfinite(dls.one_batch()[1]).all()

def test_corrupt_image_in_a_batch_names_the_file(items):
    open(items.path.iat[3], 'wb').close()   # fastai opens the first item while building: break a later one
    # the cached pipeline decodes every image up front: all unusable files are named before training starts
    with pytest.raises(ImageLoadError, match=r'1 image\(s\) cannot be used: .*' + items.fname.iat[3] + ': not an image'):
        aadb_dataloaders(items, size=16, bs=6, num_workers=0, shuffle=False)
    # without the cache the file is read when its batch is drawn, and named then
    dls = aadb_dataloaders(items, size=16, bs=6, num_workers=0, shuffle=False, cache=False)
    with pytest.raises(ImageLoadError, match=items.fname.iat[3] + ': not an image'): dls.train.one_batch()
    open(items.path.iat[0], 'wb').close()
    with pytest.raises(ImageLoadError, match=items.fname.iat[0]): aadb_dataloaders(items, size=16, num_workers=0)
