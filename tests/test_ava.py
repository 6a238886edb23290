"""AVA readers on malformed files: each error names the file and line; `ava_labels` and `ava_dataloaders` on bad input
(missing AVA.txt, test list or image, a corrupt image) and their splits. The well-formed cases are checked in nbs/02_ava.ipynb."""
import shutil
from pathlib import Path
import numpy as np, pytest
from aaacov.ava import read_ava, read_ava_styles, read_ava_style_multilab, AVAFormatError, ava_labels, ava_dataloaders, read_ava_ids, PROB_COLS
from aaacov.dataloaders import ImageLoadError

AVA = """1 953619 0 1 5 17 38 36 15 6 5 1 1 22 1396
2 953958 10 7 15 33 36 22 8 4 2 1 1 21 1396
3 954184 0 0 4 8 41 56 10 5 0 0 0 0 1396
"""

@pytest.mark.parametrize('line,msg', [('4 1 1 2 3\n', 'expected 15 fields'),
                                      ('4 77 0 1 a 17 38 36 15 6 5 1 1 22 1396\n', 'must be integers'),
                                      ('4 78 0 -1 5 17 38 36 15 6 5 1 1 22 1396\n', 'negative rating count'),
                                      ('4 953619 0 1 5 17 38 36 15 6 5 1 1 22 1396\n', 'listed twice')])
def test_bad_ava_lines_name_the_line(tmp_path, line, msg):
    (tmp_path/'AVA.txt').write_text(AVA + line)
    with pytest.raises(AVAFormatError, match=msg) as e: read_ava(tmp_path/'AVA.txt')
    assert 'line 4' in str(e.value)

def test_images_without_votes_dropped_with_warning(tmp_path):
    (tmp_path/'AVA.txt').write_text(AVA + '4 99 0 0 0 0 0 0 0 0 0 0 0 0 1\n')
    with pytest.warns(UserWarning, match=r'1 image\(s\) have no ratings'):
        assert len(read_ava(tmp_path/'AVA.txt')) == 3

def test_missing_and_empty_files(tmp_path):
    with pytest.raises(FileNotFoundError): read_ava(tmp_path/'AVA.txt')
    (tmp_path/'AVA.txt').write_text('')
    with pytest.raises(AVAFormatError, match='empty'): read_ava(tmp_path/'AVA.txt')

def test_bad_style_labels(tmp_path):
    (tmp_path/'train.jpgl').write_text('1\n2\n3\n'); (tmp_path/'train.lab').write_text('1\n7\n15\n')
    with pytest.raises(AVAFormatError, match='style 15 is not in 1..14'): read_ava_styles(tmp_path/'train.jpgl', tmp_path/'train.lab')
    (tmp_path/'train.lab').write_text('1\n7\n')
    with pytest.raises(AVAFormatError, match='3 images but .* 2 labels'): read_ava_styles(tmp_path/'train.jpgl', tmp_path/'train.lab')

def test_bad_multilab_flags(tmp_path):
    (tmp_path/'test.jpgl').write_text('5\n6\n')
    (tmp_path/'test.multilab').write_text('1 0 0 0 0 0 0 0 0 0 0 0 0 1\n0 0 0 0 0 0 0 0 0 0 2 0 0 0\n')
    with pytest.raises(AVAFormatError, match='line 2: style flags must be 0 or 1'):
        read_ava_style_multilab(tmp_path/'test.jpgl', tmp_path/'test.multilab')

# --- the data pipeline: ava_labels and ava_dataloaders (issue 15), on the synthetic AVA-format copy --------------------

@pytest.fixture(scope='module')
def syn_ava(tmp_path_factory):
    "The AVA-format copy of a tiny synthetic dataset (64 images, 6 of them test)."
    from aaacov.synthetic import make_aadb_like
    return make_aadb_like(tmp_path_factory.mktemp('syn')/'tiny', preset='tiny', progress=False)/'ava'

@pytest.fixture
def ava_copy(syn_ava, tmp_path):
    "A private copy to break."
    return Path(shutil.copytree(syn_ava, tmp_path/'ava'))

TEST_LIST = Path('aesthetics_image_lists')/'generic_test.jpgl'

def test_labels_table(syn_ava):
    lab = ava_labels(syn_ava)
    assert lab.columns[:3].tolist() == ['fname', 'image_id', 'split'] and (lab.fname == lab.image_id.astype(str) + '.jpg').all()
    assert lab.split.value_counts().to_dict() == {'train': 55, 'test': 6, 'valid': 3}
    assert sorted(lab.image_id[lab.split == 'test']) == sorted(read_ava_ids(syn_ava/TEST_LIST))
    np.testing.assert_allclose(lab[PROB_COLS].sum(axis=1), 1.0)

def test_valid_split_reproducible_disjoint_and_order_free(syn_ava, tmp_path):
    a, b, c = ava_labels(syn_ava, seed=3), ava_labels(syn_ava, seed=3), ava_labels(syn_ava, seed=4)
    valid = lambda t: set(t.image_id[t.split == 'valid'])
    assert valid(a) == valid(b) != valid(c)
    assert not valid(a) & set(read_ava_ids(syn_ava/TEST_LIST)) and set(a.image_id[a.split == 'test']).isdisjoint(valid(c))
    assert len(valid(ava_labels(syn_ava, valid_frac=0.2))) == round(0.2 * 58) and len(valid(ava_labels(syn_ava, valid_frac=0.001))) == 1
    (tmp_path/TEST_LIST.parent).mkdir(parents=True); shutil.copy(syn_ava/TEST_LIST, tmp_path/TEST_LIST)
    lines = (syn_ava/'AVA.txt').read_text().splitlines()
    (tmp_path/'AVA.txt').write_text('\n'.join(lines[::-1]) + '\n')        # the same images, the file in another order
    assert valid(ava_labels(tmp_path, seed=3)) == valid(a)

@pytest.mark.parametrize('frac', [0, 1, -0.1, 1.5])
def test_bad_valid_frac(syn_ava, frac):
    with pytest.raises(ValueError, match=r'valid_frac must be a fraction in \(0, 1\)'): ava_labels(syn_ava, valid_frac=frac)

def test_the_downloads_layout(ava_copy, tmp_path):
    "AVA.txt and its lists in AVA_dataset/, the images in a folder of their own: found from the top folder."
    top = tmp_path/'AVA'; (top/'AVA_dataset').mkdir(parents=True)
    for f in ('AVA.txt', 'aesthetics_image_lists'): shutil.move(ava_copy/f, top/'AVA_dataset'/f)
    shutil.move(ava_copy/'images', top/'images')
    assert len(ava_labels(top)) == 64 and len(ava_labels(top/'AVA_dataset'/'AVA.txt')) == 64   # the folder, or AVA.txt itself
    dls = ava_dataloaders(top, size=16, bs=8, num_workers=0, progress=False)
    assert len(dls.train_ds) == 55 and len(dls.valid_ds) == 3

def test_missing_ava_txt(ava_copy, tmp_path):
    (ava_copy/'AVA.txt').unlink()
    for call in (lambda: ava_labels(ava_copy), lambda: ava_dataloaders(ava_copy, size=16, num_workers=0)):
        with pytest.raises(FileNotFoundError, match='no AVA.txt in it or in .*AVA_dataset. Pass the folder of the AVA download') as e: call()
        assert str(ava_copy) in str(e.value) and '\n' not in str(e.value)
    with pytest.raises(FileNotFoundError, match='no such folder'): ava_labels(tmp_path/'nowhere')

def test_missing_or_foreign_test_list(ava_copy, tmp_path):
    (ava_copy/TEST_LIST).unlink()
    with pytest.raises(FileNotFoundError, match='generic_test.jpgl: no such file .*beside AVA.txt, or pass test_list='): ava_labels(ava_copy)
    with pytest.raises(FileNotFoundError, match='mine.jpgl: no such file .*Check the path given as test_list='):
        ava_labels(ava_copy, test_list=tmp_path/'mine.jpgl')
    (tmp_path/'other.jpgl').write_text('953619\n953958\n')
    with pytest.raises(AVAFormatError, match='other.jpgl shares no image id with .*AVA.txt: it is not the test list'):
        ava_labels(ava_copy, test_list=tmp_path/'other.jpgl')
    (tmp_path/'some.jpgl').write_text('1\n2\n99999\n')                   # ids unknown to AVA.txt: a warning, not an error
    with pytest.warns(UserWarning, match=r'1 test id\(s\) are not in AVA.txt'):
        assert (ava_labels(ava_copy, test_list=tmp_path/'some.jpgl').split == 'test').sum() == 2

def test_missing_image_dropped_with_the_warning_of_match_images(ava_copy):
    lab = ava_labels(ava_copy); gone = lab.fname[lab.split == 'train'].iat[0]
    (ava_copy/'images'/gone).unlink()
    with pytest.warns(UserWarning, match=rf"1 of 64 labelled image\(s\) not found under {ava_copy}: \['{gone}'\]. Their rows are dropped"):
        dls = ava_dataloaders(ava_copy, size=16, bs=8, num_workers=0, progress=False)
    assert len(dls.train_ds) + len(dls.valid_ds) == 57

def test_corrupt_image_named(ava_copy):
    lab = ava_labels(ava_copy); bad = lab.fname[lab.split == 'valid'].iat[0]
    (ava_copy/'images'/bad).write_bytes(b'\xff\xd8\xff\xe0\x00\x10JFIF\x00' + b'garbage' * 100)
    with pytest.raises(ImageLoadError, match=rf"1 image\(s\) cannot be used: .*{bad}.*Fix them or remove their rows"):
        ava_dataloaders(ava_copy, size=16, bs=8, num_workers=0, progress=False)
    dls = ava_dataloaders(ava_copy, size=16, bs=8, num_workers=0, progress=False, cache=False)    # no cache: named when loaded
    with pytest.raises(ImageLoadError, match=bad): [b for b in dls.valid]

def test_batches_are_raw_distributions(syn_ava):
    dls = ava_dataloaders(syn_ava, size=32, bs=8, num_workers=0, progress=False)
    xb, yb = dls.one_batch()
    assert tuple(xb.shape) == (8, 3, 32, 32) and tuple(yb.shape) == (8, 10) and dls.targets == PROB_COLS
    np.testing.assert_allclose(yb.sum(1).numpy(), 1.0, rtol=1e-5)
    lab = ava_labels(syn_ava)
    two = ava_dataloaders(lab, root=syn_ava, targets=['mean', 'std'], size=32, bs=8, num_workers=0, progress=False)
    y = two.valid.one_batch()[1].numpy()
    valid = lab[lab.split == 'valid']
    np.testing.assert_allclose(np.sort(y[:, 0]), np.sort(valid['mean'].to_numpy()), rtol=1e-5)   # label units, not standardised
    with pytest.raises(ValueError, match='no `path` column'): ava_dataloaders(lab, size=32, num_workers=0)

def test_single_target_mean(syn_ava):
    dls = ava_dataloaders(syn_ava, targets=['mean'], size=32, bs=8, num_workers=0, progress=False)
    assert tuple(dls.one_batch()[1].shape) == (8, 1)
