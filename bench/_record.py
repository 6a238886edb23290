"""`--record` for the benchmarks: their headline numbers go to nbs/results.json through `aaacov.results.record`, and the
README's speed table is filled from that file (tools/readme.py).

A recorded number stands for the README's setting, so `--record` is refused (exit 2, before anything is measured) when
an option other than the benchmark's named variants is off its default; a variant (e.g. `--frozen`) goes into the keys.
The `recorded ...` note goes to stderr: the last line of stdout stays `<what>: <ratio>x`.
"""
import os, sys
from pathlib import Path

def add_record_flag(ap):
    ap.add_argument('--record', action='store_true',
                    help="write the headline numbers to nbs/results.json (the README's tables); only at the default sizes")

def check_record_args(ap, a, variants=()):
    "With --record: every option but `variants` at its default, and a results file to write; else `ap.error` naming them."
    if not a.record: return
    off = [f"--{k.replace('_', '-')} {getattr(a, k)}" for k in vars(a)
           if k != 'record' and k not in variants and getattr(a, k) != ap.get_default(k)]
    if off: ap.error(f"--record records the README's numbers, measured at the default settings; not with {', '.join(off)}")
    from aaacov.results import results_path
    try: results_path()
    except FileNotFoundError as e: ap.error(f"--record: {e}")

def record_all(a, values:dict, script:str):
    "With --record: `record(key, value, 'bench/<script>')` for every item of `values`, with AAACOV_RECORD=1."
    if not a.record: return
    os.environ['AAACOV_RECORD'] = '1'
    from aaacov.results import record, results_path
    for k, v in values.items(): record(k, v, f'bench/{Path(script).name}')
    print(f"recorded in {results_path()}: " + ', '.join(f'{k}={v:.4g}' for k, v in values.items()), file=sys.stderr)
