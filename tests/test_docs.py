"""The docs site (`make docs`): built from the notebooks' stored outputs with `tools/docs.py`, then read the way a
reader's browser reads it (headless Chromium: console, links, images, search), plus screenshots for a person.

The site is built afresh into a temporary folder (about 20 s); the browser checks open every page once (about 1 s a
page). Screenshots of the home page and of the interpretation notebook's page go to `build/docs-screenshots/`.
"""
import base64, hashlib, json, re, shutil, subprocess, sys
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit
import numpy as np, pytest, yaml
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]

def _tool():
    import importlib.util
    spec = importlib.util.spec_from_file_location('_docs_tool', ROOT/'tools'/'docs.py')
    mod = importlib.util.module_from_spec(spec); spec.loader.exec_module(mod)
    return mod

D = _tool()      # tools/docs.py: which notebooks, which page, what a reader sees of a cell

SHOTS = ROOT/'build'/'docs-screenshots'

def _chromium():
    return shutil.which('chromium') or shutil.which('chromium-browser') or shutil.which('google-chrome')

@pytest.fixture(scope='module')
def site(tmp_path_factory):
    tmp = tmp_path_factory.mktemp('docs')
    r = subprocess.run([sys.executable, str(ROOT/'tools'/'docs.py'), '--out', str(tmp/'site'), '--work', str(tmp/'work')],
                       cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, f'tools/docs.py failed:\n{r.stdout}\n{r.stderr}'
    # Sphinx's warnings are defects a reader sees (a broken reference, a docstring that renders wrong): none allowed.
    warns = [l for l in r.stderr.splitlines() if re.search(r'\b(WARNING|ERROR|CRITICAL)\b', l)]
    assert not warns, 'the docs build warned:\n' + '\n'.join(warns)
    return tmp/'site'

def _pages(site): return sorted(site.glob('*.html'))

class _Doc(HTMLParser):
    "What the checks need from one page: ids, and every URL it links to or loads, by tag."
    def __init__(self, html):
        super().__init__(convert_charrefs=True)
        self.ids, self.urls, self.imgs = set(), [], []
        self.feed(html)
    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        for k in ('id', 'name'):
            if a.get(k) and (k == 'id' or tag == 'a'): self.ids.add(a[k])
        if tag == 'img' and a.get('src'): self.imgs.append(a['src'])
        for k in ('href', 'src'):
            if a.get(k): self.urls.append((tag if tag != 'link' else f"link rel={a.get('rel')}", k, a[k]))

def _resolve(page, url):
    "The file a relative URL of `page` names (a folder means its index.html), and its fragment."
    parts = urlsplit(url)
    path = page if not parts.path else (page.parent/unquote(parts.path)).resolve()
    if path.is_dir(): path = path/'index.html'
    return path, unquote(parts.fragment)

def _is_external(url): return urlsplit(url).scheme in ('http', 'https', 'mailto')

def _image_bytes(page, src):
    if src.startswith('data:'):
        head, data = src.split(',', 1)
        return base64.b64decode(data) if ';base64' in head else unquote(data).encode()
    return _resolve(page, src)[0].read_bytes()

def _not_blank(data):
    "An image with something drawn on it: more than one colour (an SVG: at least one drawing element)."
    if data.lstrip()[:5] in (b'<svg ', b'<?xml') or b'<svg' in data[:200]:
        return re.search(rb'<(path|rect|circle|line|polyline|polygon|text|image|use)\b', data) is not None
    from io import BytesIO
    im = Image.open(BytesIO(data)).convert('RGBA')
    px = np.asarray(im, dtype=float)
    return px[..., 3].max() > 0 and px[..., :3].reshape(-1, 3).std(axis=0).max() > 2

def _stored_images(nb_path):
    """The image outputs of the cells a reader sees in `nb_path`: (sha256 of each form it is stored in (PNG, JPEG),
    the cell's source, the bytes of its first form)."""
    nb = json.loads(nb_path.read_text(encoding='utf-8'))
    out = []
    for cell in D.doc_cells(nb):
        for o in cell.get('outputs', []):
            forms = [o['data'][m] for m in ('image/png', 'image/jpeg') if m in o.get('data', {})]
            forms = [base64.b64decode(''.join(f) if isinstance(f, list) else f) for f in forms]
            if forms: out.append(({hashlib.sha256(f).hexdigest() for f in forms}, D._src(cell), forms[0]))
    return out

def _site_images(site, page):
    "{sha256 of the bytes: src} of the images a built page shows."
    return {hashlib.sha256(_image_bytes(page, s)).hexdigest(): s for s in _Doc(page.read_text(encoding='utf-8')).imgs}


# --- the built files --------------------------------------------------------------------------------------------

def test_one_page_per_notebook_in_reading_order(site):
    nbs = D.notebooks()
    assert len(nbs) > 20
    for nb in nbs: assert (site/f'{D.page_name(nb)}.html').is_file(), f'{nb.name} has no page'
    for extra in ('index', 'api', 'search', 'genindex'): assert (site/f'{extra}.html').is_file()
    # the navigation lists the notebooks in file-name order, then the API reference
    home = (site/'index.html').read_text(encoding='utf-8')
    tree = home[home.index('sidebar-tree'):]
    tree = tree[:tree.index('</nav>')] if '</nav>' in tree else tree
    hrefs = [h for h in re.findall(r'<a class="reference internal" href="([^"#]+)"', tree)]
    want = [f'{D.page_name(nb)}.html' for nb in nbs if nb.stem != 'index'] + ['api.html']
    assert hrefs == want

def test_pages_show_the_stored_outputs(site):
    "Every image a notebook shows (plots, attribute maps, heat maps) and every stored table is on its page."
    missing = []
    for nb in D.notebooks():
        page = site/f'{D.page_name(nb)}.html'
        shown = _site_images(site, page)
        missing += [f'{nb.name}: image output of `{src.splitlines()[-1][:60]}`' for hs, src, _ in _stored_images(nb) if not hs & shown.keys()]
        nbj = json.loads(nb.read_text(encoding='utf-8'))
        tables = sum('<table' in ''.join(o['data']['text/html']) for c in D.doc_cells(nbj) for o in c.get('outputs', [])
                     if 'text/html' in o.get('data', {}))
        assert page.read_text(encoding='utf-8').count('<table') >= tables, f'{nb.name}: a stored table is not on its page'
    assert not missing, 'stored images not on their pages:\n' + '\n'.join(missing)

INTERPRET = ROOT/'nbs'/'15_interpret.ipynb'

def _attribute_maps(site):
    "[(page, src of the figure in it, the stored bytes)] for each stored `show_attribute_maps(...)` figure."
    figs = [(hs, data) for hs, src, data in _stored_images(INTERPRET) if re.search(r'^\s*show_attribute_maps\(', src, re.M)]
    assert figs, f'{INTERPRET.name} has no stored output of a show_attribute_maps(...) cell (run `make nbs NBS=nbs/{INTERPRET.name}`)'
    page = site/f'{D.page_name(INTERPRET)}.html'
    shown = _site_images(site, page)
    for hs, _ in figs: assert hs & shown.keys(), f'the attribute-map figure of nbs/{INTERPRET.name} is not on its page'
    return [(page, shown[(hs & shown.keys()).pop()], data) for hs, data in figs]

def test_attribute_map_figure_is_on_the_interpret_page(site):
    for page, src, data in _attribute_maps(site):
        html = page.read_text(encoding='utf-8')
        cell = html[:html.index(src)].rsplit('<div class="cell docutils container', 1)[1]
        assert 'show_attribute_maps' in cell, 'the attribute-map figure is not under the cell that draws it'
        assert _not_blank(data)

def test_api_page_lists_every_public_name(site):
    html = (site/'api.html').read_text(encoding='utf-8')
    ids = _Doc(html).ids
    modules = D.public_modules()
    assert len(modules) > 20
    missing, unlinked = [], []
    for mod, names in modules.items():
        assert names, f'{mod} has no __all__'
        assert f'id="module-{mod}"' in html or mod in ids, f'{mod} has no section on the API page'
        for n in names:
            if f'{mod}.{n}' not in ids: missing.append(f'{mod}.{n}')
            # "Defined in": a link to the notebook cell that defines the name (nbdev's page#anchor)
            elif not re.search(rf'href="[a-z0-9_]+\.html#{re.escape(D.anchor(n))}"', html): unlinked.append(f'{mod}.{n}')
    assert not missing, f'names of __all__ missing from the API page: {missing}'
    assert not unlinked, f'names of __all__ without a link to their notebook: {unlinked}'

def test_nbdev_quarto_config_still_valid():
    "nbdev-docs (where Quarto exists) finds the configuration it would write itself, and writes _docs/ too."
    from nbdev.config import get_config
    from nbdev.quarto import _nbdev_yml, _quarto_yml
    cfg = get_config(ROOT)
    vals = {k: cfg[k] for k in ['title', 'description', 'branch', 'git_url', 'doc_host', 'doc_baseurl']}
    vals['doc_path'] = cfg.doc_path.name
    assert (ROOT/'nbs'/'nbdev.yml').read_text() == _nbdev_yml.format(**vals), \
        'nbs/nbdev.yml differs from what nbdev writes from pyproject.toml ([tool.nbdev] / [project]): update it'
    q = yaml.safe_load((ROOT/'nbs'/'_quarto.yml').read_text())
    assert q['project']['type'] == 'website' and 'nbdev.yml' in q['metadata-files']
    assert yaml.safe_load(_quarto_yml).keys() <= q.keys()
    assert yaml.safe_load((ROOT/'nbs'/'nbdev.yml').read_text())['project']['output-dir'] == '_docs' == cfg.doc_path.name


# --- in the browser ---------------------------------------------------------------------------------------------

def _browser(tmp, *args, url, timeout=120):
    browser = _chromium()
    if browser is None: pytest.skip("no Chromium on this machine (.ci/run installs Debian's chromium): site not rendered in a browser")
    r = subprocess.run([browser, '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
                        '--disable-background-networking', '--disable-component-update', '--disable-sync',
                        '--enable-logging=stderr', '--v=0', f'--user-data-dir={tmp/"chrome"}',
                        '--virtual-time-budget=5000', *args, url], capture_output=True, text=True, timeout=timeout)
    # Chromium's log line of a console message (console.log/error, an uncaught exception): the page's own words
    console = [l for l in r.stderr.splitlines() if re.search(r':CONSOLE[:(]\d*\)?\]', l)]
    return r.stdout, console

@pytest.fixture(scope='module')
def rendered(site, tmp_path_factory):
    "{page: (DOM after the page's scripts ran, console messages)} for every page of the site."
    tmp = tmp_path_factory.mktemp('chrome')
    return {p: _browser(tmp, '--dump-dom', url=p.as_uri()) for p in _pages(site)}

def test_every_page_loads_without_console_messages(rendered):
    # Chromium's log does not carry the level: any message counts (the site's own scripts log nothing).
    bad = {p.name: c for p, (dom, c) in rendered.items() if c}
    assert not bad, f'console messages: {bad}'
    for p, (dom, _) in rendered.items(): assert '</body>' in dom, f'{p.name} did not render'

def test_every_internal_link_resolves_and_nothing_is_fetched(site, rendered):
    ids = {p.resolve(): _Doc(dom).ids for p, (dom, _) in rendered.items()}
    broken, remote = [], []
    for page, (dom, _) in rendered.items():
        for tag, attr, url in _Doc(dom).urls:
            if url.startswith(('data:', 'javascript:')) or url == '#': continue
            if _is_external(url):
                # the site must work offline: nothing loaded from the network (a link or a canonical URL is no load)
                if tag != 'a' and tag not in ('link rel=canonical', 'link rel=alternate'): remote.append(f'{page.name}: <{tag} {attr}={url}>')
                continue
            path, frag = _resolve(page, url)
            if not path.exists(): broken.append(f'{page.name}: {url}')
            elif frag and path.suffix == '.html' and frag not in ids.get(path, ()): broken.append(f'{page.name}: {url} (no #{frag})')
    assert not remote, f'pages load resources from the network: {remote}'
    assert not broken, f'{len(broken)} broken internal links:\n' + '\n'.join(broken[:40])

def test_every_image_is_non_blank(rendered):
    n, blank = 0, []
    for page, (dom, _) in rendered.items():
        for src in _Doc(dom).imgs:
            n += 1
            if not _not_blank(_image_bytes(page, src)): blank.append(f'{page.name}: {src[:80]}')
    assert n >= 10 and not blank, f'blank images: {blank}'

def test_math_is_typeset_offline(site, rendered):
    "The equations of the losses notebook are typeset by the MathJax copy inside the site (no network)."
    dom = rendered[site/f'{D.page_name(ROOT/"nbs"/"07_losses.ipynb")}.html'][0]
    assert 'class="math' in dom and 'class="MathJax_Display"' in dom

def test_search_finds_a_page(site, tmp_path):
    dom, console = _browser(tmp_path, '--dump-dom', url=(site/'search.html').as_uri() + '?q=covariance')
    assert not console, console
    hits = re.findall(r'<li[^>]*>\s*<a href="([^"]+)"', dom[dom.find('search-results'):])
    assert any(h.startswith('losses.html') for h in hits), f'searching "covariance" did not find the losses page: {hits[:10]}'

def test_screenshots_for_a_person(site, tmp_path):
    """The home page, and the interpretation page scrolled to its attribute-map figure (a frame scrolled by a
    script, not smoothly: headless Chromium's --screenshot ignores a #fragment)."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    page, src, _ = _attribute_maps(site)[0]
    frame = tmp_path/'interpret.html'
    frame.write_text(f'''<html><body style="margin:0"><iframe src="{page.as_uri()}" style="width:1280px;height:1800px;border:0"
        onload="this.contentDocument.querySelector('img[src=\\'{src}\\']').closest('.cell').scrollIntoView({{behavior: 'instant'}})"></iframe></body></html>''')
    for name, url in [('home', (site/'index.html').as_uri()), ('interpret', frame.as_uri())]:
        shot = SHOTS/f'{name}.png'
        shot.unlink(missing_ok=True)
        _, console = _browser(tmp_path, f'--screenshot={shot}', '--window-size=1280,1800', '--hide-scrollbars',
                              '--allow-file-access-from-files', url=url)
        assert shot.is_file() and not console, f'no screenshot of {url}: {console}'
        px = np.asarray(Image.open(shot).convert('L'), dtype=float)
        assert px.shape == (1800, 1280) and px.std() > 20, f'{shot} looks blank'
    print(f'screenshots: {SHOTS}')
