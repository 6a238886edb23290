"""Scoring engines of `aaacov predict` in one run: ONNX Runtime vs PyTorch, int8 vs fp32 ONNX, time to the first CSV row, predict vs model-only.

Goals (issue 19), each printed as a ratio measured in this run:
  1. predict images/s, `--engine onnx` vs `--engine torch`                               goal >= 1.5x
  2. predict images/s, int8 ONNX vs fp32 ONNX, with the average test SRCC change         goal >= 1.8x, SRCC change >= -0.01
  3. time to the first CSV row, `aaacov predict` today vs the old import chain            goal <= 0.5x
     (new: the console script as a user runs it; old: the same after importing what `predict` imported before issue 19 --
     fastai, scikit-learn, matplotlib through aaacov.learner -- scoring with --engine torch)
  4. predict images/s vs the model-only forward of the same engine                        goal >= 0.8x
Also shown: decoding threads 0 / 1 / 2 (the default) beside the ONNX engine (predict_files' `threads`), to see whether
overlap pays, and decoding alone, which bounds predict on 2 cores.
Photos: N photo-sized JPEGs (default 1024x768, q90) made from the real photos shipped with scikit-image / scikit-learn
(bench/train_pipeline.py `make_photos`).  Model: a scratch copy of the packaged one (covariance head on MobileNetV2,
224 px), so its exports are made in the copy and nothing of the user's is touched.  The int8 export is calibrated on
the training photos of the synthetic set the packaged model was trained on (`--data small`; `--data tiny` at the test
size) and its SRCC change is measured on that set's test split.
Each measurement runs in a fresh process, as a user runs one engine (in one process, ONNX Runtime's spinning thread
pool and torch's slow each other down: measured 3x on the torch forward right after an ONNX run).  Predict images/s:
`predict_files` on the folder with the `Predictor` already loaded (loading is timed apart and printed; the exports
are made before).  Model-only: `Predictor.batch` (normalise, forward, decode) on uint8 batches already
decoded and resized in memory.  Variants alternate round by round (A B C, C B A, ...) so that machine drift hits all
alike; medians are printed.
Usage: python bench/engines.py [--n 256] [--rounds 3] [--bs 16] [--photo-size 1024x768] [--data small] [--first-row-n 16] [--record]
"""
import argparse, os, shutil, statistics, subprocess, sys, tempfile, time, warnings
from pathlib import Path
warnings.filterwarnings("ignore", category=FutureWarning); warnings.filterwarnings("ignore", category=UserWarning)
import numpy as np, torch
sys.path.insert(0, str(Path(__file__).parent))
from train_pipeline import make_photos, parse_size
from _record import add_record_flag, check_record_args, record_all
from aaacov.inference import Predictor, predict_files, default_model_dir
from aaacov.engine import export_onnx, quantize_onnx, export_record

OLD_CHAIN = ("import sys, aaacov.learner\n"   # what `aaacov predict` imported before issue 19: fastai, scikit-learn, matplotlib
             "from aaacov.cli import main\n"
             "raise SystemExit(main(sys.argv[1:]))")

def first_row_seconds(cmd, out:Path, timeout:float=300) -> float:
    "Seconds from starting `cmd` until `out` holds a data row (the header and one line); the process then runs to its end."
    out.unlink(missing_ok=True); Path(str(out) + '.aaacov.json').unlink(missing_ok=True)
    t = time.perf_counter(); proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    first = None
    while first is None and time.perf_counter() - t < timeout:
        if out.exists() and out.read_bytes().count(b'\n') >= 2: first = time.perf_counter() - t
        elif proc.poll() is not None:
            if out.exists() and out.read_bytes().count(b'\n') >= 2: first = time.perf_counter() - t
            else: raise RuntimeError(f"{cmd[:3]} ended without a row: {proc.stderr.read().decode()[-500:]}")
        else: time.sleep(0.005)
    proc.wait(); assert proc.returncode == 0, proc.stderr.read().decode()[-500:]
    return first

def child(a):
    "One measurement in this fresh process: prints images/s (or seconds) as the last line."
    import json
    model, folder, out = Path(a.model), Path(a.folder), Path(a.folder).parent/f'out-{os.getpid()}.csv'
    kind, engine, threads = a.child.split(':')
    kw = dict(engine='onnx', int8=True) if engine == 'int8' else dict(engine=engine)
    t = time.perf_counter(); pred = Predictor(model, **kw); t_load = time.perf_counter() - t
    files = sorted(folder.glob('*.jpg'))
    if kind == 'predict':
        t = time.perf_counter()
        c = predict_files([folder], pred, out, bs=a.bs, progress=False, threads=None if threads == '-' else int(threads))
        dt = time.perf_counter() - t
        assert c['ok'] == len(files), c
        print(json.dumps({'value': len(files) / dt, 'load': t_load}))
    elif kind == 'decode':   # decoding alone, as predict_files does it (`threads` threads), no model
        from aaacov.inference import _PhotoStream
        t = time.perf_counter(); n = sum(1 for _ in _PhotoStream([folder], pred.pixels, threads=int(threads), ahead=2 * a.bs))
        print(json.dumps({'value': n / (time.perf_counter() - t), 'load': t_load}))
    else:
        batches = list(torch.stack([pred.pixels.load(p) for p in files]).split(a.bs))
        for x in batches[:2]: pred.batch(x)   # warm-up
        t = time.perf_counter()
        for x in batches: pred.batch(x)
        print(json.dumps({'value': len(files) / (time.perf_counter() - t), 'load': t_load}))

def run_child(variant, a, model, folder) -> dict:
    import json
    r = subprocess.run([sys.executable, __file__, '--child', variant, '--model', str(model), '--folder', str(folder), '--bs', str(a.bs)],
                       capture_output=True, text=True)
    if r.returncode != 0: raise RuntimeError(f"{variant}: {r.stderr[-1500:]}")
    return json.loads(r.stdout.strip().splitlines()[-1])

def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--n', type=int, default=256, help='photos in the folder'); ap.add_argument('--rounds', type=int, default=3)
    ap.add_argument('--bs', type=int, default=16, help="batch size (predict's default 16)")
    ap.add_argument('--photo-size', type=parse_size, default=(1024, 768), help='WxH of the test JPEGs')
    ap.add_argument('--data', default='small', choices=['tiny', 'small'], help="synthetic preset whose train split calibrates int8 and whose test split checks it")
    ap.add_argument('--first-row-n', type=int, default=16, help='photos scored by each time-to-first-row run')
    ap.add_argument('--child', help=argparse.SUPPRESS); ap.add_argument('--model', help=argparse.SUPPRESS); ap.add_argument('--folder', help=argparse.SUPPRESS)
    add_record_flag(ap)
    a = ap.parse_args()
    if a.child: return child(a)
    check_record_args(ap, a)
    from aaacov.synthetic import synthetic_dataset
    load0 = os.getloadavg()[0]
    tmp = tempfile.TemporaryDirectory(prefix='aaacov-bench-'); tmpd = Path(tmp.name)
    model = tmpd/'model'; shutil.copytree(default_model_dir(), model)
    folder = tmpd/'photos'
    t = time.perf_counter(); files = make_photos(folder, a.n, a.photo_size); t_make = time.perf_counter() - t
    t = time.perf_counter(); export_onnx(model, quiet=True); t_export = time.perf_counter() - t
    data = synthetic_dataset(a.data, progress=False)
    t = time.perf_counter(); q = quantize_onnx(model, data, max_drop=float('inf'), quiet=True); t_quant = time.perf_counter() - t
    q8 = __import__('json').loads(export_record(q).read_text())['int8']

    names = {'predict:torch:-': 'predict torch', 'predict:onnx:-': 'predict onnx', 'predict:int8:-': 'predict onnx int8',
             'model:torch:-': 'model-only torch', 'model:onnx:-': 'model-only onnx', 'model:int8:-': 'model-only onnx int8',
             'predict:onnx:0': 'predict onnx, 0 threads', 'predict:onnx:1': 'predict onnx, 1 thread',
             'decode:onnx:1': 'decode only, 1 thread', 'decode:onnx:2': 'decode only, 2 threads'}
    res, loads = {k: [] for k in names.values()}, {}
    for r in range(a.rounds):   # A B C, C B A, ...: no variant always runs first or last
        for v in (list(names) if r % 2 == 0 else list(names)[::-1]):
            out = run_child(v, a, model, folder); res[names[v]].append(out['value']); loads.setdefault(v.split(':')[1], []).append(out['load'])
    med = {k: statistics.median(v) for k, v in res.items()}
    loads = {k: statistics.median(v) for k, v in loads.items()}

    # time to the first CSV row: a fresh process each, as a user starts it, alternating which goes first
    few = tmpd/'few'; few.mkdir()
    for p in files[:a.first_row_n]: shutil.copy(p, few/p.name)
    script = Path(sys.executable).parent/'aaacov'
    new_cmd = [str(script) if script.exists() else sys.executable, *([] if script.exists() else ['-m', 'aaacov.cli']),
               'predict', str(few), '--model', str(model), '--out', str(tmpd/'first.csv'), '--quiet']
    old_cmd = [sys.executable, '-c', OLD_CHAIN, 'predict', str(few), '--model', str(model), '--out', str(tmpd/'first.csv'), '--quiet', '--engine', 'torch']
    fr = {'new': [], 'old': []}
    for r in range(a.rounds):
        for k in (('new', 'old') if r % 2 == 0 else ('old', 'new')): fr[k].append(first_row_seconds(new_cmd if k == 'new' else old_cmd, tmpd/'first.csv'))
    fr = {k: statistics.median(v) for k, v in fr.items()}

    import onnxruntime
    print(f"machine: {os.cpu_count()} cores, load average at start {load0:.1f} (other jobs share the cores); packaged model "
          f"(MobileNetV2, 224 px), batch {a.bs}; onnxruntime {onnxruntime.__version__}, torch {torch.__version__}")
    print(f"photos: {a.n} JPEGs {a.photo_size[0]}x{a.photo_size[1]} q90 (made in {t_make:.1f}s); ONNX export {t_export:.1f}s, int8 "
          f"quantisation + check {t_quant:.1f}s (calibrated on {q8['n_calib']} training photos of synthetic '{a.data}'); {a.rounds} interleaved rounds, "
          f"a fresh process per measurement")
    print(f"model loading (Predictor, medians; not in the images/s): torch {loads['torch']:.2f}s, onnx {loads['onnx']:.2f}s, onnx int8 {loads['int8']:.2f}s")
    for k, v in res.items(): print(f"  {k:>26}: median {med[k]:6.1f} images/s  (rounds: {', '.join(f'{x:.1f}' for x in v)})")
    print(f"  average test SRCC ({q8['n_test']} photos of synthetic '{a.data}'): fp32 ONNX {q8['srcc_fp32']:.4f}, int8 {q8['srcc_int8']:.4f} "
          f"(change {q8['srcc_int8'] - q8['srcc_fp32']:+.4f}; offered by `aaacov export --int8` only if >= -0.01)")
    print(f"  time to the first CSV row ({a.first_row_n} photos): aaacov predict {fr['new']:.2f}s, old import chain + torch engine {fr['old']:.2f}s")
    r_engine = med['predict onnx'] / med['predict torch']
    r_int8 = med['predict onnx int8'] / med['predict onnx']
    r_int8_model = med['model-only onnx int8'] / med['model-only onnx']
    r_first = fr['new'] / fr['old']
    r_mo = {e: med[f'predict {e}'] / med[f'model-only {e}'] for e in ('torch', 'onnx', 'onnx int8')}
    r_threads = {0: med['predict onnx, 0 threads'] / med['predict onnx'], 1: med['predict onnx, 1 thread'] / med['predict onnx']}
    print(f"  decoding threads beside the ONNX engine: 0 threads {r_threads[0]:.2f}x, 1 thread {r_threads[1]:.2f}x the default 2")
    both = 1 / (1 / med['decode only, 1 thread'] + 1 / med['model-only onnx'])
    print(f"  the bound on 2 cores: decoding alone {med['decode only, 1 thread']:.0f} images/s on 1 thread, {med['decode only, 2 threads']:.0f} on 2; "
          f"decoding then scoring one after the other {both:.0f} images/s = {both / med['model-only onnx']:.2f}x model-only: overlap must "
          f"win back what decoding costs")
    print(f"  model-only forward, int8 vs fp32 ONNX: {r_int8_model:.2f}x; onnx vs torch: {med['model-only onnx'] / med['model-only torch']:.2f}x")
    print(f"  predict vs model-only of the same engine: torch {r_mo['torch']:.2f}x, onnx {r_mo['onnx']:.2f}x, onnx int8 {r_mo['onnx int8']:.2f}x")
    tmp.cleanup()
    record_all(a, {'bench_engines_onnx_vs_torch': r_engine, 'bench_engines_int8_vs_fp32': r_int8, 'bench_engines_int8_model_only': r_int8_model,
                   'bench_engines_int8_srcc_change': q8['srcc_int8'] - q8['srcc_fp32'], 'bench_engines_first_row': r_first,
                   'bench_engines_first_row_new_s': fr['new'], 'bench_engines_first_row_old_s': fr['old'],
                   'bench_engines_predict_vs_model_only': r_mo['onnx'], 'bench_engines_predict_vs_model_only_torch': r_mo['torch'],
                   'bench_engines_onnx_images_s': med['predict onnx'], 'bench_engines_torch_images_s': med['predict torch'],
                   'bench_engines_model_only_onnx_images_s': med['model-only onnx'],
                   'bench_engines_threads0': r_threads[0], 'bench_engines_threads1': r_threads[1],
                   'bench_engines_decode_ms': 1e3 / med['decode only, 1 thread'], 'bench_engines_model_ms': 1e3 / med['model-only onnx'],
                   'bench_engines_model_only_onnx_vs_torch': med['model-only onnx'] / med['model-only torch'],
                   'bench_engines_load_torch_s': loads['torch'], 'bench_engines_load_onnx_s': loads['onnx'],
                   'bench_engines_serial_bound': both / med['model-only onnx']}, __file__)
    print(f"3. time to the first CSV row, aaacov predict vs the old import chain: {r_first:.2f}x")
    print(f"2. predict images/s, int8 vs fp32 ONNX: {r_int8:.2f}x (average test SRCC {q8['srcc_int8'] - q8['srcc_fp32']:+.4f})")
    print(f"4. predict vs model-only forward, ONNX engine: {r_mo['onnx']:.2f}x")
    print(f"1. predict images/s, --engine onnx vs --engine torch: {r_engine:.2f}x")

if __name__ == '__main__': main()
