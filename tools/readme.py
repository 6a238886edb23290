"""Write README.md from nbs/index.ipynb without Quarto (which is not installable everywhere).

Markdown cells are copied as they are, except that `{{key}}` / `{{key:.3f}}` placeholders are filled with the values
recorded in nbs/results.json (`aaacov.results`: written by the notebooks under `make nbs` and by `bench/*.py --record`);
a placeholder whose key is not in that file is an error naming the key (exit code 1, README.md left as it was).
Code cells (minus `#|` directives, and minus cells marked `#| hide`) become ```python blocks followed by their text
output. Where Quarto exists, `nbdev-readme` renders the same notebook (without filling the placeholders).
"""
import json, sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))       # aaacov.results from this checkout, also when the package is not installed
from aaacov.results import load_results, fill_placeholders, MissingResult

RESULTS = ROOT/'nbs'/'results.json'

def _src(cell): return ''.join(cell['source']) if isinstance(cell['source'], list) else cell['source']

def _text_outputs(cell):
    out = []
    for o in cell.get('outputs', []):
        if o.get('output_type') == 'stream' and o.get('name') == 'stdout': out.append(''.join(o['text']))
        elif 'data' in o and 'text/plain' in o['data']: out.append(''.join(o['data']['text/plain']))
    return ''.join(out).rstrip()

def render(nb_path, results=None):
    "The README text of `nb_path`, its markdown placeholders filled from `results` (default: nbs/results.json)."
    results = load_results(RESULTS) if results is None else results
    nb = json.loads(Path(nb_path).read_text(encoding='utf-8'))
    parts = []
    for cell in nb['cells']:
        src = _src(cell)
        if cell['cell_type'] == 'markdown': parts.append(fill_placeholders(src, results).strip())
        elif cell['cell_type'] == 'code':
            lines = src.splitlines()
            if any(l.strip() in ('#| hide', '#|hide') for l in lines): continue
            code = '\n'.join(l for l in lines if not l.startswith('#|')).strip()
            if not code: continue
            parts.append(f'```python\n{code}\n```')
            out = _text_outputs(cell)
            if out: parts.append(f'```\n{out}\n```')
    return '\n\n'.join(p for p in parts if p) + '\n'

def main():
    src = ROOT/'nbs'/'index.ipynb'
    try: text = render(src)
    except (MissingResult, ValueError) as e:
        return f"tools/readme.py: {src.relative_to(ROOT)}: {e.args[0] if e.args else e} (results file: {RESULTS.relative_to(ROOT)})"
    dest = ROOT/'README.md'
    if not dest.exists() or dest.read_text(encoding='utf-8') != text: dest.write_text(text, encoding='utf-8')

if __name__ == '__main__': sys.exit(main())
