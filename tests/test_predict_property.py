"""Property: whatever a folder holds and however often `predict` is interrupted or its CSV cut short, a resumed run ends
with every regular image file scored exactly once, every other image-named file recorded as skipped, and no input
file changed."""
import csv, hashlib, io, os
import pytest
from hypothesis import given, settings, strategies as st, HealthCheck
from PIL import Image

pytest.importorskip('hypothesis')

@pytest.fixture(scope='module')
def tiny_model(tmp_path_factory):
    "An untrained ResNet-18 covariance model at 32 px: the property is about files, not scores, and it is fast."
    from aaacov.synthetic import synthetic_dataset
    from aaacov.data import read_aadb_labels, match_images
    from aaacov.dataloaders import aadb_dataloaders
    from aaacov.learner import cov_learner
    from aaacov.modelfiles import save_model_folder
    path = synthetic_dataset('tiny', progress=False)
    dls = aadb_dataloaders(match_images(read_aadb_labels(path), path/'images'), size=32, bs=16, standardize=True,
                           num_workers=0, progress=False)
    return save_model_folder(cov_learner(dls, 'resnet18', pretrained=False), tmp_path_factory.mktemp('model'))

def _bytes_name():
    text = st.text(st.characters(blacklist_categories=('Cs',), blacklist_characters='/\x00'), min_size=1, max_size=10).map(os.fsencode)
    raw = st.binary(min_size=1, max_size=8).filter(lambda b: b'/' not in b and b'\x00' not in b)   # not always valid UTF-8
    return st.one_of(text, raw).filter(lambda b: b not in (b'.', b'..'))

KINDS = ('jpg', 'png', 'garbage', 'empty')
files = st.lists(st.tuples(_bytes_name(), st.sampled_from([b'.jpg', b'.png', b'.txt']), st.sampled_from(KINDS), st.booleans()),
                 min_size=1, max_size=7, unique_by=lambda t: (t[0] + t[1], t[3]))

def _content(kind, i):
    if kind in ('jpg', 'png'):
        buf = io.BytesIO(); Image.new('RGB', (20 + i, 16), (40 * i % 255, 90, 160)).save(buf, 'JPEG' if kind == 'jpg' else 'PNG')
        return buf.getvalue()
    return b'' if kind == 'empty' else b'not an image ' * (i + 1)

def _snapshot(root):
    return {p: hashlib.sha256(open(p, 'rb').read()).hexdigest() for p in (os.path.join(d, f) for d, _, fs in os.walk(root) for f in fs)}

@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(spec=files, stop_after=st.integers(0, 3), cut=st.floats(0, 1), bs=st.sampled_from([1, 2, 3]))
def test_every_image_scored_exactly_once(tiny_model, tmp_path_factory, monkeypatch, spec, stop_after, cut, bs):
    import aaacov.inference as inf
    root = tmp_path_factory.mktemp('photos')
    broot = os.fsencode(str(root))
    os.mkdir(os.path.join(broot, b'sub'))
    expect_ok, expect_skip = set(), set()
    for i, (name, ext, kind, sub) in enumerate(spec):
        p = os.path.join(broot, b'sub' if sub else b'', name + ext)
        with open(p, 'wb') as f: f.write(_content(kind, i))
        if ext != b'.txt': (expect_ok if kind in ('jpg', 'png') else expect_skip).add(inf.csv_key(os.fsdecode(p)))
    before = _snapshot(broot)
    out = root.parent/f'{root.name}.csv'
    real, calls = inf._write_batch, []
    def interrupting(*a, **k):
        if len(calls) == stop_after: raise KeyboardInterrupt
        calls.append(1); return real(*a, **k)
    with monkeypatch.context() as m:
        m.setattr(inf, '_write_batch', interrupting)
        try: inf.predict_files([str(root)], tiny_model, out, bs=bs, num_workers=0, progress=False)
        except KeyboardInterrupt: pass
    if out.exists():   # a kill in the middle of a write: the file ends anywhere after its header
        data = out.read_bytes(); head = data.index(b'\n') + 1
        out.write_bytes(data[:head + int(cut * (len(data) - head))])
    inf.predict_files([str(root)], tiny_model, out, bs=bs, num_workers=0, progress=False)
    inf.predict_files([str(root)], tiny_model, out, bs=bs, num_workers=0, progress=False)   # a third run writes nothing
    with open(out, newline='', encoding='utf-8') as f: rows = list(csv.reader(f))[1:]
    keys = [r[0] for r in rows]
    assert len(keys) == len(set(keys)), 'a file has two rows'
    assert {r[0] for r in rows if r[1] == 'ok'} == expect_ok
    assert {r[0] for r in rows if r[1].startswith('skipped')} == expect_skip
    assert all(len(r) == len(rows[0]) for r in rows)
    assert _snapshot(broot) == before, 'an input file changed'
