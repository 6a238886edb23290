"""The synthetic dataset on disk and across processes: both label forms, byte-identical regeneration, the leak option,
the cache's reuse and refusals (never replacing a folder the generator did not write), progress bars only on a
terminal, the data loaders, concurrent generation, what `import aaacov.synthetic` provides and loads, and the AVA-format
copy in `ava/` (generator version 3).
The functions' own checks are the notebooks' (nbs/04_scenes, 05_synthetic, 06_baselines)."""
import hashlib, json, os, re, shutil, subprocess, sys
from pathlib import Path
import pandas as pd, pytest
from aaacov.data import read_aadb_labels, match_images
from aaacov.dataloaders import aadb_dataloaders
from aaacov.outputs import OutputError
from aaacov.synthetic import make_aadb_like, synthetic_dataset, synthetic_ava, ava_image_id, GENERATOR_VERSION
from aaacov.ava import read_ava, read_ava_ids, RATING_COLS

@pytest.fixture(scope='module')
def tiny(tmp_path_factory):
    return make_aadb_like(tmp_path_factory.mktemp('syn')/'tiny', preset='tiny', progress=False)

def _digest(root):
    h = hashlib.sha256()
    for f in sorted(Path(root).rglob('*')):
        if f.is_file(): h.update(str(f.relative_to(root)).encode()); h.update(f.read_bytes())
    return h.hexdigest()

def test_reads_like_real_aadb_in_both_forms(tiny):
    pd.testing.assert_frame_equal(read_aadb_labels(tiny, form='csv'), read_aadb_labels(tiny, form='txt'))

def test_deterministic_byte_identical(tiny, tmp_path):
    again = make_aadb_like(tmp_path/'again', preset='tiny', progress=False, workers=1)
    assert _digest(again) == _digest(tiny)
    other = make_aadb_like(tmp_path/'other', preset='tiny', seed=1, progress=False)
    assert _digest(other) != _digest(tiny)

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
    with pytest.raises(OutputError, match='holds files aaacov did not write'): make_aadb_like(tmp_path/'mine', preset='tiny', progress=False)
    with pytest.raises(OutputError, match='holds files aaacov did not write'):
        make_aadb_like(tmp_path/'mine', preset='tiny', progress=False, overwrite=True)
    assert (tmp_path/'mine'/'holiday.jpg').exists()   # never deletes a folder that is not a synthetic dataset

# --- what --overwrite may replace (issue 13): only a dataset this generator wrote, judged by its content ----------

def _tree(root):
    "Every entry under `root` (links not followed) with its bytes: to show that nothing changed."
    return sorted((str(p.relative_to(root)), p.is_symlink(), p.read_bytes() if p.is_file() and not p.is_symlink() else None)
                  for p in Path(root).rglob('*'))

@pytest.mark.parametrize('manifest,why', [
    ('{"short_name": "app", "start_url": "/"}', "without the generator's keys"),   # a web app's manifest
    ('{"args": {}, "files": [], "images": 3, "splits": {}}', "without the generator's keys"),   # the keys, but not the args
    ('[1, 2, 3]', 'not a JSON object'), ('"text"', 'not a JSON object'), ('{"args": ', 'not readable JSON'),
    ('[' * 100000 + ']' * 100000, 'not readable JSON'), (b'\xff\xfe{', 'not readable JSON')])
def test_overwrite_refuses_a_foreign_manifest(tmp_path, manifest, why):
    d = tmp_path/'site'; (d/'images').mkdir(parents=True); (d/'index.html').write_text('<html></html>')
    (d/'manifest.json').write_bytes(manifest if isinstance(manifest, bytes) else manifest.encode())
    before = _tree(d)
    with pytest.raises(OutputError, match=why) as e: make_aadb_like(d, n=3, overwrite=True, progress=False)
    assert str(d/'manifest.json') in str(e.value) and '\n' not in str(e.value)
    assert _tree(d) == before and sorted(p.name for p in tmp_path.iterdir()) == ['site']

def test_overwrite_refuses_own_dataset_with_extra_entries(tmp_path):
    own = make_aadb_like(tmp_path/'own', n=3, progress=False, workers=1)
    for extra, make in [('notes.txt', lambda p: p.write_text('mine')), ('sub', lambda p: p.mkdir()),
                        ('images/holiday.jpg', lambda p: p.write_bytes(b'x')), ('link', lambda p: os.symlink(tmp_path, p))]:
        make(own/extra)
        before = _tree(own)
        with pytest.raises(OutputError, match=f'files aaacov did not write \\({re.escape(extra)}\\)'):
            make_aadb_like(own, n=3, seed=1, overwrite=True, progress=False, workers=1)
        assert _tree(own) == before
        (own/extra).rmdir() if (own/extra).is_dir() and not (own/extra).is_symlink() else (own/extra).unlink()
    make_aadb_like(own, n=3, seed=1, overwrite=True, progress=False, workers=1)   # only its own files: replaced
    assert json.loads((own/'manifest.json').read_text())['args']['seed'] == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ['own']                     # nothing left aside

def test_dest_is_a_file(tmp_path):
    (tmp_path/'data.csv').write_text('a,b\n')
    with pytest.raises(OutputError, match='is a file, not a folder'): make_aadb_like(tmp_path/'data.csv', n=3, progress=False)
    assert (tmp_path/'data.csv').read_text() == 'a,b\n'

@pytest.mark.parametrize('explicit', [None, True, False])
def test_progress_only_on_a_terminal(tmp_path, explicit):
    "Output to a pipe (a log): no progress bar by default; `progress=True` still draws one, `False` none."
    code = (f"from aaacov.synthetic import make_aadb_like; make_aadb_like(r'{tmp_path}/d', n=3, workers=1"
            f"{'' if explicit is None else f', progress={explicit}'})")
    r = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    drawn = '|' in r.stdout or '\r' in r.stdout or '█' in r.stdout
    assert drawn == bool(explicit), repr(r.stdout[-300:])

def test_trains_through_the_same_dataloaders(tiny):
    lab = match_images(read_aadb_labels(tiny), tiny/'images')
    dls = aadb_dataloaders(lab, size=64, bs=8, num_workers=0)
    xb, yb = dls.one_batch()
    assert xb.shape == (8, 3, 64, 64) and yb.shape == (8, 12)

def test_concurrent_generation_of_the_same_dataset(tmp_path):
    "Parallel notebook tests and jobs may ask for one cached preset at once: all succeed, one complete copy remains."
    code = f"from aaacov.synthetic import make_aadb_like; make_aadb_like(r'{tmp_path}/same', preset='tiny', progress=False, workers=1)"
    procs = [subprocess.Popen([sys.executable, '-c', code], stderr=subprocess.PIPE, text=True) for _ in range(3)]
    errs = [p.communicate()[1] for p in procs]
    assert [p.returncode for p in procs] == [0, 0, 0], errs
    assert sorted(p.name for p in tmp_path.iterdir()) == ['same']
    assert len(read_aadb_labels(tmp_path/'same')) == 64

# Everything `aaacov.synthetic` exported before issue 12 split it into scenes / synthetic / baselines.
OLD_NAMES = ['PRESETS', 'AADB_SPLIT_SIZES', 'ONLY_POSITIVE_VOTES', 'RATERS_PER_IMAGE', 'GENERATOR_VERSION', 'split_counts',
             'aadb_label_moments', 'draw_latent', 'attribute_strengths', 'render_scene', 'sweep_gallery', 'make_raters',
             'assign_raters', 'vote', 'rating_histograms', 'make_aadb_like', 'data_home', 'synthetic_dataset',
             'read_ground_truth', 'noise_ceiling', 'image_statistics', 'statistics_table', 'learnability']

def test_old_names_import_from_synthetic_without_sklearn():
    "A fresh interpreter: every old name still imports from aaacov.synthetic (and is in its __all__); scikit-learn is not loaded."
    code = (f"import sys; from aaacov.synthetic import {', '.join(OLD_NAMES)}; import aaacov.synthetic as s; "
            f"missing = sorted(set({OLD_NAMES!r}) - set(s.__all__)); assert not missing, missing; "
            "loaded = [m for m in sys.modules if m.split('.')[0] == 'sklearn']; assert not loaded, loaded")
    r = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr

# --- generator version 2 (issue 14): the knobs --------------------------------------------------------------------

def test_knobs_change_only_their_mechanism_and_stay_byte_identical(tiny, tmp_path):
    a = make_aadb_like(tmp_path/'a', n=24, halo=False, progress=False, workers=1)
    b = make_aadb_like(tmp_path/'b', n=24, halo=False, progress=False, workers=2)
    assert _digest(a) == _digest(b)                                   # same arguments, same bytes (v2 too)
    on = make_aadb_like(tmp_path/'on', n=24, progress=False, workers=1)
    assert _digest(on) != _digest(a)
    assert _digest(on/'images') == _digest(a/'images')                # the pictures do not depend on the halo
    pd.testing.assert_frame_equal(pd.read_csv(on/'ground_truth.csv'), pd.read_csv(a/'ground_truth.csv'))
    assert json.loads((a/'manifest.json').read_text())['args']['halo'] is False
    assert json.loads((a/'mechanisms.json').read_text())['knobs']['halo'] is False

def test_missing_labels_read_only_when_asked(tmp_path):
    from aaacov.data import AADBLabelError
    d = make_aadb_like(tmp_path/'gappy', n=40, missing=0.5, progress=False, workers=1)
    with pytest.raises(AADBLabelError, match='allow_missing=True'): read_aadb_labels(d)
    with pytest.raises(AADBLabelError, match='allow_missing=True'): read_aadb_labels(d, form='txt')
    csv, txt = read_aadb_labels(d, allow_missing=True, form='csv'), read_aadb_labels(d, allow_missing=True, form='txt')
    pd.testing.assert_frame_equal(csv, txt)
    assert csv.score.notna().all() and 0 < csv.drop(columns=['fname', 'split', 'score']).isna().to_numpy().mean() < 0.5
    votes = pd.read_csv(d/'ratings.csv')
    assert votes.Light.isna().any() and set(votes.Light.dropna().unique()) <= {-1, 0, 1}
    assert read_aadb_labels(make_aadb_like(tmp_path/'full', n=12, progress=False, workers=1)).notna().all().all()

def test_v1_cache_manifest_is_the_generators(tmp_path):
    "A version-1 dataset (manifest without the knobs) is recognised as the generator's: replaced with overwrite, else refused politely."
    d = make_aadb_like(tmp_path/'old', n=3, progress=False, workers=1)
    m = json.loads((d/'manifest.json').read_text())
    m['args'] = {k: v for k, v in m['args'].items() if k in ('generator_version', 'n', 'seed', 'leak', 'quality')}
    m['args']['generator_version'] = 1; (d/'manifest.json').write_text(json.dumps(m))
    with pytest.raises(FileExistsError, match='different or incomplete'): make_aadb_like(d, n=3, progress=False)
    make_aadb_like(d, n=3, progress=False, overwrite=True)
    assert json.loads((d/'manifest.json').read_text())['args']['generator_version'] == GENERATOR_VERSION

def test_synth_cli_knobs(tmp_path):
    from aaacov.cli import main
    assert main(['synth', '--out', str(tmp_path/'s'), '--n', '6', '--no-halo', '--no-taste', '--missing', '0.5', '--quiet']) == 0
    args = json.loads((tmp_path/'s'/'manifest.json').read_text())['args']
    assert (args['halo'], args['taste'], args['ambiguity'], args['missing']) == (False, False, True, 0.5)

# --- generator version 3 (issue 15): the AVA-format copy in ava/ ------------------------------------------------------

def test_ava_folder_is_the_same_dataset_in_avas_form(tiny):
    ava_dir = tiny/'ava'
    assert sorted(p.relative_to(ava_dir).as_posix() for p in ava_dir.rglob('*') if p.parent.name != 'images') == \
        ['AVA.txt', 'aesthetics_image_lists', 'aesthetics_image_lists/generic_test.jpgl', 'images', 'tags.txt']
    ava = read_ava(ava_dir/'AVA.txt')
    hist = pd.read_csv(tiny/'histograms.csv')
    assert ava.image_id.tolist() == [ava_image_id(f) for f in hist.fname] == list(range(1, 65))
    assert (ava[RATING_COLS].to_numpy() == hist[RATING_COLS].to_numpy()).all()
    assert ava['index'].tolist() == list(range(1, 65)) and (ava.tag2 == 0).all() and (ava.challenge == 0).all()
    gt = pd.read_csv(tiny/'ground_truth.csv')
    tags = dict(line.split(' ', 1) for line in (ava_dir/'tags.txt').read_text().splitlines())
    assert [tags[str(t)] for t in ava.tag1] == gt.content.tolist()       # semantic tag 1: the content class
    test_ids = read_ava_ids(ava_dir/'aesthetics_image_lists'/'generic_test.jpgl')
    lab = read_aadb_labels(tiny)
    assert test_ids == sorted(ava_image_id(f) for f in lab.fname[lab.split == 'test'])
    for f in gt.fname:
        a, b = ava_dir/'images'/f"{ava_image_id(f)}.jpg", tiny/'images'/f
        assert a.read_bytes() == b.read_bytes() and os.path.samefile(a, b)   # hard links here: the same file
    assert len(list((ava_dir/'images').iterdir())) == 64

def test_ava_copy_without_hard_links_is_byte_identical(tmp_path, monkeypatch):
    linked = make_aadb_like(tmp_path/'linked', n=6, progress=False, workers=1)
    def no_links(*a, **k): raise OSError(1, 'Operation not permitted')
    monkeypatch.setattr(os, 'link', no_links)
    copied = make_aadb_like(tmp_path/'copied', n=6, progress=False, workers=1)
    assert _digest(copied) == _digest(linked)
    assert not os.path.samefile(copied/'ava'/'images'/'1.jpg', copied/'images'/'synth_0_00000.jpg')

def test_ava_test_list_with_the_leak(tmp_path):
    "With leak=True a test image also listed as validation is in generic_test.jpgl once, as test; AVA.txt lists every image once."
    d = make_aadb_like(tmp_path/'leaky', n=200, leak=True, progress=False)
    keep = read_aadb_labels(d, keep_leak=True)
    leaked = set(keep.fname[keep.split == 'valid']) & set(keep.fname[keep.split == 'test'])
    assert len(leaked) == 3
    ids = read_ava_ids(d/'ava'/'aesthetics_image_lists'/'generic_test.jpgl')
    assert len(ids) == len(set(ids)) == (keep.split == 'test').sum() and {ava_image_id(f) for f in leaked} <= set(ids)
    assert len(read_ava(d/'ava'/'AVA.txt')) == 200

@pytest.mark.parametrize('extra,make', [('ava/notes.txt', lambda p: p.write_text('mine')),
                                        ('ava/images/holiday.jpg', lambda p: p.write_bytes(b'x')),
                                        ('ava/images/12.jpeg', lambda p: p.write_bytes(b'x')),
                                        ('ava/style_image_lists', lambda p: p.mkdir()),
                                        ('ava/aesthetics_image_lists/generic_train.jpgl', lambda p: p.write_text('1\n')),
                                        ('ava/link', lambda p: os.symlink(p.parent.parent/'images', p))])
def test_user_files_in_ava_are_refused_and_left_alone(tmp_path, extra, make):
    own = make_aadb_like(tmp_path/'own', n=3, progress=False, workers=1)
    make(own/extra)
    before = _tree(own)
    if extra.endswith('.jpg'):   # one more image than asked for: incomplete, refused as in images/
        with pytest.raises(FileExistsError, match='different or incomplete'): make_aadb_like(own, n=3, progress=False, workers=1)
    else: assert make_aadb_like(own, n=3, progress=False, workers=1) == own                      # reused as it is
    assert _tree(own) == before
    with pytest.raises(OutputError, match=f'files aaacov did not write \\({re.escape(extra)}\\)') as e:
        make_aadb_like(own, n=3, seed=1, overwrite=True, progress=False, workers=1)
    assert '\n' not in str(e.value) and _tree(own) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ['own']

@pytest.mark.parametrize('kind', ['link', 'file'])
def test_ava_replaced_by_a_link_or_file_is_foreign(tmp_path, kind):
    own = make_aadb_like(tmp_path/'own', n=3, progress=False, workers=1)
    shutil.rmtree(own/'ava')
    os.symlink(tmp_path, own/'ava') if kind == 'link' else (own/'ava').write_text('mine')
    before = _tree(own)
    with pytest.raises(OutputError, match=r'files aaacov did not write \(ava\)'):
        make_aadb_like(own, n=3, overwrite=True, progress=False, workers=1)
    assert _tree(own) == before

def _as_version_2(d):
    "Make dataset `d` what generator version 2 wrote: no ava/, a manifest without it."
    m = json.loads((d/'manifest.json').read_text()); shutil.rmtree(d/'ava')
    m['args']['generator_version'] = 2; m['files'] = [f for f in m['files'] if not f.startswith('ava/')]
    (d/'manifest.json').write_text(json.dumps(m))

def test_version_2_cache_replaced_and_synthetic_ava(tmp_path, monkeypatch):
    monkeypatch.setenv('AAACOV_DATA', str(tmp_path))
    d = synthetic_dataset('tiny', n=6, progress=False, workers=1)
    digest = _digest(d)
    _as_version_2(d)
    with pytest.raises(FileExistsError, match='different or incomplete'): make_aadb_like(d, n=6, progress=False)   # asked for directly
    assert synthetic_ava('tiny', n=6, progress=False, workers=1) == d/'ava'                          # the cache: replaced
    assert _digest(d) == digest and json.loads((d/'manifest.json').read_text())['args']['generator_version'] == GENERATOR_VERSION
    assert sorted(p.name for p in tmp_path.iterdir()) == [d.name]
    _as_version_2(d); (d/'ava').mkdir(); (d/'ava'/'mine.txt').write_text('mine')                   # v2 never wrote ava/: the user's
    with pytest.raises(FileExistsError, match='different or incomplete'): synthetic_ava('tiny', n=6, progress=False)
    assert (d/'ava'/'mine.txt').read_text() == 'mine'
