"""Achieved GFLOP/s of the backbone forward as a fraction of a float32 matmul peak measured in the same run.

Goal (issue, benchmark 5): know how far the CPU forward of the frozen body is from what this machine's float32 BLAS can do.
Peak: square float32 `torch.mm` (sgemm) at --mm-sizes, GFLOP/s = 2 n^3 / t, best over all measurements (median printed too).
Backbone: the body of the project's model (`aaacov.learner.create_model(arch, pretrained=False)[0]`: torchvision's
convolutional features, no pooling/head), eval mode under `torch.inference_mode`, random input of --bs images at --size px,
in contiguous (NCHW) and channels_last memory format (model and input both converted).
FLOPs are counted with `torch.utils.flop_counter.FlopCounterMode`, whose convention is FLOPs = 2 x multiply-accumulates
(convolutions and matmuls only; batch norm, activations, additions and pooling are not counted).
Timings interleave: every round re-measures the matmul peak between the backbone forwards, so drift (+-25 % here) hits all alike.
Usage: python bench/flops.py [--arch mobilenet_v2 | --all] [--size 224] [--bs 32] [--rounds 5] [--mm-sizes 2048 4096] [--record]
--record (default sizes; --arch / --all allowed) writes, for every arch run, bench_flops_<arch> (contiguous) and
bench_flops_<arch>_channels_last (best time, fraction of the peak), and bench_flops_matmul_peak_gflops, to nbs/results.json.
"""
import argparse, copy, os, statistics, sys, time, warnings
from pathlib import Path
warnings.filterwarnings("ignore", category=FutureWarning)
import torch
from torch.utils.flop_counter import FlopCounterMode
from aaacov.learner import create_model, ARCHS
sys.path.insert(0, str(Path(__file__).parent))
from _record import add_record_flag, check_record_args, record_all

def count_flops(body, x):
    with FlopCounterMode(display=False) as fc, torch.inference_mode(): body(x)
    return fc.get_total_flops()

def timed(f):
    t = time.perf_counter(); f(); return time.perf_counter() - t

def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--arch', default='mobilenet_v2', choices=ARCHS, help='the arch of the last line')
    ap.add_argument('--all', action='store_true', help='also mobilenet_v2 and resnet50 (whichever --arch is not)')
    ap.add_argument('--size', type=int, default=224); ap.add_argument('--bs', type=int, default=32)
    ap.add_argument('--rounds', type=int, default=5); ap.add_argument('--mm-sizes', type=int, nargs='+', default=[2048, 4096])
    add_record_flag(ap)
    a = ap.parse_args()
    check_record_args(ap, a, variants=('arch', 'all'))
    torch.manual_seed(0)
    archs = [a.arch] + ([x for x in ('mobilenet_v2', 'resnet50') if x != a.arch] if a.all else [])
    load0 = os.getloadavg()[0]
    mats = {n: (torch.randn(n, n), torch.randn(n, n), torch.empty(n, n)) for n in a.mm_sizes}
    mm_gflops = {n: [] for n in a.mm_sizes}
    def mm_round():
        for n, (A, B, C) in mats.items(): mm_gflops[n].append(2 * n ** 3 / timed(lambda: torch.mm(A, B, out=C)) / 1e9)
    x = torch.randn(a.bs, 3, a.size, a.size)
    variants = {}   # (arch, fmt) -> (body, input)
    gflop_img = {}
    for arch in archs:
        body = create_model(arch, 12, 'cov', pretrained=False)[0].eval()
        gflop_img[arch] = count_flops(body, x[:2]) / 2 / 1e9
        variants[arch, 'contiguous'] = (body, x)
        variants[arch, 'channels_last'] = (copy.deepcopy(body).to(memory_format=torch.channels_last), x.contiguous(memory_format=torch.channels_last))
    def fwd(key):
        body, inp = variants[key]
        with torch.inference_mode(): return timed(lambda: body(inp))
    for n, (A, B, C) in mats.items(): torch.mm(A, B, out=C)                  # warm-up
    for key in variants: fwd(key)
    fwd_t = {k: [] for k in variants}
    for r in range(a.rounds):
        mm_round()
        for key in (variants if r % 2 == 0 else list(variants)[::-1]):       # alternate the order too
            fwd_t[key].append(fwd(key)); mm_round()
    all_mm = [g for v in mm_gflops.values() for g in v]
    peak, peak_med = max(all_mm), statistics.median(all_mm)
    print(f"machine: {torch.get_num_threads()} threads, load average {load0:.1f} -> {os.getloadavg()[0]:.1f}; "
          f"batch {a.bs} at {a.size}px, {a.rounds} rounds, matmul re-measured after every forward")
    print(f"  float32 matmul peak: {peak:.1f} GFLOP/s (best of {len(all_mm)}; median {peak_med:.1f}); "
          + ', '.join(f"{n}^2: best {max(v):.1f}, median {statistics.median(v):.1f}" for n, v in mm_gflops.items()))
    print("  FLOPs by torch.utils.flop_counter.FlopCounterMode: 2 x MACs of convolutions/matmuls")
    ratio = {}
    for (arch, fmt), ts in fwd_t.items():
        best, med = min(ts), statistics.median(ts)
        g = gflop_img[arch] * a.bs
        ratio[arch, fmt] = g / best / peak
        print(f"  {arch:12s} {fmt:13s}: {gflop_img[arch]:.3f} GFLOPs/image; best {a.bs / best:6.1f} images/s, {g / best:6.1f} GFLOP/s "
              f"= {g / best / peak:.3f} of peak; median {a.bs / med:6.1f} images/s, {g / med:6.1f} GFLOP/s = {g / med / peak_med:.3f} of median peak")
    for arch in archs:
        print(f"  {arch}: channels_last vs contiguous (best times): {min(fwd_t[arch, 'contiguous']) / min(fwd_t[arch, 'channels_last']):.2f}x speed")
    rec = {'bench_flops_matmul_peak_gflops': peak}
    for arch in archs: rec.update({f'bench_flops_{arch}': ratio[arch, 'contiguous'], f'bench_flops_{arch}_channels_last': ratio[arch, 'channels_last']})
    record_all(a, rec, __file__)
    print(f"backbone forward ({a.arch}, contiguous best) vs float32 matmul peak: {ratio[a.arch, 'contiguous']:.3f}x")

if __name__ == '__main__': main()
