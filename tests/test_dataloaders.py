"""AADB DataLoaders: the papers' sizes, target subsets, determinism, constant targets, corrupt files.
Shapes, splits, standardisation and decoding, the test DataLoader and bad tables are checked in nbs/01_dataloaders.ipynb."""
import numpy as np, pytest, torch
from aaacov.data import match_images
from aaacov.dataloaders import ImageLoadError, aadb_dataloaders
from conftest import write_images

@pytest.fixture
def items(tmp_path, labels):
    write_images(labels, tmp_path)
    return match_images(labels, tmp_path)

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

def test_validation_is_deterministic_training_flips(items):
    dls = aadb_dataloaders(items, size=16, bs=3, num_workers=0)
    a, b = dls.valid.one_batch()[0], dls.valid.one_batch()[0]
    assert torch.equal(a, b)

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
