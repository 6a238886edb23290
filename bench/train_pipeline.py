"""Training images/s of the cached aaacov pipeline vs a plain fastai `ImageDataLoaders` pipeline and vs the model alone, in one run.

Goal (issue, benchmark 1): the cached pipeline trains at >= 2x the images/s of a plain fastai pipeline that decodes the
JPEGs every epoch, and at >= 0.9x the model-only step (the same step on batches already in memory).
Photos: N photo-sized JPEGs (default 1024x768, quality 90; 1024x768 stands for a typical downloaded photo -- AADB's own
image sizes are not known here) written to a temp folder from real photos shipped in packages (skimage.data astronaut,
chelsea, coffee, rocket, stereo_motorcycle left; sklearn's china and flower), each a different crop / flip / colour shift
with mild noise, so no two files are identical.
Three variants, one model and one optimiser (a `cov_learner`: MobileNetV2, covariance loss, AdamW), the same step
(forward, covariance loss, backward, optimiser step) in the same manual loop over one training epoch; only the data differs:
  plain      `ImageDataLoaders.from_df` + `Resize(size, method='squish')` + `FlipItem` + ImageNet `Normalize`, fastai's
             default num_workers (= cores), every JPEG decoded in full each epoch;
  cached     `aadb_dataloaders(..., cache=True)` (pre-resized images in a private AAACOV_CACHE temp dir, built before timing);
  model-only the batches of one cached epoch, kept in memory and replayed.
Default --workers 0 for the cached pipeline: a cached item is a ~150 KB .npy read + flip (about 1 ms), so a 32-image batch
costs a few % of a CPU training step; worker processes would only compete with the model's two threads for the two cores
(`aaacov train --workers` also defaults to 0).  The variants alternate epoch by epoch (A B C, C B A, ...) so that machine
drift (+-25 % here, more when other jobs run) hits all alike; medians are printed.  --frozen trains the head (+ BN) on a frozen body instead.
Usage: python bench/train_pipeline.py [--arch mobilenet_v2] [--size 224] [--bs 32] [--n 192] [--rounds 5] [--frozen]
       [--workers 0] [--photo-size 1024x768] [--record]
--record (default settings; --frozen allowed: its keys start bench_train_frozen_) writes bench_train_cached_vs_plain,
bench_train_cached_vs_model_only (the last two lines), bench_train_bound_vs_plain (model-only vs plain), bench_train_epoch_s
(model-only seconds per epoch), bench_train_decode_epoch_s (full-decode CPU seconds per epoch) and the per-image
bench_train_decode_full_ms, bench_train_decode_draft_ms, bench_train_cache_hit_ms to nbs/results.json.
"""
import argparse, os, statistics, sys, tempfile, time, warnings
from pathlib import Path
warnings.filterwarnings("ignore", category=FutureWarning); warnings.filterwarnings("ignore", category=UserWarning)
import numpy as np, pandas as pd, torch
from PIL import Image
sys.path.insert(0, str(Path(__file__).parent))
from _record import add_record_flag, check_record_args, record_all

def source_photos() -> list:
    "The real photos shipped with scikit-image and scikit-learn, as uint8 RGB arrays."
    import skimage.data as d
    from sklearn.datasets import load_sample_images
    return [d.astronaut(), d.chelsea(), d.coffee(), d.rocket(), d.stereo_motorcycle()[0]] + list(load_sample_images().images)

def make_photos(dest, n:int, size=(1024, 768), quality:int=90, seed:int=0, prefix:str='photo') -> list:
    "Write `n` distinct JPEGs of `size` (w, h) to `dest`: random crop, flip, colour shift and mild noise of the source photos."
    dest = Path(dest); dest.mkdir(parents=True, exist_ok=True)
    srcs, (W, H) = source_photos(), size
    paths = []
    for i in range(n):
        rng = np.random.default_rng([seed, i])
        src = srcs[i % len(srcs)]
        h, w = src.shape[:2]
        ch = int(min(h, w * H / W) * rng.uniform(0.6, 1.0)); cw = int(ch * W / H)   # a crop of the target's aspect ratio
        y0, x0 = rng.integers(0, h - ch + 1), rng.integers(0, w - cw + 1)
        im = Image.fromarray(src[y0:y0 + ch, x0:x0 + cw]).resize((W, H), Image.BICUBIC)
        a = np.asarray(im, dtype=np.float32)
        if rng.random() < 0.5: a = a[:, ::-1]
        a = a * rng.uniform(0.85, 1.15, 3) + rng.uniform(-12, 12, 3) + rng.normal(0, 3, a.shape).astype(np.float32)
        p = dest/f"{prefix}{i:05d}.jpg"
        Image.fromarray(np.clip(a + 0.5, 0, 255).astype(np.uint8)).save(p, quality=quality)
        paths.append(p)
    return paths

def parse_size(s) -> tuple:
    w, h = (int(v) for v in s.lower().split('x')); return w, h

def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--arch', default='mobilenet_v2'); ap.add_argument('--size', type=int, default=224)
    ap.add_argument('--bs', type=int, default=32); ap.add_argument('--n', type=int, default=192, help='training photos')
    ap.add_argument('--rounds', type=int, default=5, help='timed epochs of each variant')
    ap.add_argument('--frozen', action='store_true', help='frozen body (head + BatchNorm trained), as fit_head/fastai freeze')
    ap.add_argument('--workers', type=int, default=0, help='num_workers of the cached pipeline (default 0, see above)')
    ap.add_argument('--photo-size', type=parse_size, default=(1024, 768), help='WxH of the test JPEGs')
    add_record_flag(ap)
    a = ap.parse_args()
    check_record_args(ap, a, variants=('frozen',))
    load0 = os.getloadavg()[0]
    tmp = tempfile.TemporaryDirectory(prefix='aaacov-bench-')
    os.environ['AAACOV_CACHE'] = str(Path(tmp.name)/'cache')   # private cache: nothing read from or left in ~/.cache
    from fastai.vision.all import ImageDataLoaders, RegressionBlock, Resize, FlipItem, Normalize, imagenet_stats
    from fastai.torch_core import set_seed, defaults
    from aaacov.data import TARGETS, LABEL_RANGES
    from aaacov.dataloaders import aadb_dataloaders, ImageCache, load_photo, load_photo_resized
    from aaacov.learner import cov_learner

    n_valid = 8   # the loaders need a validation split; it is never iterated
    t = time.perf_counter()
    paths = make_photos(Path(tmp.name)/'photos', a.n + n_valid, a.photo_size)
    t_make = time.perf_counter() - t
    rng = np.random.default_rng(0)
    labels = pd.DataFrame({'fname': [p.name for p in paths], 'split': ['train'] * a.n + ['valid'] * n_valid,
                           'path': [str(p) for p in paths]})
    for tg in TARGETS: labels[tg] = rng.uniform(*LABEL_RANGES[tg], len(labels)).round(3)
    labels['is_valid'] = labels.split == 'valid'
    mb = sum(p.stat().st_size for p in paths) / len(paths) / 1e6

    # one-off cache build (parallel, as aadb_dataloaders does it), and the per-image decode costs it saves
    cache = ImageCache(a.size)
    t = time.perf_counter(); cache.build(labels.path, progress=False); t_build = time.perf_counter() - t
    sample = paths[:24]
    dec = {'draft': [], 'full': [], 'hit': []}
    for p in sample:   # interleaved
        t = time.perf_counter(); load_photo_resized(p, a.size); dec['draft'].append(time.perf_counter() - t)
        t = time.perf_counter(); load_photo(p).resize((a.size, a.size), Image.BILINEAR); dec['full'].append(time.perf_counter() - t)
        t = time.perf_counter(); cache.load(p); dec['hit'].append(time.perf_counter() - t)
    dec = {k: statistics.median(v) * 1e3 for k, v in dec.items()}

    set_seed(0)
    ours = aadb_dataloaders(labels, size=a.size, bs=a.bs, standardize=True, num_workers=a.workers, cache=cache, progress=False)
    plain = ImageDataLoaders.from_df(labels, path=Path(tmp.name)/'photos', fn_col='fname', label_col=list(TARGETS),
                                     valid_col='is_valid', y_block=RegressionBlock(n_out=len(TARGETS)),
                                     item_tfms=[Resize(a.size, method='squish'), FlipItem(0.5)],
                                     batch_tfms=Normalize.from_stats(*imagenet_stats), bs=a.bs)
    learn = cov_learner(ours, a.arch, pretrained=False, freeze=a.frozen)   # adds ImageNet Normalize to `ours`
    if learn.opt is None: learn.create_opt()
    model, opt, loss_func = learn.model.train(), learn.opt, learn.loss_func
    n_trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)

    def step(xb, yb):   # what Learner does per training batch (CastToTensor, forward, loss, backward, step, zero_grad)
        xb, yb = xb.as_subclass(torch.Tensor), yb.as_subclass(torch.Tensor)
        loss = loss_func(model(xb), yb); loss.backward(); opt.step(); opt.zero_grad()
        return xb.shape[0]
    memory = [(xb, yb) for xb, yb in ours.train]   # one cached epoch, replayed by model-only
    variants = {'plain': lambda: plain.train, 'cached': lambda: ours.train, 'model-only': lambda: memory}

    def epoch(name, limit=None):
        t, n = time.perf_counter(), 0
        for k, (xb, yb) in enumerate(variants[name]()):
            if limit is not None and k >= limit: break
            n += step(xb, yb)
        return n / (time.perf_counter() - t)

    for name in variants: epoch(name, limit=2)   # warm-up (allocator, worker start, page cache)
    ips = {k: [] for k in variants}
    for r in range(a.rounds):   # A B C, C B A, ...: no variant always runs first or last
        for name in (list(variants) if r % 2 == 0 else list(variants)[::-1]): ips[name].append(epoch(name))
    med = {k: statistics.median(v) for k, v in ips.items()}

    print(f"machine: {os.cpu_count()} cores, {torch.get_num_threads()} torch threads; {a.arch} "
          f"({'frozen body: head + BN' if a.frozen else 'whole model'} trained, {n_trainable / 1e6:.2f} M parameters), "
          f"batch {a.bs} at {a.size}px, {len(memory) * a.bs} images per epoch, {a.rounds} interleaved epochs each")
    print(f"photos: {a.n} train JPEGs {a.photo_size[0]}x{a.photo_size[1]} q90, {mb:.2f} MB each (made in {t_make:.1f}s)")
    print(f"cache: one-off build of {len(paths)} images {t_build:.1f}s ({len(paths) / t_build:.1f} images/s, "
          f"{defaults.cpus} processes); per image: decode+resize {dec['full']:.1f} ms full, {dec['draft']:.1f} ms draft mode "
          f"({dec['full'] / dec['draft']:.1f}x faster), cache hit {dec['hit']:.2f} ms")
    print(f"workers: plain {plain.train.fake_l.num_workers} (fastai default: cores), cached {ours.train.fake_l.num_workers}; "
          f"load average at start {load0:.1f} (other jobs share the cores)")
    for k, v in ips.items(): print(f"  {k:>10}: median {med[k]:6.1f} images/s  (epochs: {', '.join(f'{x:.1f}' for x in v)})")
    n_ep = len(memory) * a.bs
    print(f"  per epoch of {n_ep}: model-only steps {n_ep / med['model-only']:.1f}s; image work the plain pipeline adds "
          f"{n_ep * dec['full'] / 1e3:.1f}s CPU (full decode + resize, in its workers), the cached one {n_ep * dec['hit'] / 1e3:.2f}s")
    print(f"  upper bound of cached vs plain here (model-only vs plain): {med['model-only'] / med['plain']:.2f}x")
    tmp.cleanup()
    v = 'bench_train_frozen' if a.frozen else 'bench_train'
    record_all(a, {f'{v}_cached_vs_plain': med['cached'] / med['plain'], f'{v}_cached_vs_model_only': med['cached'] / med['model-only'],
                   f'{v}_bound_vs_plain': med['model-only'] / med['plain'], f'{v}_epoch_s': n_ep / med['model-only'],
                   f'{v}_decode_epoch_s': n_ep * dec['full'] / 1e3, f'{v}_decode_full_ms': dec['full'],
                   f'{v}_decode_draft_ms': dec['draft'], f'{v}_cache_hit_ms': dec['hit']}, __file__)
    print(f"training images/s, cached pipeline vs model-only: {med['cached'] / med['model-only']:.2f}x")
    print(f"training images/s, cached pipeline vs plain fastai ImageDataLoaders: {med['cached'] / med['plain']:.2f}x")

if __name__ == '__main__': main()
