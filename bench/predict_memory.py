"""Peak memory of `aaacov predict` on a 20,000-image folder vs a 2,000-image folder, each scored in a fresh process.

Goal (issue, benchmark 6): flat peak memory -- scoring 10x more files must not need more memory (ratio ~1.0x).
Each folder is scored by its own `aaacov predict FOLDER --model M --out CSV --quiet` child process (the console script),
started from a small wrapper that reports `resource.getrusage(RUSAGE_CHILDREN).ru_maxrss` after the child exits: the peak
RSS of the largest single process of that run (the main process, or a DataLoader worker it reaped).  Meanwhile the
benchmark samples the whole process tree (main + decoding workers) with psutil every 0.2 s and reports the peak of the
summed RSS (counts pages shared between the forked workers and the main process once per process) and of the summed
PSS (shared pages split between the processes: the tree's real footprint).
Images: small distinct JPEGs (default 320x240, quality 90) -- a few hundred unique files, made from the photos shipped with
scikit-image / scikit-learn (bench/train_pipeline.py `make_photos`), hard-linked under distinct file names.
Model: by default a small one so that 20k images score in a few minutes on 2 cores -- an (untrained) `cov_learner`
MobileNetV2 at --size 64 built on the tiny synthetic set and written with `save_model`; --model packaged uses the shipped
224 px model (the honest full-size number; ~10x slower); --model DIR any saved model folder.
The runs are sequential (memory does not drift like time does); the CSV of each run is checked for one `ok` row per file.
Usage: python bench/predict_memory.py [--n-small 2000] [--n-large 20000] [--model small|packaged|DIR] [--size 64]
       [--unique 400] [--image-size 320x240] [--workers N] [--bs 16] [--record]
--record (default settings; --n-large and --model packaged allowed, as `_n<N>` / `_packaged` suffixes of the keys)
writes bench_predict_memory_rss (the last line: largest process) and bench_predict_memory_pss (process tree) to nbs/results.json.
"""
import argparse, json, os, subprocess, sys, tempfile, time, warnings
from pathlib import Path
warnings.filterwarnings("ignore", category=FutureWarning); warnings.filterwarnings("ignore", category=UserWarning)
sys.path.insert(0, str(Path(__file__).parent))
from train_pipeline import make_photos, parse_size
from _record import add_record_flag, check_record_args, record_all

WRAPPER = ("import json, resource, subprocess, sys\n"
           "rc = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL).returncode\n"
           "print(json.dumps({'rc': rc, 'maxrss_kb': resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss}))\n")

def small_model(dest, size:int) -> Path:
    "An untrained covariance MobileNetV2 at `size` px, saved like a trained one (the tiny synthetic set gives its config)."
    from aaacov.synthetic import synthetic_dataset
    from aaacov.data import read_aadb_labels, match_images
    from aaacov.dataloaders import aadb_dataloaders
    from aaacov.learner import cov_learner, save_model
    data = synthetic_dataset('tiny', progress=False)
    labels = match_images(read_aadb_labels(data), data)
    dls = aadb_dataloaders(labels, size=size, bs=16, standardize=True, cache=False, progress=False)
    return save_model(cov_learner(dls, 'mobilenet_v2', pretrained=False, freeze=False), dest)

def folder_of(dest, n:int, unique:list) -> Path:
    "`n` distinct file names in `dest`, hard links to the `unique` JPEGs in turn."
    dest = Path(dest); dest.mkdir(parents=True)
    for i in range(n): os.link(unique[i % len(unique)], dest/f"img{i:07d}.jpg")
    return dest

def score(folder, model, out, workers, bs, interval=0.2) -> dict:
    "Run `aaacov predict` on `folder` in a fresh child; peak memory (rusage of the child, sampled tree) and time."
    import psutil
    cli = Path(sys.executable).with_name('aaacov')
    cmd = [str(cli), 'predict', str(folder), '--model', str(model), '--out', str(out), '--quiet', '--bs', str(bs)]
    if workers is not None: cmd += ['--workers', str(workers)]
    t = time.perf_counter()
    p = subprocess.Popen([sys.executable, '-c', WRAPPER, *cmd], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    wrapper = psutil.Process(p.pid)
    peak = {'rss_sum': 0, 'pss_sum': 0, 'procs': 0}
    while p.poll() is None:
        try: kids = wrapper.children(recursive=True)
        except psutil.Error: kids = []
        rss = pss = 0
        for k in kids:
            try: mi = k.memory_full_info(); rss += mi.rss; pss += getattr(mi, 'pss', mi.rss)
            except psutil.Error: pass
        peak = {'rss_sum': max(peak['rss_sum'], rss), 'pss_sum': max(peak['pss_sum'], pss), 'procs': max(peak['procs'], len(kids))}
        time.sleep(interval)
    so, se = p.communicate()
    dt = time.perf_counter() - t
    r = json.loads(so.strip().splitlines()[-1])
    if r['rc'] != 0: raise RuntimeError(f"aaacov predict failed ({r['rc']}): {se[-2000:]}")
    with open(out, encoding='utf-8') as f: rows = [line.split(',', 2)[1] for line in f][1:]
    return {**peak, 'maxrss': r['maxrss_kb'] * 1024, 'time': dt, 'rows': len(rows), 'ok': rows.count('ok')}

def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--n-small', type=int, default=2000); ap.add_argument('--n-large', type=int, default=20000)
    ap.add_argument('--model', default='small', help="'small' (default), 'packaged' or a model folder")
    ap.add_argument('--size', type=int, default=64, help='input size of the small model')
    ap.add_argument('--unique', type=int, default=400, help='distinct JPEGs behind the hard links')
    ap.add_argument('--image-size', type=parse_size, default=(320, 240), help='WxH of the test JPEGs')
    ap.add_argument('--workers', type=int, default=None, help="aaacov predict --workers (default: the CLI's default)")
    ap.add_argument('--bs', type=int, default=16, help="aaacov predict --bs (default 16, the CLI's default)")
    add_record_flag(ap)
    a = ap.parse_args()
    if a.record and a.model not in ('small', 'packaged'): ap.error('--record: only with --model small (the default) or packaged')
    check_record_args(ap, a, variants=('n_large', 'model'))
    load0 = os.getloadavg()[0]
    tmp = tempfile.TemporaryDirectory(prefix='aaacov-bench-')
    root = Path(tmp.name)
    t = time.perf_counter()
    if a.model == 'small': model = small_model(root/'model', a.size)
    elif a.model == 'packaged':
        from aaacov.cli import default_model_dir
        model = default_model_dir()
    else: model = Path(a.model)
    unique = make_photos(root/'unique', a.unique, a.image_size, prefix='u')
    folders = {n: folder_of(root/f"f{n}", n, unique) for n in (a.n_small, a.n_large)}
    t_setup = time.perf_counter() - t
    res = {n: score(f, model, root/f"out{n}.csv", a.workers, a.bs) for n, f in folders.items()}
    cfg = json.loads((Path(model)/'config.json').read_text())
    kb = sum(p.stat().st_size for p in unique) / len(unique) / 1e3
    MB = 1 / 2 ** 20
    print(f"machine: {os.cpu_count()} cores, load average at start {load0:.1f} (other jobs share the cores); model "
          f"{'small (untrained, ' if a.model == 'small' else ''}{cfg['arch']} at {cfg['size'][0]}px{')' if a.model == 'small' else ''}; "
          f"`aaacov predict --bs {a.bs}{f' --workers {a.workers}' if a.workers is not None else ''}`; setup {t_setup:.0f}s")
    print(f"images: {a.unique} unique JPEGs {a.image_size[0]}x{a.image_size[1]} q90 ({kb:.0f} KB each), hard-linked under distinct names")
    for n, r in res.items():
        assert r['rows'] == n and r['ok'] == n, (n, r)
        print(f"  {n:>7,} files: {r['time']:6.1f}s ({n / r['time']:5.0f} files/s incl. start-up), peak RSS {r['maxrss'] * MB:6.0f} MB "
              f"(largest process, rusage); sampled tree of {r['procs']} processes: RSS sum {r['rss_sum'] * MB:6.0f} MB, "
              f"PSS sum {r['pss_sum'] * MB:6.0f} MB")
    s, l = res[a.n_small], res[a.n_large]
    print(f"  growth: rusage peak {(l['maxrss'] - s['maxrss']) * MB:+.1f} MB, tree PSS peak {(l['pss_sum'] - s['pss_sum']) * MB:+.1f} MB")
    tmp.cleanup()
    sfx = (f'_n{a.n_large}' if a.n_large != ap.get_default('n_large') else '') + ('_packaged' if a.model == 'packaged' else '')
    record_all(a, {f'bench_predict_memory_rss{sfx}': l['maxrss'] / s['maxrss'],
                   f'bench_predict_memory_pss{sfx}': l['pss_sum'] / s['pss_sum']}, __file__)
    print(f"peak memory (sampled process tree, PSS), {a.n_large:,} vs {a.n_small:,} images: {l['pss_sum'] / s['pss_sum']:.3f}x")
    print(f"peak memory, {a.n_large:,} vs {a.n_small:,} images: {l['maxrss'] / s['maxrss']:.3f}x")

if __name__ == '__main__': main()
