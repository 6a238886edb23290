"""The ONNX Runtime engine of `aaacov predict`: the same CSV as the PyTorch engine for every registered method, the
export cached and refused where it is not ours, `aaacov export` (and `--int8`, checked on the test split), their bad input."""
import csv, json, shutil
from pathlib import Path
import numpy as np, pandas as pd, pytest
from conftest import aaacov_cli as run, small_photos

from aaacov.methods import METHODS

@pytest.fixture(scope='module')
def syn():
    from aaacov.synthetic import synthetic_dataset
    return synthetic_dataset('tiny', progress=False)

@pytest.fixture(scope='module')
def photos(tmp_path_factory): return small_photos(tmp_path_factory.mktemp('photos'))

@pytest.fixture(scope='module')
def models(tmp_path_factory, syn):
    "One model folder per registered method, trained for an epoch at 64 px on the tiny synthetic set (frozen MobileNetV2)."
    import warnings
    from aaacov.train import train
    from aaacov.synthetic import synthetic_ava
    d, out = tmp_path_factory.mktemp('models'), {}
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        for name in sorted(METHODS):   # the distribution losses on the AVA-format copy (rating histograms), the rest on AADB's format
            data = synthetic_ava('tiny', progress=False) if name in ('ce', 'emd', 'huber', 'pmse') else syn
            train(data, d/name, loss=name, epochs=1, size=64, bs=16, lr=3e-3, quiet=True, checkpoint=False, include_body=False)
            out[name] = d/name
    return out

def _copy(model, dest) -> Path:
    "A model folder's own files (config and weights; no export) copied to `dest`."
    dest.mkdir()
    for f in ('config.json', 'model.safetensors'): shutil.copy(model/f, dest/f)
    return dest

def _csv(path) -> pd.DataFrame: return pd.read_csv(path).set_index('file').sort_index()

@pytest.mark.parametrize('method', sorted(METHODS))
def test_engines_agree(method, models, photos, tmp_path):
    "Every value of the CSV (each output, its sigma, probabilities, gates) within 1e-4 between the engines; the same rows and columns."
    from aaacov.inference import predict_files
    for engine in ('torch', 'onnx'): predict_files([photos], models[method], tmp_path/f'{engine}.csv', bs=2, progress=False, engine=engine)
    a, b = _csv(tmp_path/'torch.csv'), _csv(tmp_path/'onnx.csv')
    assert list(a.columns) == list(b.columns) and list(a.index) == list(b.index)
    assert (a.status == b.status).all() and (a.status == 'ok').sum() == 3
    num = a.select_dtypes('number').columns
    assert len(num) >= 1
    x, y = a[num].to_numpy(float), b[num].to_numpy(float)
    assert (np.isnan(x) == np.isnan(y)).all()
    assert np.nanmax(np.abs(x - y)) <= 1e-4 + 1e-5 * np.nanmax(np.abs(x)), (method, np.nanmax(np.abs(x - y)))

def test_export_cli_cached_and_reused(models, tmp_path):
    model = _copy(models['cov'], tmp_path/'m')
    r = run('export', model)
    f = Path(r.stdout.split('ONNX (fp32): ')[1].split()[0])
    assert f.parent == model and f.name.startswith('model-') and f.suffix == '.onnx' and 'exporting' in r.stderr
    rec = json.loads(Path(str(f) + '.json').read_text())
    assert rec['tool'] == 'aaacov export' and rec['max_abs_diff'] < 1e-4
    r2 = run('export', model)
    assert 'exporting' not in r2.stderr and str(f) in r2.stdout          # cached: nothing exported twice
    # new weights, new hash: the old export is not used for them
    cfg = json.loads((model/'config.json').read_text()); cfg['target_std'] = [s * 2 for s in cfg['target_std']]
    (model/'config.json').write_text(json.dumps(cfg))
    r3 = run('export', model)
    assert 'exporting' in r3.stderr and str(f) not in r3.stdout
    # the export of the old weights is ours and never used again: it is gone, the new one and its record stay
    assert not f.exists() and not Path(str(f) + '.json').exists() and len(list(model.glob('model-*.onnx'))) == 1

def test_predict_default_engine_is_onnx_and_exports_once(models, photos, tmp_path):
    model = _copy(models['mse'], tmp_path/'m')
    r = run('predict', photos, '--model', model, '--out', tmp_path/'r.csv')
    assert 'exporting' in r.stderr and len(list(model.glob('model-*.onnx'))) == 1
    r = run('predict', photos, '--model', model, '--out', tmp_path/'r2.csv')
    assert 'exporting' not in r.stderr

def test_export_of_the_packaged_model_goes_to_the_cache(tmp_path):
    "Nothing is written into the installed package: the packaged model's export lives in $AAACOV_CACHE/onnx."
    import os
    from aaacov.engine import export_onnx
    from aaacov.inference import default_model_dir
    f = export_onnx(default_model_dir(), quiet=True)
    assert Path(os.environ['AAACOV_CACHE']) in f.parents and not list(default_model_dir().glob('*.onnx'))

def test_foreign_file_at_the_export_path_is_kept(models, tmp_path):
    from aaacov.engine import export_name
    model = _copy(models['cov'], tmp_path/'m')
    mine = model/export_name(model); mine.write_bytes(b'my notes')
    r = run('export', model, check=False)
    assert r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1 and 'not written by aaacov export' in r.stderr
    assert mine.read_bytes() == b'my notes'

@pytest.mark.parametrize('args, says', [
    (['export', '{model}', '--int8'], '--calib DATA'),
    (['predict', '{photos}', '--model', '{model}', '--int8', '--out', '{tmp}/r.csv'], 'aaacov export'),
    (['predict', '{photos}', '--model', '{model}', '--int8', '--engine', 'torch', '--out', '{tmp}/r.csv'], 'ONNX engine'),
    (['predict', '{photos}', '--model', '{model}', '--engine', 'tensorrt', '--out', '{tmp}/r.csv'], 'invalid choice'),
])
def test_bad_engine_input_one_line(args, says, models, photos, tmp_path):
    model = _copy(models['cov'], tmp_path/'m')
    r = run(*[a.format(model=model, photos=photos, tmp=tmp_path) for a in args], check=False)
    assert r.returncode == 2 and says in r.stderr and 'Traceback' not in r.stderr, r.stderr[-1500:]
    assert not (tmp_path/'r.csv').exists()

def test_int8_export_checked_and_used(models, photos, syn, tmp_path):
    "int8: calibrated on the training photos, its SRCC change on the test split printed and recorded; predict --int8 uses it; fp32 rows never mix with it."
    model = _copy(models['cov'], tmp_path/'m')
    r = run('export', model, '--int8', '--calib', syn)
    assert 'ONNX (int8): ' in r.stdout and 'average SRCC on the test split' in r.stdout
    q = next(model.glob('model-*-int8.onnx'))
    rec = json.loads(Path(str(q) + '.json').read_text())['int8']
    assert rec['srcc_int8'] >= rec['srcc_fp32'] - 0.01 and rec['n_test'] > 0 and rec['n_calib'] > 0
    run('predict', photos, '--model', model, '--int8', '--out', tmp_path/'q.csv', '--quiet')
    fp = run('predict', photos, '--model', model, '--out', tmp_path/'f.csv', '--quiet')
    a, b = _csv(tmp_path/'f.csv'), _csv(tmp_path/'q.csv')
    assert list(a.columns) == list(b.columns) and (b.status == 'ok').sum() == 3
    assert np.abs(a['score'] - b['score']).max() < 0.5   # close, not equal: int8
    r = run('predict', photos, '--model', model, '--int8', '--out', tmp_path/'f.csv', check=False)
    assert r.returncode == 2 and 'must not mix' in r.stderr

@pytest.mark.parametrize('method', ['pear', 'kong', 'ce'])
def test_onnx_predictor_maps_build_the_torch_model(method, models, photos):
    "The ONNX engine builds the PyTorch model only for the report's maps, and a decoder's linearised maps differentiate through it."
    from PIL import Image
    from aaacov.inference import Predictor
    p = Predictor(models[method], engine='onnx')
    assert p._model is None
    m = p.maps(Image.open(photos/'coffee.jpg'), [0])
    assert p._model is not None and m.shape[0] == 1 and np.isfinite(m).all() and np.abs(m).max() > 0

def test_export_refused_default_engine_falls_back(models, photos, tmp_path, monkeypatch, capsys):
    "A model whose export fails the check is scored by PyTorch under the default engine, saying so; `--engine onnx` refuses it."
    import aaacov.engine as eng
    from aaacov.inference import Predictor
    model = _copy(models['cov'], tmp_path/'m')
    real = eng.ort_session
    def refuse(f, threads=None):   # ONNX Runtime refuses the graph at the export's check
        if str(f).endswith('.tmp'): raise RuntimeError("[ONNXRuntimeError] : 1 : FAIL : Non-zero status code returned while running Reshape node")
        return real(f, threads)
    monkeypatch.setattr(eng, 'ort_session', refuse)
    p = Predictor(model)
    err = capsys.readouterr().err
    assert p.engine == 'torch' and 'scoring with the PyTorch engine' in err and 'ONNX Runtime: [ONNXRuntimeError]' in err, err
    assert not list(Path(model).glob('*.onnx*')), "a refused export leaves nothing behind"
    with pytest.raises(eng.ExportError, match='differs'): Predictor(model, engine='onnx')
    def untraceable(*a, **kw): raise RuntimeError("Unsupported operator aten::foo")
    monkeypatch.setattr(eng, '_trace', untraceable)
    with pytest.raises(eng.ExportError, match='could not export.*aten::foo'): Predictor(model, engine='onnx')

def test_nowhere_to_export_default_engine_falls_back(models, tmp_path, monkeypatch, capsys):
    "A read-only model folder and an unwritable cache: the default engine scores with PyTorch, saying how to get the export; `--engine onnx` refuses."
    import aaacov.engine as eng
    from aaacov.inference import Predictor
    model = _copy(models['cov'], tmp_path/'m')
    monkeypatch.setenv('AAACOV_CACHE', str(tmp_path/'cache'))
    monkeypatch.setattr(eng, 'writable_dir', lambda folder: False)   # as a read-only mount would (root ignores permission bits)
    p = Predictor(model)
    err = capsys.readouterr().err
    assert p.engine == 'torch' and 'nowhere to write' in err and 'AAACOV_CACHE' in err and 'scoring with the PyTorch engine' in err, err
    with pytest.raises(eng.ExportError, match='nowhere to write'): Predictor(model, engine='onnx')

def test_broken_model_default_engine_does_not_fall_back(models, tmp_path, capsys):
    "A model that does not load is an error under the default engine too: one message, no 'scoring with the PyTorch engine'."
    from safetensors.torch import load_file, save_file
    from aaacov.inference import Predictor
    from aaacov.modelfiles import ModelFileError
    model = _copy(models['cov'], tmp_path/'m')
    w = load_file(model/'model.safetensors'); k = next(k for k, v in w.items() if v.is_floating_point()); w[k] = w[k] * float('nan')
    save_file(w, model/'model.safetensors')
    with pytest.raises(ModelFileError, match='NaN'): Predictor(model)
    assert 'PyTorch engine' not in capsys.readouterr().err
