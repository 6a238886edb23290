"""Build the docs site into `_docs/` with Sphinx + MyST-NB, offline and without executing a notebook (`make docs`).

nbdev's own site generator needs Quarto, which cannot be installed on the development machines. This script only
prepares Sphinx's input and runs Sphinx (configuration: `docs/conf.py`):

- every `nbs/*.ipynb` becomes a page, in file-name order, with its stored outputs, named as nbdev names it
  (`nbs/02_ava.ipynb` -> `ava.html`). nbdev's `#|` directives do what they do in nbdev: `hide` (and Quarto's
  `include: false`) drops the cell, `echo: false` hides the code, `output: false` the outputs, `#| hide_line` lines
  are dropped, the other directive lines (`export`, `default_exp`, `slow`, ...) are left out of the code shown. Each
  exported cell gets an anchor per name it defines (`ava.html#read_ava`, where `aaacov/_modidx.py` links);
- the copy of `index.ipynb` is the home page: its `{{key}}` placeholders are filled from `nbs/results.json` as in
  README.md, and it carries the (hidden) table of contents that orders the navigation;
- `api.md` documents every name of every module's `__all__` (autodoc: signature, docstring, docments), each linked
  to the notebook cell that defines it.

Usage: `python tools/docs.py [--out _docs] [--work build/sphinx]`; other arguments go to sphinx-build. The work
folder keeps Sphinx's cache, so a second build redoes only what changed.
"""
import argparse, ast, hashlib, importlib, json, re, shutil, subprocess, sys, time, warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NBS, CONF = ROOT/'nbs', ROOT/'docs'
sys.path.insert(0, str(ROOT))       # aaacov from this checkout, also when the package is not installed
warnings.filterwarnings('ignore', message='`torch.jit.script` is deprecated', category=FutureWarning)

_re_dir = re.compile(r'^\s*#\s*\|\s*([\w-]+)\s*(:?)\s*(.*?)\s*$')
_re_hide_line = re.compile(r'#\s*\|\s*hide_line\s*$')
_re_heading = re.compile(r'^(#{1,6})\s+(.+?)\s*#*\s*$')

def _src(cell): return ''.join(cell['source']) if isinstance(cell['source'], list) else cell['source']

def notebooks():
    "The notebooks of the site in reading order (file-name order; nbdev skips names starting with `_` or `.`)."
    return sorted(p for p in NBS.glob('*.ipynb') if not p.name.startswith(('_', '.')))

def directives(src):
    "nbdev/Quarto directives of a code cell's leading comment lines ({name: value}) and the source without them."
    lines, dirs = src.splitlines(), {}
    i = 0
    while i < len(lines):
        m = _re_dir.match(lines[i])
        if m: dirs[m[1].lower()] = m[3]
        elif lines[i].strip(): break
        i += 1
    body = [l for l in lines[i:] if not _re_hide_line.search(l)]
    return dirs, '\n'.join(body).strip('\n')

def _false(v): return v.strip().lower() == 'false'

def defined_names(body):
    "Top-level names that a code cell's source defines (functions, classes, assignments)."
    try: tree = ast.parse(body)
    except SyntaxError: return []
    names = []
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)): names.append(node.name)
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            for t in (node.targets if isinstance(node, ast.Assign) else [node.target]):
                names += [n.id for n in ast.walk(t) if isinstance(n, ast.Name)]
    return list(dict.fromkeys(names))

def _exported(dirs): return bool(dirs.keys() & {'export', 'exports', 'exporti'})

def anchor(name): return name.lower()      # nbdev's: aaacov/_modidx.py links `page.html#<name in lower case>`

def doc_cells(nb):
    """The cells a reader sees, directives applied (see the module docstring); an exported cell is preceded by an
    anchor for each name it defines, where nbdev's doc links (`aaacov/_modidx.py`) point."""
    out = []
    for cell in nb['cells']:
        cell = dict(cell)
        if cell['cell_type'] != 'code': out.append(cell); continue
        dirs, body = directives(_src(cell))
        if 'hide' in dirs or _false(dirs.get('include', '')): continue
        tags = [t for t in cell.get('metadata', {}).get('tags', [])]
        if _false(dirs.get('echo', '')): tags.append('remove-input')
        if _false(dirs.get('output', '')): tags.append('remove-output')
        if not body.strip() and not cell.get('outputs'): continue
        if _exported(dirs) and (names := defined_names(body)):
            out.append({'cell_type': 'markdown', 'id': f"{cell.get('id', len(out))}-anchors", 'metadata': {},
                        'source': '\n'.join(f'<div id="{anchor(n)}"></div>' for n in names)})
        cell['metadata'] = {**cell.get('metadata', {}), 'tags': tags}
        cell['source'] = body
        out.append(cell)
    return out

def page_name(nb_path):
    "The page of a notebook, named as nbdev names it (`nbs/02_ava.ipynb` -> `ava.html`), so nbdev's links hold."
    from nbdev.process import nbpath2html
    return nbpath2html(Path(nb_path).name).stem

def definitions(nb_path, module:str):
    """{`aaacov.<module>.<name>`: [page, anchor, notebook file, section title]} for the top-level names defined by the
    exported cells of `nb_path`, whose `#| default_exp` is `module` (a cell with `#| export <other>` defines its names in
    `aaacov.<other>`, documented on this page); the section is the nearest markdown heading above the defining cell."""
    nb = json.loads(nb_path.read_text(encoding='utf-8'))
    found, title = {}, None
    for cell in nb['cells']:
        src = _src(cell)
        if cell['cell_type'] == 'markdown':
            in_fence = False
            for l in src.splitlines():
                if l.lstrip().startswith(('```', '~~~')): in_fence = not in_fence
                m = None if in_fence else _re_heading.match(l)
                if m: title = m[2].strip()
        elif cell['cell_type'] == 'code':
            dirs, body = directives(src)
            if not _exported(dirs) or 'hide' in dirs: continue
            target = next((dirs[k].split()[0] for k in ('export', 'exports', 'exporti') if dirs.get(k, '').split()), module)
            for n in defined_names(body): found.setdefault(f'aaacov.{target}.{n}', [page_name(nb_path), anchor(n), nb_path.name, title])
    return found

def module_notebooks():
    "{module name: notebook path} from the `#| default_exp` of each notebook."
    mods = {}
    for p in notebooks():
        for cell in json.loads(p.read_text(encoding='utf-8'))['cells']:
            if cell['cell_type'] == 'code':
                d, _ = directives(_src(cell))
                if 'default_exp' in d: mods[d['default_exp'].split()[0]] = p
    return mods

def public_modules():
    "{`aaacov.x`: its `__all__`} for every module of the package, in name order."
    pkg = ROOT/'aaacov'
    out = {}
    for f in sorted(pkg.glob('*.py')):
        if f.stem.startswith('_'): continue
        mod = importlib.import_module(f'aaacov.{f.stem}')
        out[mod.__name__] = list(getattr(mod, '__all__', []))
    return out

def _directive(mod, name):
    "The autodoc directive that documents `mod.name` (classes with their documented methods)."
    import functools, inspect
    obj = getattr(importlib.import_module(mod), name)
    if inspect.isclass(obj):
        kind = 'autoexception' if issubclass(obj, BaseException) else 'autoclass'
        return [f'.. {kind}:: {mod}.{name}', '   :members:', '']
    if inspect.isroutine(obj) or isinstance(obj, functools.partial): return [f'.. autofunction:: {mod}.{name}', '']
    return [f'.. autodata:: {mod}.{name}', '']

def api_page(mods, nbmods):
    "MyST source of the API reference: one section per module, autodoc for every name of its `__all__`, in order."
    parts = ['# API reference', '',
             'Every public name of every `aaacov` module (its `__all__`), with its signature and documentation; '
             '"Defined in" links to the notebook cell that defines it, in the section that explains and tests it.', '']
    for name, names in mods.items():
        nb = nbmods.get(name.split('.', 1)[1])
        parts += [f'## `{name}`', '']
        if nb is not None: parts += [f'Notebook: [{nb.name}]({page_name(nb)}.ipynb)', '']
        parts += ['```{eval-rst}', f'.. automodule:: {name}', '']
        for n in names: parts += _directive(name, n)
        parts += ['```', '']
    return '\n'.join(parts)

def index_extra(pages):
    "The markdown cell appended to the home page: the site's navigation, in reading order."
    return '\n'.join(['```{toctree}', ':hidden:', ':maxdepth: 1', '', *pages, 'api', '```'])

def write_if_changed(path, text):
    "Keep the file (and its time stamp, so Sphinx rebuilds only what changed) when its text is the same."
    if path.exists() and path.read_text(encoding='utf-8') == text: return
    path.write_text(text, encoding='utf-8')

def prepare(src):
    "Write Sphinx's input into `src`: the notebooks as a reader sees them, the API page and the link map."
    from aaacov.results import load_results, fill_placeholders
    src.mkdir(parents=True, exist_ok=True)
    nbs = notebooks()
    names = {p: page_name(p) for p in nbs}
    clash = {n for n in names.values() if list(names.values()).count(n) > 1}
    if clash: sys.exit(f'docs: notebooks {sorted(p.name for p, n in names.items() if n in clash)} make the same page')
    keep = {'api.md', 'definitions.json'}
    for p in nbs:
        nb = json.loads(p.read_text(encoding='utf-8'))
        nb['cells'] = doc_cells(nb)
        if p.stem == 'index':
            results = load_results(NBS/'results.json')
            for c in nb['cells']:
                if c['cell_type'] == 'markdown': c['source'] = fill_placeholders(_src(c), results)
            nb['cells'].append({'cell_type': 'markdown', 'id': 'aaacov-docs-toctree', 'metadata': {},
                                'source': index_extra([names[q] for q in nbs if q.stem != 'index'])})
        nb.setdefault('metadata', {}).setdefault('kernelspec', {'display_name': 'Python 3', 'language': 'python', 'name': 'python3'})
        write_if_changed(src/f'{names[p]}.ipynb', json.dumps(nb, indent=1, ensure_ascii=False))
        keep.add(f'{names[p]}.ipynb')
    for old in src.iterdir():
        if old.is_file() and old.name not in keep: old.unlink()       # a notebook that was renamed or removed
    nbmods = module_notebooks()
    mods = public_modules()
    defs = {k: where for mod, nb in nbmods.items() for k, where in definitions(nb, mod).items()}
    defs = json.dumps(defs, indent=1, sort_keys=True, ensure_ascii=False)
    write_if_changed(src/'definitions.json', defs)
    # the hash makes Sphinx re-read the API page when only the links (definitions.json, read by conf.py) changed
    tag = hashlib.sha256(defs.encode()).hexdigest()[:16]
    write_if_changed(src/'api.md', api_page(mods, nbmods) + f'\n<!-- definitions.json {tag} -->\n')
    return mods

def build(out=ROOT/'_docs', work=ROOT/'build'/'sphinx', extra=(), quiet=True):
    """Prepare and run sphinx-build into `work` (its cache: a second build redoes only what changed), then copy the
    site to `out`; returns the number of HTML pages."""
    out, work = Path(out).resolve(), Path(work).resolve()
    if out.exists() and any(out.iterdir()) and not (out/'index.html').exists():
        sys.exit(f'docs: {out} is not empty and holds no site: not replacing it')
    t0 = time.time()
    prepare(work/'src')
    # MyST-NB writes the notebooks' images next to Sphinx's output folder, so that folder lives in `work` too
    cmd = [sys.executable, '-m', 'sphinx', '-b', 'html', '-c', str(CONF), '-d', str(work/'doctrees'),
           '--keep-going', *(['-q'] if quiet else []), *extra, str(work/'src'), str(work/'html')]
    r = subprocess.run(cmd, cwd=ROOT)
    if r.returncode: sys.exit(f'docs: sphinx-build failed with exit code {r.returncode}')
    (work/'html'/'.nojekyll').touch()                 # GitHub Pages from a branch: serve _static/ and _images/ as they are
    shutil.rmtree(out, ignore_errors=True)
    shutil.copytree(work/'html', out)
    n = sum(1 for _ in out.glob('*.html'))
    print(f'docs: {n} pages in {out} ({time.time() - t0:.0f} s); open {out/"index.html"}')
    return n

def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--out', default=str(ROOT/'_docs'), help='site folder (default: _docs)')
    ap.add_argument('--work', default=str(ROOT/'build'/'sphinx'), help="Sphinx's input and cache (default: build/sphinx)")
    ap.add_argument('-v', '--verbose', action='store_true', help="show Sphinx's progress")
    args, extra = ap.parse_known_args(argv)
    build(args.out, args.work, extra, quiet=not args.verbose)

if __name__ == '__main__': main()
