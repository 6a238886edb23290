# Sphinx configuration of the docs site. Build it with `make docs` (tools/docs.py prepares the input: the notebooks
# as a reader sees them, api.md, definitions.json). Where Quarto exists, `nbdev-docs` builds nbdev's own site from
# nbs/_quarto.yml instead; both write _docs/.
import json, re, shutil, sys, warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
warnings.filterwarnings('ignore', message='`torch.jit.script` is deprecated', category=FutureWarning)
import aaacov

project = 'aaacov'
author = 'aaacov developers'
copyright = 'aaacov developers, Apache-2.0'
release = version = aaacov.__version__

extensions = ['myst_nb', 'sphinx.ext.autodoc', 'sphinx.ext.mathjax']
root_doc = 'index'
exclude_patterns = ['_build', '**.ipynb_checkpoints']

# The notebooks' stored outputs, never a kernel: nothing is executed.
nb_execution_mode = 'off'
nb_merge_streams = True
myst_enable_extensions = ['dollarmath', 'amsmath', 'colon_fence']
myst_heading_anchors = 3
# Notebooks start at '#' and may skip levels.
suppress_warnings = ['myst.header']

autodoc_member_order = 'bysource'      # for a module with __all__: the order of __all__
autodoc_typehints = 'signature'
add_module_names = False

html_theme = 'furo'
html_title = 'aaacov'
html_baseurl = 'https://aaacov.github.io/aaacov/'
html_copy_source = False
html_show_sourcelink = False
# Result snippets are fetched page by page, which browsers refuse for file:// pages: the site opened from disk
# searches the same as the published one.
html_show_search_summary = False

# MathJax 2 from the `jupyter-server-mathjax` wheel, copied into the site: math renders offline too.
mathjax_path = 'mathjax/MathJax.js?config=TeX-AMS-MML_HTMLorMML-full'
mathjax3_config = None
mathjax2_config = {'tex2jax': {'inlineMath': [['\\(', '\\)']], 'displayMath': [['\\[', '\\]']],
                               'processEscapes': True, 'ignoreClass': 'document', 'processClass': 'math|output_area'},
                   'messageStyle': 'none'}

def _mathjax_dir():
    import jupyter_server_mathjax
    return Path(jupyter_server_mathjax.__file__).parent/'static'

def _copy_mathjax(app, exc):
    if exc is None and app.builder.format == 'html':
        shutil.copytree(_mathjax_dir(), Path(app.outdir)/'_static'/'mathjax', dirs_exist_ok=True,
                        ignore=shutil.ignore_patterns('localization', 'tests', '__pycache__'))

# --- docstrings: nbdev writes Markdown and docments; autodoc reads reStructuredText ---------------------------------

_re_code = re.compile(r'(?<![`\\])(`+)([^`\n]+?)\1(?!`)')
_re_link = re.compile(r'\[([^\]\n]+)\]\(([^)\s]+)\)')
_re_emph = re.compile(r'(\*\*|\*)(?=[^\s*])(.+?)(?<=[^\s*])\1')
_DEFS = {}

def _load_definitions(app):
    f = Path(app.srcdir)/'definitions.json'
    _DEFS.update(json.loads(f.read_text(encoding='utf-8')) if f.exists() else {})

def _text2rst(t):
    "Markdown text without code spans or links -> reST: emphasis kept, other `*`, `|`, `word_` escaped."
    out, i = [], 0
    esc = lambda u: re.sub(r'(\w)_(?=\W|$)', r'\1\\_', u.replace('\\', '\\\\').replace('*', r'\*').replace('|', r'\|'))
    for m in _re_emph.finditer(t):
        out += [esc(t[i:m.start()]), m[1], esc(m[2]).replace(r'\*', '*'), m[1]]
        i = m.end()
    return ''.join(out + [esc(t[i:])])

def _md2rst(line):
    "One line of a Markdown docstring (nbdev's style) as reStructuredText."
    out, i = [], 0
    for m in re.finditer(f'{_re_code.pattern}|{_re_link.pattern}', line):
        out.append(_text2rst(line[i:m.start()]))
        if m[2] is not None: tok = f'``{m[2].strip()}``' if m[2].strip() else m[0]
        else: tok = f'`{_text2rst(m[3])} <{m[4]}>`__'
        # reST inline markup must stand between spaces or punctuation: an escaped space joins it to a word
        before, after = line[m.start() - 1:m.start()], line[m.end():m.end() + 1]
        out.append(('\\ ' if before.isalnum() else '') + tok + ('\\ ' if after.isalnum() or after in '`_' and after else ''))
        i = m.end()
    return ''.join(out + [_text2rst(line[i:])])

def _docments(obj):
    "{param: docment} from fastcore's docments (the comments after each parameter), incl. 'return'."
    from fastcore.docments import docments
    try: d = docments(obj, full=True)
    except Exception: return {}
    return {k: v['docment'] for k, v in d.items() if v.get('docment')}

def _defined_in(page, anchor, nb_file, title):
    shown = nb_file + (' › ' + re.sub(r'[`*<>]', '', _re_link.sub(r'\1', title)).strip() if title else '')
    return f'*Defined in* `{_text2rst(shown)} <{page}.html#{anchor}>`__.'

def _where(name, obj):
    "The notebook section that defines `name` (a re-exported name: where its object was defined)."
    if name in _DEFS: return _DEFS[name]
    short = name.rsplit('.', 1)[-1]
    mod = getattr(obj, '__module__', None)
    if mod and f'{mod}.{short}' in _DEFS: return _DEFS[f'{mod}.{short}']
    same = [v for k, v in _DEFS.items() if k.rsplit('.', 1)[-1] == short]
    return same[0] if len(same) == 1 else None

def process_docstring(app, what, name, obj, options, lines):
    if what == 'module': return
    if what == 'data' and getattr(obj, '__doc__', None) == getattr(type(obj), '__doc__', None):
        lines[:] = []             # a constant: not the docstring of its type (dict, list, ...)
    lines[:] = [_md2rst(l) for l in lines]
    if what in ('function', 'method', 'class', 'exception') and not any(l.lstrip().startswith(':param') for l in lines):
        try: dm = _docments(obj)
        except Exception: dm = {}
        fields = [f':param {k}: {_md2rst(v)}' for k, v in dm.items() if k != 'return']
        if 'return' in dm: fields.append(f':returns: {_md2rst(dm["return"])}')
        if fields: lines += ['', *fields]
    if name.count('.') == 2:          # aaacov.<module>.<name>: a public name of a module, not a method
        w = _where(name, obj)
        if w: lines += ['', _defined_in(*w)]

def process_signature(app, what, name, obj, options, signature, return_annotation):
    "Defaults that are functions or classes shown by name, without their memory address."
    fix = lambda s: s and re.sub(r'<(?:function|class|built-in function) ([\w.]+)(?: at 0x[0-9a-f]+)?>', r'\1', s)
    return fix(signature), fix(return_annotation)

def setup(app):
    app.connect('builder-inited', _load_definitions)
    app.connect('autodoc-process-docstring', process_docstring)
    app.connect('autodoc-process-signature', process_signature)
    app.connect('build-finished', _copy_mathjax)
    return {'parallel_read_safe': True}
