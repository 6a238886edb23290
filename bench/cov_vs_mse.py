"""Training-step time of the covariance loss vs MSE on the same model and batch, measured in one run.

Same backbone, same batch, same optimiser (AdamW); only the head width (m + m^2 vs m outputs) and the loss differ.
Steps alternate between the two so that machine drift (+-25 % here) hits both alike; the ratio of medians is printed.
Goal (issue 5): <= 1.05x.  Usage: python bench/cov_vs_mse.py [--arch mobilenet_v2] [--size 224] [--bs 32] [--steps 6] [--record]
--record (default settings only) writes bench_cov_vs_mse_step (the ratio) and bench_cov_vs_mse_loss_extra_ms to nbs/results.json.
"""
import argparse, statistics, sys, time, warnings
from pathlib import Path
warnings.filterwarnings("ignore", category=FutureWarning)
import torch
from fastai.optimizer import Adam
from fastai.losses import MSELossFlat
from aaacov.learner import create_model
from aaacov.losses import CovarianceLoss
sys.path.insert(0, str(Path(__file__).parent))
from _record import add_record_flag, check_record_args, record_all

def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--arch', default='mobilenet_v2'); ap.add_argument('--size', type=int, default=224)
    ap.add_argument('--bs', type=int, default=32); ap.add_argument('--steps', type=int, default=6)
    add_record_flag(ap)
    a = ap.parse_args()
    check_record_args(ap, a)
    torch.manual_seed(0)
    m = 12
    x, y = torch.randn(a.bs, 3, a.size, a.size), torch.randn(a.bs, m)
    setups = {}
    for loss in ('mse', 'cov'):
        model = create_model(a.arch, m, loss, pretrained=False).train()
        opt = Adam(list(model.parameters()), lr=1e-4, mom=0.9, sqr_mom=0.99, wd=1e-2, decouple_wd=True)
        setups[loss] = (model, opt, CovarianceLoss(m) if loss == 'cov' else MSELossFlat())
    def step(loss):
        model, opt, lf = setups[loss]
        t = time.perf_counter()
        l = lf(model(x), y); l.backward(); opt.step(); opt.zero_grad()
        return time.perf_counter() - t
    for loss in setups: step(loss)                      # warm-up
    times = {'mse': [], 'cov': []}
    for _ in range(a.steps):
        for loss in ('mse', 'cov'): times[loss].append(step(loss))
    med = {k: statistics.median(v) for k, v in times.items()}
    # the losses alone (forward + backward on the head's outputs): the part of the step that differs
    out_c = torch.randn(a.bs, m + m * m, requires_grad=True); out_m = torch.randn(a.bs, m, requires_grad=True)
    loss_t = {}
    for name, f in (('cov', lambda: CovarianceLoss(m)(out_c, y)), ('mse', lambda: MSELossFlat()(out_m, y))):
        for _ in range(5): f().backward()
        t = time.perf_counter()
        for _ in range(100): f().backward()
        loss_t[name] = (time.perf_counter() - t) / 100
    print(f"machine: {torch.get_num_threads()} threads; {a.arch}, batch {a.bs} at {a.size}px, {a.steps} alternating steps each")
    for k in ('mse', 'cov'): print(f"  {k}: median {med[k]:.3f}s per step ({a.bs / med[k]:.1f} images/s); loss alone {loss_t[k] * 1e3:.2f} ms")
    print(f"  loss difference as a share of the MSE step: {(loss_t['cov'] - loss_t['mse']) / med['mse']:.2e}")
    record_all(a, {'bench_cov_vs_mse_step': med['cov'] / med['mse'],
                   'bench_cov_vs_mse_loss_extra_ms': (loss_t['cov'] - loss_t['mse']) * 1e3}, __file__)
    print(f"covariance vs MSE training step: {med['cov'] / med['mse']:.3f}x")

if __name__ == '__main__': main()
