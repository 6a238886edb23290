"""Folder inference images/s of `aaacov predict --engine torch` (`predict_files`) vs a per-image PIL loop and vs the model alone, in one run.

Goal (issue, benchmark 2): scoring a folder with `predict_files` runs at >= 2x the images/s of a per-image loop
(PIL open -> tensor -> model, one image at a time under `torch.no_grad`) and at >= 0.9x the model-only forward on
batches already in memory.  All on the PyTorch engine (`--engine torch`): bench/engines.py compares it with ONNX Runtime.  Also measured: `Predictor(..., channels_last=True)` (the project default, on the claim that it
is faster on CPU) vs `channels_last=False` on the model-only forward, batch by batch interleaved.
Photos: N photo-sized JPEGs (default 1024x768, quality 90; 1024x768 stands for a typical downloaded photo -- AADB's own
image sizes are not known here) made from the real photos shipped with scikit-image / scikit-learn, each a different
crop / flip / colour shift with mild noise (bench/train_pipeline.py `make_photos`).  Model: the packaged one
(`default_model_dir()`: covariance head on MobileNetV2 at 224 px) unless --model is given.
  aaacov predict  `predict_files([folder], model, csv)` with its default workers and batch size, a fresh CSV each run;
                  timed end to end, so it includes loading the model (printed) like the loop does;
  per-image loop  `load_model` once, then per file `Image.open(p).convert('RGB').resize(224 x 224)` -> normalised tensor
                  -> `model(x[None])`; the outputs are decoded (mu, sigma) and written to a CSV at the end;
  model-only      `Predictor.batch(x)` on uint8 batches already decoded and resized in memory (what predict_files calls
                  per batch: normalise, forward, decode), the model already loaded.
Also shown: `predict_files` with num_workers=0 (decoding in the main process), to see whether a worker helps.
Variants alternate round by round (A B C, C B A, ...) so that machine drift (+-25 % here, more when other jobs run)
hits all alike; medians are printed.
Usage: python bench/inference.py [--n 128] [--rounds 5] [--bs 16] [--workers N] [--model DIR] [--photo-size 1024x768] [--record]
--record (default settings; --workers allowed, as a `_workers<N>` suffix of the keys) writes bench_inference_vs_loop,
bench_inference_vs_model_only (the last two lines) and bench_inference_channels_last (model-only forward, contiguous time /
channels-last time) to nbs/results.json.
"""
import argparse, csv, os, statistics, sys, tempfile, time, warnings
from pathlib import Path
warnings.filterwarnings("ignore", category=FutureWarning); warnings.filterwarnings("ignore", category=UserWarning)
import numpy as np, torch
from PIL import Image
sys.path.insert(0, str(Path(__file__).parent))
from train_pipeline import make_photos, parse_size
from _record import add_record_flag, check_record_args, record_all
from aaacov.cli import Predictor, predict_files, default_model_dir
from aaacov.dataloaders import load_photo_resized
from aaacov.learner import load_model
from aaacov.methods import to_label_units

def per_image_loop(files, model_dir, out):
    "The naive way: one image at a time, full decode, resize, normalise, forward; decode the outputs and write a CSV."
    model, cfg = load_model(model_dir)
    h, w = cfg.get('size') or (224, 224)
    mean = torch.tensor(cfg['normalize']['mean'])[:, None, None]; std = torch.tensor(cfg['normalize']['std'])[:, None, None]
    outs = []
    with torch.no_grad():
        for p in files:
            im = Image.open(p).convert('RGB').resize((w, h), Image.BILINEAR)
            x = (torch.from_numpy(np.asarray(im)).permute(2, 0, 1).float() / 255 - mean) / std
            outs.append(model(x[None])[0])
    d = to_label_units(torch.stack(outs), cfg, cfg['target_mean'], cfg['target_std'])   # the method's own decoding
    mu, sig = d['mu'], d['sigma']
    with open(out, 'w', newline='') as f:
        wr = csv.writer(f)
        for p, a, b in zip(files, mu, sig): wr.writerow([str(p), 'ok'] + [f"{v:.5f}" for v in a] + [f"{v:.5f}" for v in b])
    return len(outs)

def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--n', type=int, default=128, help='photos in the folder'); ap.add_argument('--rounds', type=int, default=5)
    ap.add_argument('--bs', type=int, default=16, help="batch size of predict_files and model-only (predict's default 16)")
    ap.add_argument('--workers', type=int, default=None, help="predict_files num_workers (default: the project's default)")
    ap.add_argument('--model', default=None, help='model folder (default: the packaged MobileNetV2 model)')
    ap.add_argument('--photo-size', type=parse_size, default=(1024, 768), help='WxH of the test JPEGs')
    add_record_flag(ap)
    a = ap.parse_args()
    check_record_args(ap, a, variants=('workers',))
    load0 = os.getloadavg()[0]
    model_dir = Path(a.model) if a.model else default_model_dir()
    tmp = tempfile.TemporaryDirectory(prefix='aaacov-bench-')
    folder = Path(tmp.name)/'photos'
    t = time.perf_counter(); files = make_photos(folder, a.n, a.photo_size); t_make = time.perf_counter() - t
    mb = sum(p.stat().st_size for p in files) / len(files) / 1e6
    pred = Predictor(model_dir, engine='torch')                   # model-only, channels_last=True (the default)
    pred_cf = Predictor(model_dir, engine='torch', channels_last=False)
    size = (pred.size[1], pred.size[0])
    x8 = torch.stack([torch.from_numpy(np.array(load_photo_resized(p, size))).permute(2, 0, 1) for p in files])
    batches = list(x8.split(a.bs))
    cores = os.cpu_count() or 1   # predict_files' default, for the printout
    default_workers = 0 if cores <= 2 else min(4, cores - 2)

    def run_predict(workers):
        out = Path(tmp.name)/'out.csv'; out.unlink(missing_ok=True)
        t = time.perf_counter(); c = predict_files([folder], model_dir, out, bs=a.bs, num_workers=workers, progress=False, engine='torch')
        dt = time.perf_counter() - t
        assert c['ok'] == a.n, c
        return a.n / dt
    def run_loop():
        t = time.perf_counter(); n = per_image_loop(files, model_dir, Path(tmp.name)/'loop.csv'); return n / (time.perf_counter() - t)
    def run_model_only():
        t = time.perf_counter()
        for x in batches: pred.batch(x)
        return a.n / (time.perf_counter() - t)
    def run_load():
        t = time.perf_counter(); Predictor(model_dir, engine='torch'); return time.perf_counter() - t
    variants = {'aaacov predict': lambda: run_predict(a.workers), 'per-image loop': run_loop, 'model-only': run_model_only,
                'predict, 0 workers': lambda: run_predict(0), 'model load (s)': run_load}
    if a.workers == 0: del variants['predict, 0 workers']
    for x in batches[:2]: pred.batch(x); pred_cf.batch(x)   # warm-up
    res = {k: [] for k in variants}
    for r in range(a.rounds):   # A B C, C B A, ...: no variant always runs first or last
        for k in (list(variants) if r % 2 == 0 else list(variants)[::-1]): res[k].append(variants[k]())
    med = {k: statistics.median(v) for k, v in res.items()}

    # channels_last vs contiguous on the model-only forward: batch by batch, alternating which goes first
    cl = {True: [], False: []}
    for r in range(max(3, a.rounds)):
        for i, x in enumerate(batches):
            for flag in ((True, False) if (r + i) % 2 == 0 else (False, True)):
                p = pred if flag else pred_cf
                t = time.perf_counter(); p.batch(x); cl[flag].append((time.perf_counter() - t) / x.shape[0])
    cl = {k: statistics.median(v) for k, v in cl.items()}

    print(f"machine: {os.cpu_count()} cores, {torch.get_num_threads()} torch threads, load average at start {load0:.1f} "
          f"(other jobs share the cores); model {model_dir.name} at {pred.size[0]}x{pred.size[1]}px, batch {a.bs}")
    print(f"photos: {a.n} JPEGs {a.photo_size[0]}x{a.photo_size[1]} q90, {mb:.2f} MB each (made in {t_make:.1f}s); "
          f"{a.rounds} interleaved rounds; predict_files workers: "
          f"{a.workers if a.workers is not None else f'default ({default_workers})'}")
    for k, v in res.items():
        if k == 'model load (s)': print(f"  model load (Predictor): median {med[k]:.2f}s, included in the two folder runs")
        else: print(f"  {k:>18}: median {med[k]:6.1f} images/s  (rounds: {', '.join(f'{x:.1f}' for x in v)})")
    if 'predict, 0 workers' in med:
        print(f"  predict_files with its default workers vs 0 workers: {med['aaacov predict'] / med['predict, 0 workers']:.2f}x")
    faster = 'channels_last=True' if cl[True] < cl[False] else 'channels_last=False (contiguous)'
    print(f"  model-only forward per image: channels_last=True {cl[True] * 1e3:.1f} ms, channels_last=False "
          f"{cl[False] * 1e3:.1f} ms -> {faster} is faster ({max(cl.values()) / min(cl.values()):.2f}x)")
    tmp.cleanup()
    sfx = f'_workers{a.workers}' if a.workers is not None else ''
    record_all(a, {f'bench_inference_vs_loop{sfx}': med['aaacov predict'] / med['per-image loop'],
                   f'bench_inference_vs_model_only{sfx}': med['aaacov predict'] / med['model-only'],
                   f'bench_inference_channels_last{sfx}': cl[False] / cl[True]}, __file__)
    print(f"folder inference images/s, aaacov predict vs model-only: {med['aaacov predict'] / med['model-only']:.2f}x")
    print(f"folder inference images/s, aaacov predict vs per-image PIL loop: {med['aaacov predict'] / med['per-image loop']:.2f}x")

if __name__ == '__main__': main()
