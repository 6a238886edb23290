"The `aaacov` command line: help, synth, train, predict (one row per input, always; resumable; real photos ok)."
import os, shutil, subprocess, sys
from pathlib import Path
import numpy as np, pandas as pd, pytest
from PIL import Image

BIN = Path(sys.executable).parent

def run(*args, env=None, check=True):
    r = subprocess.run([str(BIN/'aaacov'), *map(str, args)], capture_output=True, text=True, timeout=900,
                       env={**os.environ, 'MPLBACKEND': 'Agg', **(env or {})})
    if check: assert r.returncode == 0, r.stderr[-3000:]
    return r

def test_help_everywhere():
    assert 'predict' in run('--help').stdout
    for cmd in ('predict', 'train', 'synth', 'demo'): assert '--' in run(cmd, '--help').stdout

@pytest.fixture(scope='module')
def trained(tmp_path_factory):
    d = tmp_path_factory.mktemp('cli')
    run('synth', d/'data', '--preset', 'tiny', '--quiet')
    r = run('train', '--data', d/'data', '--out', d/'model', '--arch', 'resnet18', '--from-scratch', '--epochs', '1', '--size', '64', '--lr', '1e-3')
    assert (d/'model'/'model.safetensors').is_file() and (d/'model'/'test_scores.csv').is_file()
    return d

def _photos(dest):
    "Real photos shipped by scikit-image and scikit-learn, plus awkward files."
    from skimage import data
    dest.mkdir()
    for name in ('astronaut', 'chelsea', 'coffee', 'rocket'): Image.fromarray(getattr(data, name)()).save(dest/f'{name}.jpg')
    Image.fromarray(data.camera()).save(dest/'camera grey é.png')                                  # grayscale, unicode name
    Image.fromarray(data.chelsea()).convert('CMYK').save(dest/'cmyk.jpg')
    Image.fromarray(data.coffee()).convert('RGBA').save(dest/'alpha.png')
    (dest/'sub').mkdir(); Image.fromarray(data.rocket()).save(dest/'sub'/'nested.webp')
    (dest/'empty.jpg').write_bytes(b'')
    (dest/'text.jpg').write_text('hello')
    (dest/'notes.txt').write_text('not an image, not an image extension: not scored')
    return dest

def test_predict_one_row_per_file_and_resume(trained, tmp_path):
    photos = _photos(tmp_path/'photos')
    out = tmp_path/'r.csv'
    run('predict', photos, tmp_path/'nope.jpg', '--model', trained/'model', '--out', out, '--quiet', '--bs', '3')
    res = pd.read_csv(out)
    files = {Path(f).name: s for f, s in zip(res.file, res.status)}
    assert len(res) == 11 and len(set(res.file)) == 11
    for name in ('astronaut.jpg', 'chelsea.jpg', 'coffee.jpg', 'rocket.jpg', 'camera grey é.png', 'cmyk.jpg', 'alpha.png', 'nested.webp'):
        assert files[name] == 'ok', (name, files[name])
    assert files['empty.jpg'].startswith('skipped') and files['text.jpg'].startswith('skipped') and 'not found' in files['nope.jpg']
    ok = res[res.status == 'ok']
    assert ok[['score', 'sigma_score', 'Light']].notna().all().all() and (ok.sigma_score > 0).all()
    run('predict', photos, tmp_path/'nope.jpg', '--model', trained/'model', '--out', out, '--quiet')    # again: nothing twice
    assert len(pd.read_csv(out)) == 11
    Image.fromarray(np.zeros((8, 8, 3), np.uint8)).save(photos/'later.jpg')                          # resumed with a new file
    run('predict', photos, '--model', trained/'model', '--out', out, '--quiet')
    assert len(pd.read_csv(out)) == 12

def test_predict_refuses_foreign_csv_and_missing_model(trained, tmp_path):
    (tmp_path/'other.csv').write_text('a,b\n1,2\n')
    r = run('predict', trained/'data'/'images', '--model', trained/'model', '--out', tmp_path/'other.csv', check=False)
    assert r.returncode == 2 and 'not written by aaacov' in r.stderr and 'Traceback' not in r.stderr
    shutil.copytree(trained/'model', tmp_path/'broken'); (tmp_path/'broken'/'model.safetensors').write_bytes(b'xx')
    r = run('predict', trained/'data'/'images', '--model', tmp_path/'broken', '--out', tmp_path/'y.csv', check=False)
    assert r.returncode == 2 and 'truncated or corrupt' in r.stderr and 'Traceback' not in r.stderr

def test_packaged_model_scores_real_photos(tmp_path):
    "No --model: the model shipped in the package (head only, body from the verified MobileNetV2 file)."
    photos = _photos(tmp_path/'photos')
    r = run('predict', photos, '--out', tmp_path/'p.csv', '--quiet')
    assert 'SYNTHETIC' in r.stderr
    res = pd.read_csv(tmp_path/'p.csv')
    assert (res.status == 'ok').sum() == 8 and res.loc[res.status == 'ok', 'score'].between(-0.5, 1.5).all()

def _chromium():
    return shutil.which('chromium') or shutil.which('chromium-browser') or shutil.which('google-chrome')

def test_report_is_self_contained_and_renders(tmp_path):
    photos = _photos(tmp_path/'photos')
    run('predict', photos, '--out', tmp_path/'p.csv', '--report', tmp_path/'report.html', '--quiet')
    html = (tmp_path/'report.html').read_text(encoding='utf-8')
    assert html.count('<section class=card>') == 8 and '2 skipped' in html and 'synthetic data' in html
    assert "src='http" not in html and '<script' not in html and html.count('data:image/') >= 8 * 3 + 6 + 1
    browser = _chromium()
    if browser is None: pytest.skip('no Chromium on this machine (.ci/run installs Debian\'s chromium): report not rendered in a browser')
    shot = tmp_path/'shot.png'
    subprocess.run([browser, '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
                    '--disable-background-networking', '--disable-component-update', '--disable-sync',
                    f'--user-data-dir={tmp_path/"chrome"}', f'--screenshot={shot}', '--window-size=1200,1600',
                    (tmp_path/'report.html').as_uri()], capture_output=True, timeout=120)
    assert shot.is_file()
    px = np.asarray(Image.open(shot).convert('L'), dtype=float)
    assert px.shape == (1600, 1200) and px.std() > 20          # a rendered page with photos, not a blank one


# --- aaacov train: a checkpoint every epoch, resumed after an interruption ---------------------------------------

def _interrupt_after_epoch(monkeypatch, epoch):
    "Make the checkpoint of `epoch` the last thing a run does (as if Ctrl-C came right after it)."
    import aaacov.callbacks as L   # CheckpointCallback (exported to aaacov.callbacks) calls save_checkpoint from there
    real = L.save_checkpoint
    def save_then_stop(learn, path, e, **info):
        out = real(learn, path, e, **info)
        if e == epoch: raise KeyboardInterrupt
        return out
    monkeypatch.setattr(L, 'save_checkpoint', save_then_stop)

@pytest.mark.parametrize('mode', [[], ['--fine-tune']], ids=['frozen-head', 'fine-tune'])
def test_train_resumes_after_interruption_exactly(tmp_path, monkeypatch, capsys, mode):
    from aaacov.cli import main
    from aaacov.synthetic import synthetic_dataset
    from safetensors.torch import load_file
    data = synthetic_dataset('tiny', progress=False)
    args = ['train', '--data', str(data), '--images', str(data/'images'), '--epochs', '3', '--size', '32', '--bs', '16', '--lr', '1e-3', '--quiet', *mode]
    assert main(args + ['--out', str(tmp_path/'whole')]) == 0
    with monkeypatch.context() as m:
        _interrupt_after_epoch(m, 1)
        assert main(args + ['--out', str(tmp_path/'cut')]) == 130
    assert 'run the same command again to resume' in capsys.readouterr().err
    assert not (tmp_path/'cut'/'model.safetensors').exists() and (tmp_path/'cut'/'checkpoint'/'state.json').exists()
    assert main(args + ['--out', str(tmp_path/'cut')]) == 0
    assert 'resuming from the checkpoint after epoch 2 of 3' in capsys.readouterr().err
    a, b = load_file(str(tmp_path/'whole'/'model.safetensors')), load_file(str(tmp_path/'cut'/'model.safetensors'))
    # equal up to CPU float non-associativity (two uninterrupted runs differ by ~1e-7 too); a resume that lost the
    # shuffling or optimizer state differs by ~1e-3
    assert a.keys() == b.keys()
    worst = max(float(np.abs(a[k].numpy().astype(np.float64) - b[k].numpy()).max()) for k in a)
    assert worst < 1e-5, f'resumed run differs by {worst}'
    # the same folder with other options is refused, naming them; --restart starts again
    r = main([x if x != '3' else '4' for x in args] + ['--out', str(tmp_path/'cut')])
    err = capsys.readouterr().err
    assert r == 2 and "other options {'epochs': (3, 4)}" in err and '--restart' in err
    assert main([x if x != '3' else '4' for x in args] + ['--out', str(tmp_path/'cut'), '--restart']) == 0

def test_predict_workers_give_the_same_rows(trained, tmp_path):
    "Decoding in worker processes changes neither the rows nor the numbers."
    photos = _photos(tmp_path/'photos')
    run('predict', photos, '--model', trained/'model', '--out', tmp_path/'w0.csv', '--quiet', '--workers', '0')
    r = run('predict', photos, '--model', trained/'model', '--out', tmp_path/'w2.csv', '--workers', '2', '--bs', '2')
    assert '█' not in r.stdout + r.stderr and '%' not in r.stdout + r.stderr and 'scored' in r.stderr   # into a log: no bar, the summary
    a, b = (pd.read_csv(tmp_path/f).sort_values('file').reset_index(drop=True) for f in ('w0.csv', 'w2.csv'))
    pd.testing.assert_frame_equal(a, b, atol=1e-4)

def test_predict_bar_on_a_terminal(trained, tmp_path, monkeypatch, capsys):
    "On a terminal the progress bar counts files, and must never cut the stream of batches short (decoding threads, workers)."
    import aaacov.inference as inf
    photos = _photos(tmp_path/'photos')
    monkeypatch.setattr(inf, 'on_terminal', lambda: True)
    inf.predict_files([photos], trained/'model', tmp_path/'bar.csv', bs=2)
    assert '100.00%' in capsys.readouterr().out
    run('predict', photos, '--model', trained/'model', '--out', tmp_path/'log.csv', '--quiet')
    a, b = (pd.read_csv(tmp_path/f).sort_values('file').reset_index(drop=True) for f in ('bar.csv', 'log.csv'))
    pd.testing.assert_frame_equal(a, b, atol=1e-4)

def test_train_two_processes(tmp_path):
    "`aaacov train` launched by torchrun as two processes: data-parallel over gloo on this CPU, rank 0 writes the model."
    from aaacov.synthetic import synthetic_dataset
    from aaacov.learner import load_model
    data = synthetic_dataset('tiny', progress=False)
    cmd = [sys.executable, '-m', 'torch.distributed.run', '--nproc_per_node', '2', str(BIN/'aaacov'), 'train', '--data', str(data),
           '--images', str(data/'images'), '--fine-tune', '--epochs', '2', '--size', '32', '--bs', '8', '--lr', '1e-3', '--quiet']
    env = {**os.environ, 'OMP_NUM_THREADS': '1'}
    r = subprocess.run(cmd + ['--out', str(tmp_path/'m')], capture_output=True, text=True, timeout=600, env=env)
    assert r.returncode == 0, r.stderr[-3000:]
    assert 'process 0 of 2 (gloo, CPU)' in r.stderr and 'process 1 of 2 (gloo, CPU)' in r.stderr
    model, cfg = load_model(tmp_path/'m')
    assert cfg['arch'] == 'mobilenet_v2' and (tmp_path/'m'/'test_scores.csv').is_file()
    # the data-parallel checkpoint resumes (its keys are the bare model's, not DistributedDataParallel's)
    r = subprocess.run(cmd + ['--out', str(tmp_path/'m')], capture_output=True, text=True, timeout=600, env=env)
    assert r.returncode == 0 and 'resuming from the checkpoint after epoch 2 of 2' in r.stderr, r.stderr[-3000:]
    # without a learning rate every process would run its own range test: refused with the reason
    r = subprocess.run(cmd[:-3] + ['--quiet', '--out', str(tmp_path/'n')], capture_output=True, text=True, timeout=600, env=env)
    assert r.returncode != 0 and 'multi-process training is for --fine-tune' in r.stderr

def test_train_log_has_no_progress_bars(tmp_path):
    "`aaacov train` into a log (a pipe, not a terminal): its tables, but never a progress bar — the Σ calibration's neither."
    from aaacov.synthetic import synthetic_dataset
    r = run('train', synthetic_dataset('tiny', progress=False), '--out', tmp_path/'m', '--epochs', '1', '--size', '32')
    out = r.stdout + r.stderr
    assert 'model saved to' in out and '█' not in out and '[0/' not in out, out[-2000:]
