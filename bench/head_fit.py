"""Frozen-feature head training (the `fit_head` fast path) on AADB-size features vs the same epochs done the image way, in one run.

Goal (issue, benchmark 4): 10 epochs of frozen-feature head training on AADB-size (9,958 images) features in < 10 s.
The real path is used: a `cov_learner` (MobileNetV2) is built on the tiny synthetic dataset, its feature cache
is replaced by in-memory DataLoaders (`fit_head(features=)`) of AADB-size pooled features (built exactly as `aaacov.features.feature_dls`
builds them: bs 64, shuffled train, drop_last), and `fit_head(learn, epochs, lr=1e-3, show=False)` trains the head with
fastai's `fit_one_cycle` (the project's loss, AdamW, metrics and CovStatsCallback). The features are synthetic but
structured: non-negative (like ReLU6-pooled MobileNetV2 features) and linear in targets that carry AADB's label correlations.
Baseline, same run: the frozen body's forward at the image size on a few measured batches of random images, extrapolated
to n x epochs images -- a lower bound of the image way (no decoding, augmentation, head, or backward through trainable BN).
Head fits and body batches alternate so that machine drift (+-25 % here) hits both alike; medians are printed.
The head fit is ~1,500 tiny steps: with 2 OpenMP threads on a machine that is busy with other work (load average above the
core count) it can slow down many-fold, as threads wait for each other at every op; --head-threads 1 is robust to that.
Usage: python bench/head_fit.py [--n 9958] [--valid 500] [--dim 1280] [--epochs 10] [--loss cov|mse] [--repeats 3] [--head-threads 1] [--record]
--record (default settings; --loss allowed) writes bench_head_fit_cov_s, bench_head_fit_mse_s (median seconds) and
bench_head_fit_<loss>_vs_image_way (the last line's ratio) to nbs/results.json.
"""
import argparse, os, statistics, sys, time, warnings
from pathlib import Path
warnings.filterwarnings("ignore", category=FutureWarning); warnings.filterwarnings("ignore", category=UserWarning)
import numpy as np, torch
from fastai.data.core import DataLoaders
from fastai.data.load import DataLoader
from aaacov.data import read_aadb_labels, match_images
from aaacov.dataloaders import aadb_dataloaders
from aaacov.synthetic import synthetic_dataset, aadb_label_moments
from aaacov.backbones import WeightsUnavailable
from aaacov.learner import cov_learner, fit_head
sys.path.insert(0, str(Path(__file__).parent))
from _record import add_record_flag, check_record_args, record_all

def aadb_like_features(n_train, n_valid, dim, m, seed=0):
    "Non-negative pooled-feature-like rows, linear (+ noise) in standardised targets with AADB's label correlations."
    g = torch.Generator().manual_seed(seed)
    _, cov = aadb_label_moments()
    sd = np.sqrt(np.diag(cov)); corr = cov / np.outer(sd, sd)
    L = torch.linalg.cholesky(torch.tensor(corr, dtype=torch.float64)).float()
    n = n_train + n_valid
    z = torch.randn(n, m, generator=g) @ L.T                                  # what the image shows
    y = 0.7 * z + 0.7 * torch.randn(n, m, generator=g) @ L.T                  # rater-noisy labels (SRCC ceiling ~0.7)
    A = torch.randn(m, dim, generator=g) / m ** 0.5
    x = torch.relu(0.5 + 0.3 * (z @ A) + 0.5 * torch.randn(n, dim, generator=g))
    return (x[:n_train], y[:n_train]), (x[n_train:], y[n_train:])

def feature_dls(train, valid, bs, device):
    "In-memory feature DataLoaders made the way `aaacov.features.feature_dls` makes them."
    (xt, yt), (xv, yv) = train, valid
    return DataLoaders(DataLoader(list(zip(xt, yt)), bs=bs, shuffle=True, drop_last=len(xt) > bs, device=device),
                       DataLoader(list(zip(xv, yv)), bs=bs, device=device), device=device)

def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--n', type=int, default=9958, help='images (features) per epoch, train + valid (AADB: 9,958)')
    ap.add_argument('--valid', type=int, default=500, help='validation rows (AADB: 500)')
    ap.add_argument('--dim', type=int, default=1280, help="feature width (MobileNetV2's pooled width: 1280)")
    ap.add_argument('--epochs', type=int, default=10); ap.add_argument('--lr', type=float, default=1e-3)
    ap.add_argument('--loss', choices=('cov', 'mse'), default='cov', help='the loss of the last line (both are timed)')
    ap.add_argument('--arch', default='mobilenet_v2'); ap.add_argument('--size', type=int, default=224)
    ap.add_argument('--img-bs', type=int, default=32); ap.add_argument('--repeats', type=int, default=3)
    ap.add_argument('--head-threads', type=int, default=0, help="torch threads during the head fits (0: torch's default; the body keeps the default)")
    add_record_flag(ap)
    a = ap.parse_args()
    check_record_args(ap, a, variants=('loss',))
    threads = torch.get_num_threads(); head_threads = a.head_threads or threads
    torch.manual_seed(0)
    load0 = os.getloadavg()[0]
    d = synthetic_dataset('tiny', progress=False)
    labels = match_images(read_aadb_labels(d), d/'images')
    learners = {}
    for loss in ('cov', 'mse'):
        dls = aadb_dataloaders(labels, size=64, bs=16, standardize=True, num_workers=0)
        try: learn = cov_learner(dls, a.arch, loss=loss)                                  # the default: pretrained, frozen
        except WeightsUnavailable: learn = cov_learner(dls, a.arch, loss=loss, pretrained=False, freeze=True)
        if learn.model[1].linear.in_features != a.dim:
            lin = learn.model[1].linear   # --dim other than the arch's width: a head of that width, same init as create_model
            learn.model[1].linear = torch.nn.Linear(a.dim, lin.out_features)
            if loss == 'cov':
                from aaacov.learner import init_cov_head; init_cov_head(learn.model[1].linear, learn.aaacov_config['m'], learn.aaacov_config['loss_params']['param'])
        m = learn.aaacov_config['m']
        learners[loss] = (learn, {k: v.clone() for k, v in learn.model[1].linear.state_dict().items()})
    n_train = a.n - a.valid
    train, valid = aadb_like_features(n_train, a.valid, a.dim, m)
    body = learners['cov'][0].model[0].eval()
    ximg = torch.randn(a.img_bs, 3, a.size, a.size)

    def fit(loss):
        learn, init = learners[loss]
        learn.model[1].linear.load_state_dict(init)                       # every repeat starts from the same head
        fdls = feature_dls(train, valid, 64, learn.dls.device)   # injected features: fit_head(features=) trains on them
        torch.set_num_threads(head_threads)
        t = time.perf_counter()
        hl = fit_head(learn, a.epochs, lr=a.lr, show=False, features=fdls)
        dt = time.perf_counter() - t
        torch.set_num_threads(threads)
        assert len(hl.dls.train.dataset) == n_train and len(hl.dls.valid.dataset) == a.valid, 'fit_head did not use the injected features'
        return dt, hl
    def body_batch():
        t = time.perf_counter()
        with torch.no_grad(): body(ximg)
        return time.perf_counter() - t

    body_batch(); fit('cov'); fit('mse')                                  # warm-up (oneDNN primitives, allocator, fastai)
    times, body_t, last = {'cov': [], 'mse': []}, [], {}
    for _ in range(a.repeats):
        for loss in ('cov', 'mse'):
            body_t.append(body_batch())
            dt, last[loss] = fit(loss); times[loss].append(dt)
    med = {k: statistics.median(v) for k, v in times.items()}
    per_img = statistics.median(body_t) / a.img_bs
    image_way = per_img * a.n * a.epochs
    steps = (n_train // 64 if n_train > 64 else 1) * a.epochs
    print(f"machine: {threads} threads ({head_threads} in the head fits), load average {load0:.1f} -> {os.getloadavg()[0]:.1f}; features {n_train:,} train + {a.valid:,} valid = {a.n:,} x {a.dim}, "
          f"{m} targets, bs 64, {a.epochs} epochs fit_one_cycle lr {a.lr:g}; {a.repeats} alternating repeats")
    for k in ('cov', 'mse'):
        rec = last[k].recorder; names = list(rec.metric_names[1:-1]); vals = dict(zip(names, rec.values[-1]))
        srcc = vals.get('srcc_mean', float('nan'))
        print(f"  {k} head: median {med[k]:.2f} s for {a.epochs} epochs ({steps} steps, {med[k] / steps * 1e3:.2f} ms/step incl. validation) "
              f"[{', '.join(f'{t:.2f}' for t in times[k])}]; goal < 10 s: {'met' if med[k] < 10 else 'NOT met'}; "
              f"last valid loss {vals.get('valid_loss', float('nan')):.3f}, mean SRCC {srcc:.3f}")
    print(f"  image way ({a.arch} body forward, eval, no_grad, {a.size}px, batch {a.img_bs}): median {per_img * 1e3:.1f} ms/image over "
          f"{len(body_t)} measured batches of random images, EXTRAPOLATED to {a.n:,} x {a.epochs} images = {image_way:.0f} s "
          f"(lower bound: forward only, no decoding/augmentation/backward)")
    print(f"  one-off feature caching (one body forward per image, extrapolated): {per_img * a.n:.0f} s; "
          f"head training is {image_way / med[a.loss]:,.0f} times faster than the image way ({a.loss} head)")
    record_all(a, {'bench_head_fit_cov_s': med['cov'], 'bench_head_fit_mse_s': med['mse'],
                   f'bench_head_fit_{a.loss}_vs_image_way': med[a.loss] / image_way}, __file__)
    print(f"frozen-feature head training vs frozen-body image training, {a.epochs} epochs of {a.n:,} images: {med[a.loss] / image_way:.3g}x")

if __name__ == '__main__': main()
