"The rehearsal AADB folder (`tools/aadb_rehearsal.py`) is laid out like the release and read by the real-data loaders."
import importlib.util, warnings
from pathlib import Path
import pytest
from aaacov.data import read_aadb_labels, match_images, aadb_labels, TARGETS

_spec = importlib.util.spec_from_file_location('aadb_rehearsal', Path(__file__).parents[1]/'tools'/'aadb_rehearsal.py')
rh = importlib.util.module_from_spec(_spec); _spec.loader.exec_module(rh)

def _read(root):
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        labels = read_aadb_labels(root)
        return labels, match_images(labels, root)

@pytest.mark.parametrize('form', ['csv', 'txt'])
def test_rehearsal_layout(tmp_path, form):
    dest = rh.build(tmp_path/'aadb', n=24, form=form, quiet=True)
    assert (dest/'REHEARSAL.txt').is_file() and 'meaningless' in (dest/'REHEARSAL.txt').read_text()
    assert (dest/'imgListFiles_label').is_dir() and (dest/'datasetImages_warp256').is_dir()
    labels, found = _read(dest)
    real = aadb_labels()
    assert len(labels) == len(real) == 8458 + 373 + 1000                       # all the real labels, read as a user's folder
    assert labels[['fname', 'split'] + TARGETS].equals(real[['fname', 'split'] + TARGETS])
    assert len(found) == 24 and found.split.value_counts().to_dict() == {'train': 16, 'valid': 4, 'test': 4}
    assert len(found.attrs['missing']) == len(real) - 24
    assert all(Path(p).parent.name == 'datasetImages_warp256' for p in found.path)
    assert set(found.fname) <= set(real.fname)                                 # real AADB names

def test_rehearsal_deterministic_idempotent(tmp_path):
    a, b = rh.build(tmp_path/'a', n=12, quiet=True), rh.build(tmp_path/'b', n=12, quiet=True)
    files = lambda d: {p.relative_to(d): p.read_bytes() for p in sorted(d.rglob('*')) if p.is_file()}
    assert files(a) == files(b)
    before = files(a); rh.build(a, n=12, quiet=True); assert files(a) == before
    rh.build(a, n=6, quiet=True)                                               # a smaller rebuild removes stale pictures
    assert len(list((a/'datasetImages_warp256').iterdir())) == 6

def test_rehearsal_refuses_foreign_folder(tmp_path):
    (tmp_path/'real').mkdir(); (tmp_path/'real'/'photo.jpg').write_bytes(b'x')
    with pytest.raises(FileExistsError): rh.build(tmp_path/'real', n=6, quiet=True)
    assert (tmp_path/'real'/'photo.jpg').read_bytes() == b'x'
