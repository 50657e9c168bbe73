"""The rendered docs site: `nbdev-docs` (Quarto) builds it without a warning, every internal link and asset
resolves, and a real browser shows the home page (its picture, the sidebar's sections) and a notebook page (MathJax
typeset) and the explorer page (its block slider and head menu change the map without a kernel, the controls that
need one are not shown, the static explorer draws another image's map, and the widgets fit a 700 px column and a
400 px phone) without a page error, a 404 or a request left unanswered.
The site loads MathJax, RequireJS, jQuery and the widget manager from CDNs, which CI cannot reach: the test routes
those URLs to the same files from their npm packages (`npm pack`, cached in ~/.cache/vit_nbdev/npm)."""
import functools, html.parser, http.server, os, re, shutil, subprocess, sys, tarfile, threading
from pathlib import Path
from urllib.parse import urldefrag, urlparse
import pytest

ROOT = Path(__file__).parents[1]
DOCS = ROOT/'_docs'
ARTIFACTS = ROOT/'tests'/'artifacts'
SITE_URL = 'https://vit-nbdev.github.io/vit_nbdev/'
REQUIRED = os.environ.get('VIT_NBDEV_REQUIRE_QUARTO')  # .ci/run installs Quarto from ../shared and sets this
if not shutil.which('quarto') and not REQUIRED:
    pytest.skip("no Quarto on PATH: the docs site is not built (https://quarto.org/docs/get-started/; .ci/run "
                "installs it from ../shared/tools/quarto)", allow_module_level=True)
# (npm package, version, the CDN URL prefix the site asks for, the folder inside the package it maps to)
CDN = [('mathjax', '3.2.2', 'https://cdn.jsdelivr.net/npm/mathjax@3/', ''),
       ('requirejs', '2.3.6', 'https://cdnjs.cloudflare.com/ajax/libs/require.js/2.3.6/require.min.js', 'require.js'),
       ('jquery', '3.5.1', 'https://cdnjs.cloudflare.com/ajax/libs/jquery/3.5.1/', 'dist/'),
       ('@jupyter-widgets/html-manager', '1.0.15', 'https://unpkg.com/@jupyter-widgets/html-manager@*/', '')]
# web services, not packages: a polyfill for old browsers (Chromium needs none) and the theme's web font (the
# fallback font is used)
SERVICES = {'https://cdnjs.cloudflare.com/polyfill/': 'text/javascript', 'https://fonts.googleapis.com/': 'text/css'}
# The page pins cdnjs's own minified require.js by its hash; npm ships require.js unminified, so that one pin is
# dropped from the pages as served to the test (every other file is byte for byte the CDN's: jQuery's pin holds).
REQUIRE_PIN = re.compile(r'(<script src="https://cdnjs\.cloudflare\.com/ajax/libs/require\.js/[^"]*")'
                         r'\s+integrity="[^"]*"')

@pytest.fixture(scope='module')
def site():
    "Build the site once; return the build's output (nbdev and Quarto together)."
    env = {**os.environ, 'PATH': f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    r = subprocess.run([Path(sys.executable).parent/'nbdev-docs'], cwd=ROOT, env=env, capture_output=True, text=True,
                       timeout=1800)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    return r.stdout + r.stderr

def test_the_build_has_no_warning(site):
    lines = [l for l in site.splitlines() if re.search(r'warn|WARN|could not|ERROR', l)]
    assert not lines, '\n'.join(lines[:20])
    pages = sorted(p.name for p in DOCS.glob('*.html'))
    for nb in (ROOT/'nbs').glob('*.ipynb'):
        assert any(nb.stem.split('_', 1)[-1] in p or nb.stem in p for p in pages), nb.name

class _Links(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.links, self.ids = [], set()
    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if 'id' in a: self.ids.add(a['id'])
        for k in ('href', 'src'):
            if a.get(k): self.links.append(a[k])

@functools.cache
def _parse(page:Path) -> _Links:
    p = _Links()
    p.feed(page.read_text())
    return p

def test_no_broken_internal_link_or_asset(site):
    broken = []
    for page in sorted(DOCS.rglob('*.html')):
        for link in _parse(page).links:
            url, anchor = urldefrag(link)
            if url.startswith(SITE_URL): target = DOCS/url[len(SITE_URL):]
            elif urlparse(url).scheme or url.startswith(('mailto:', 'javascript:', 'data:', '//')): continue
            elif url: target = (page.parent/url.split('?')[0]).resolve()
            else: target = page
            if target.is_dir(): target = target/'index.html'
            if not target.exists(): broken.append(f'{page.name}: {link}')
            elif anchor and target.suffix == '.html' and anchor not in _parse(target).ids:
                broken.append(f'{page.name}: {link} (no #{anchor} there)')
    assert not broken, '\n'.join(broken[:30])

def _npm_files() -> list:
    "The CDN prefixes and the local folders (or files) holding the same files, from each npm package."
    cache = Path.home()/'.cache'/'vit_nbdev'/'npm'
    cache.mkdir(parents=True, exist_ok=True)
    out = []
    for name, version, prefix, inside in CDN:
        folder = cache/f"{name.replace('/', '-')}-{version}"
        if not folder.exists():
            npm = shutil.which('npm')
            if not npm: pytest.skip(f"npm is needed once to fetch {name}@{version} for the site's CDN files")
            r = subprocess.run([npm, 'pack', '--silent', f'{name}@{version}'], cwd=cache, capture_output=True,
                               text=True, timeout=300)
            assert r.returncode == 0, r.stderr
            with tarfile.open(cache/r.stdout.strip().splitlines()[-1]) as t: t.extractall(folder, filter='data')
        out.append((prefix, folder/'package'/inside))
    return out

@pytest.fixture(scope='module')
def served(site):
    "`_docs` on a free localhost port; yields (its URL, the paths the server could not find)."
    missing = []
    class Handler(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *a, **kw): super().__init__(*a, directory=str(DOCS), **kw)
        def log_message(self, fmt, *args):
            if len(args) > 1 and str(args[1]) == '404': missing.append(self.path)
    server = http.server.ThreadingHTTPServer(('127.0.0.1', 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f'http://127.0.0.1:{server.server_address[1]}', missing
    server.shutdown()

def _route(files:list, unrouted:list):
    def handle(route):
        url = route.request.url.split('?')[0]
        for prefix, kind in SERVICES.items():
            if url.startswith(prefix): return route.fulfill(body='', content_type=kind)
        for prefix, local in files:
            if url.startswith(prefix):
                path = local if local.is_file() else local/url[len(prefix):]
                if path.is_file(): return route.fulfill(path=str(path))
        unrouted.append(route.request.url)
        route.abort()
    return handle

def _explorer_without_a_kernel(page):
    "The block slider and head menu change the map in the page; the controls that need Python are not shown."
    import numpy as np
    from test_browser import _pixels
    explorer = page.locator('.widget-vbox', has=page.locator('.vit-maps')).first
    stack = explorer.locator('.vit-maps')
    stack.locator('img').first.wait_for(timeout=30_000)  # the widget manager drew the saved widgets
    hidden = explorer.locator('.vit-needs-kernel')
    assert hidden.count() == 2 and not any(hidden.nth(i).is_visible() for i in range(2))
    page.screenshot(path=ARTIFACTS/'site-explorer.png')
    before = stack.screenshot()
    explorer.locator('.widget-dropdown', has_text='head').locator('select').select_option(label='head 0')
    page.wait_for_timeout(300)
    after_head = stack.screenshot()
    handle = explorer.locator('.widget-slider', has_text='block').locator('.noUi-handle')
    handle.focus()
    handle.press('ArrowLeft')
    page.wait_for_timeout(300)
    after_block = stack.screenshot()
    a, b, c = _pixels(before), _pixels(after_head), _pixels(after_block)
    assert np.abs(a - b).mean() > 1 and np.abs(b - c).mean() > 1, 'the head menu and block slider change nothing'
    static = page.locator('.vit-static-explorer')  # the one drawn by its own script (tests/test_static_explorer.py)
    page.wait_for_function("document.querySelector('.vit-static-explorer').dataset.drawn")
    drawn = static.get_attribute('data-drawn')
    static.locator('.vit-static-image').select_option('coffee')
    page.wait_for_function(f"document.querySelector('.vit-static-explorer').dataset.drawn != {drawn!r}")
    static.screenshot(path=ARTIFACTS/'site-static-explorer.png')
    column = page.locator('main').bounding_box()['width']
    for widget in page.locator('.cell-output-display .jupyter-widgets.widget-vbox').all():
        assert widget.bounding_box()['width'] <= column + 1, (widget.bounding_box(), column)
    page.set_viewport_size({'width': 400, 'height': 900})  # a phone
    page.wait_for_timeout(500)
    page.screenshot(path=ARTIFACTS/'site-explorer-400px.png', full_page=False)
    slider = explorer.locator('.widget-slider', has_text='block').locator('.noUi-target')
    assert slider.bounding_box()['width'] > 100, slider.bounding_box()
    assert page.evaluate('document.documentElement.scrollWidth') <= 400

def test_pages_in_a_browser(served):
    from test_browser import CHROMIUM  # skips with a note where there is no chromium
    from playwright.sync_api import sync_playwright
    base, missing = served
    files, unrouted, errors = _npm_files(), [], []
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=['--no-sandbox', '--disable-gpu'])
        page = browser.new_page(viewport={'width': 1280, 'height': 900})
        page.route(re.compile(r'^https?://(?!127\.0\.0\.1)'), _route(files, unrouted))
        page.route(re.compile(r'^http://127\.0\.0\.1:\d+/[^?#]*\.html'), lambda route: route.fulfill(
            response=(r := route.fetch()), body=REQUIRE_PIN.sub(r'\1', r.text())))
        page.on('pageerror', lambda e: errors.append(f'{page.url}: {e}'))
        page.on('console', lambda m: m.type == 'error' and errors.append(f'{page.url}: {m.text}'))
        try:
            page.goto(f'{base}/index.html', wait_until='networkidle')
            page.screenshot(path=ARTIFACTS/'site-home.png')
            first = page.locator('main img').first  # the picture above the fold
            assert first.evaluate('i => i.naturalWidth') > 0 and first.bounding_box()['y'] < 900
            for section in ('The model', 'Training', 'Looking inside', 'Self-supervision', 'The paper, reproduced',
                            'Teaching'):
                assert page.locator('.sidebar-item-section', has_text=section).count() == 1, section

            page.goto(f'{base}/attention.html', wait_until='networkidle')
            page.wait_for_selector('mjx-container', timeout=30_000)  # MathJax typeset the equations
            page.screenshot(path=ARTIFACTS/'site-notebook.png', full_page=False)
            text = page.locator('main').inner_text()
            assert '\\(' not in text and '\\[' not in text, 'raw TeX left on the page'

            page.goto(f'{base}/explorer.html', wait_until='networkidle')
            _explorer_without_a_kernel(page)

            page.set_viewport_size({'width': 1280, 'height': 900})
            for html in sorted(DOCS.glob('*.html')):  # every other page loads without an error, a 404 or a CDN miss
                page.goto(f'{base}/{html.name}', wait_until='networkidle')
        finally:
            browser.close()
    assert not unrouted, unrouted
    assert not missing, missing
    assert not errors, errors
