"""The rendered docs site: `nbdev-docs` (Quarto) builds it without a warning, every internal link and asset
resolves, the site carries its own MathJax, RequireJS, jQuery, widget manager and font (tools/offline_site.py, pinned
there), and a real browser with no network (every request outside the site blocked, not routed) opens every page at
1280 and 400 px: no request leaves the site, no 404, no page error, the equations typeset, the saved widgets draw and
a widget without saved state says so in a line, no output or picture blank. The explorer page's block slider and head
menu change the map without a kernel, the controls that need one are not shown, the static explorer draws another
image's map, and the widgets fit a 700 px column and a 400 px phone. Screenshots of every page at both widths:
tests/artifacts/site/."""
import functools, html.parser, http.server, importlib.util, os, re, shutil, subprocess, sys, threading, time
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
# Quarto's post-render step (nbs/_quarto.yml): the pinned npm packages, and what it rewrites
_spec = importlib.util.spec_from_file_location('offline_site', ROOT/'tools'/'offline_site.py')
offline_site = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(offline_site)

@pytest.fixture(scope='module')
def site():
    "Build the site once; return the build's output (nbdev and Quarto together)."
    try: offline_site.fetch()  # the build fetches them too: here a missing npm or registry reads as one line
    except offline_site.Missing as e: (pytest.fail if REQUIRED else pytest.skip)(str(e))
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

def _pages() -> list:
    "Every page of the site (not the files it carries)."
    return sorted(p for p in DOCS.rglob('*.html') if p.relative_to(DOCS).parts[0] not in (offline_site.VENDOR,
                                                                                            'site_libs'))

def test_the_site_carries_its_own_files(site):
    "No page or stylesheet loads from outside the site; the scripts are the pinned versions, in the site."
    left = {str(p.relative_to(DOCS)): offline_site.external(p.read_text()) for p in _pages()}
    left.update({str(s.relative_to(DOCS)): offline_site.external(s.read_text(), css=True)
                 for s in DOCS.glob('site_libs/**/*.css')})
    assert not any(left.values()), {k: v for k, v in left.items() if v}
    vendor = DOCS/offline_site.VENDOR
    for name in offline_site.PACKAGES: assert (vendor/offline_site.folder(name)).is_dir(), name
    attention = (DOCS/'attention.html').read_text()
    assert f'src="{offline_site.VENDOR}/{offline_site.folder("mathjax")}/es5/tex-chtml-full.js"' in attention
    assert 'polyfill' not in attention
    explorer = (DOCS/'explorer.html').read_text()
    assert re.search(rf'<script src="{offline_site.VENDOR}/{offline_site.folder("@jupyter-widgets/html-manager")}'
                     r'/dist/embed-amd\.js" data-jupyter-widgets-cdn="vendor/widget-modules/">', explorer)
    lessons = [p for p in _pages() if p.parent != DOCS and 'embed-amd' in p.read_text()]  # a page one folder down
    for p in lessons: assert f'src="../{offline_site.VENDOR}/' in p.read_text(), p

def test_grading_stays_private(site):
    "The hidden tests, and what their checks printed, are on no page, as on no student's copy (the source keeps them)."
    course = [p for p in _pages() if 'check_' in p.read_text() and p.stem != 'exercises'  # pages with an exercise,
              and p.parent.name != 'lessons']  # not the checks' own pages: their cases are the installed package's code
    assert len(course) >= 8, course
    for p in course: assert 'BEGIN HIDDEN TESTS' not in p.read_text() and 'hidden=True' not in p.read_text(), p
    assert '### BEGIN HIDDEN TESTS' in (ROOT/'nbs'/'04_attention.ipynb').read_text()

def _serve(docs:Path):
    "Serve `docs` on a free localhost port; (the server, its URL, the paths it could not find)."
    missing = []
    class Handler(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *a, **kw): super().__init__(*a, directory=str(docs), **kw)
        def log_message(self, fmt, *args):
            if len(args) > 1 and str(args[1]) == '404': missing.append(self.path)
    server = http.server.ThreadingHTTPServer(('127.0.0.1', 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f'http://127.0.0.1:{server.server_address[1]}', missing

@pytest.fixture(scope='module')
def served(site):
    "`_docs` on a free localhost port; yields (its URL, the paths the server could not find)."
    server, base, missing = _serve(DOCS)
    yield base, missing
    server.shutdown()

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

# What a page shows once MathJax has typeset it: its TeX (span.math) typeset or left raw, its widget views (saved in
# the page's widget state or not; drawn, or a line saying why not), outputs and pictures that show nothing
PAGE = r"""async () => {
  const HIDDEN = w => w.style.visibility == 'hidden' || w.style.display == 'none';
  if (window.MathJax?.startup?.promise) await window.MathJax.startup.promise;
  const main = document.querySelector('main');
  const math = [...main.querySelectorAll('span.math')];
  const prose = main.cloneNode(true);
  prose.querySelectorAll('pre, code, script, style').forEach(e => e.remove());
  const states = [...document.querySelectorAll('script[type="application/vnd.jupyter.widget-state+json"]')]
    .map(s => s.textContent);
  const views = [...main.querySelectorAll('script[type="application/vnd.jupyter.widget-view+json"]')].map(v => {
    const id = JSON.parse(v.textContent).model_id, before = v.previousElementSibling;
    const drawn = !!before?.matches('.widget-subarea') && before.childElementCount > 0;
    return {id, saved: states.some(s => s.includes('"' + id + '"')), drawn,
            hidden: drawn && HIDDEN(before.firstElementChild),
            shows: drawn && before.getBoundingClientRect().height > 10,
            note: before?.matches('.vit-widget-note') ? before.innerText : ''};
  });
  // an output that shows nothing: not one whose widget its notebook hid, or whose controls need a kernel (styles.css)
  const empty = o => o.getBoundingClientRect().height == 0 && !o.querySelector('.vit-needs-kernel') &&
    ![...o.querySelectorAll('.widget-subarea > *')].some(HIDDEN);
  return {math: math.length, typeset: math.filter(s => s.querySelector('mjx-container')).length,
          errors: main.querySelectorAll('mjx-merror').length, raw: /\\[(\[]/.test(prose.textContent), views,
          blank: [...main.querySelectorAll('.cell-output-display')].filter(empty).map(o => o.outerHTML.slice(0, 150)),
          pictures: [...main.querySelectorAll('img')].filter(i => !(i.complete && i.naturalWidth > 0)).map(i => i.src),
          words: main.innerText.trim().length};
}"""
DRAWN = """() => [...document.querySelectorAll('main script[type="application/vnd.jupyter.widget-view+json"]')]
  .every(v => v.previousElementSibling?.matches('.vit-widget-note') ||
              v.previousElementSibling?.matches('.widget-subarea') && v.previousElementSibling.firstElementChild &&
              (v.previousElementSibling.getBoundingClientRect().height > 10 ||
               v.previousElementSibling.firstElementChild.style.visibility == 'hidden'))"""

def _open(page, url:str) -> dict:
    "Load a page (until the network is idle), let MathJax and the widget manager finish; what it shows."
    page.goto(url, wait_until='networkidle')
    shown = page.evaluate(PAGE)
    if any(v['saved'] and not (v['shows'] or v['hidden']) for v in shown['views']):
        page.wait_for_function(DRAWN, timeout=30_000)
        shown = page.evaluate(PAGE)
    return shown

def _check(name:str, shown:dict) -> list:
    "What is wrong with a page as shown."
    bad = []
    if shown['typeset'] < shown['math']: bad.append(f"{shown['math'] - shown['typeset']} of {shown['math']} TeX "
                                                   "expressions not typeset")
    if shown['raw']: bad.append('raw TeX (\\( or \\[) left in the text')
    if shown['errors']: bad.append(f"{shown['errors']} TeX errors")
    for v in shown['views']:
        if v['saved'] and not v['drawn']: bad.append(f"widget {v['id']} (saved state) not drawn")
        elif v['drawn'] and not (v['shows'] or v['hidden']): bad.append(f"widget {v['id']} drawn, shows nothing")
        if not v['saved'] and 'needs a running notebook' not in v['note']:
            bad.append(f"widget {v['id']} (no saved state) blank, without a note")
    bad += [f'blank output: {b}' for b in shown['blank']] + [f'picture not shown: {p}' for p in shown['pictures']]
    if shown['words'] < 100: bad.append(f"main shows {shown['words']} characters")
    return [f'{name}: {b}' for b in bad]

def _screenshots(page, name:str, folder:Path) -> int:
    """Screenshots at 1280 and 400 px (a phone): the top of the page as a reader opens it, and where the page has a
    widget or an equation, the first one; the page's width at 400 px (wider: the reader scrolls sideways)."""
    widget = page.locator('main .widget-subarea, main .vit-widget-note').filter(visible=True)
    math = page.locator('main span.math.display').filter(visible=True)
    inline = page.locator('main span.math').filter(visible=True)
    first = next(((what, l.first) for what, l in (('widget', widget), ('equation', math), ('equation', inline))
                  if l.count()), None)
    widths = {}
    for width in (1280, 400):
        page.set_viewport_size({'width': width, 'height': 900})
        page.evaluate('window.scrollTo(0, 0)')
        page.wait_for_timeout(100)
        page.screenshot(path=folder/f'{name}-{width}.png')
        widths[width] = page.evaluate('document.documentElement.scrollWidth')
        if first:
            first[1].scroll_into_view_if_needed()
            page.evaluate('window.scrollBy(0, -150)')
            page.wait_for_timeout(100)
            page.screenshot(path=folder/f'{name}-{width}-{first[0]}.png')
    page.set_viewport_size({'width': 1280, 'height': 900})
    return widths[400]

def _browser(p):
    "Chromium that reaches no other host: its resolver finds none but 127.0.0.1 (the routes block the rest)."
    from test_browser import CHROMIUM  # skips with a note where there is no chromium
    return p.chromium.launch(executable_path=CHROMIUM, args=[
        '--no-sandbox', '--disable-gpu', '--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1'])

def _block(page, base:str, left:list, errors:list):
    "Every request outside the site is recorded and aborted; page errors and console errors recorded."
    page.on('request', lambda r: r.url.startswith((base + '/', 'data:', 'blob:')) or left.append(r.url))
    page.route(re.compile(r'^(?!' + re.escape(base) + r'/)(?!data:|blob:)'), lambda route: route.abort())
    page.on('pageerror', lambda e: errors.append(f'{page.url}: {e}'))
    page.on('console', lambda m: m.type == 'error' and errors.append(f'{page.url}: {m.text}'))

def test_pages_in_a_browser(served):
    "Every page, with nothing outside the site reachable: it loads, typesets, draws; screenshots at 1280 and 400 px."
    from playwright.sync_api import sync_playwright
    base, missing = served
    left, errors, bad, wide = [], [], [], {}
    folder = ARTIFACTS/'site'
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    with sync_playwright() as p:
        browser = _browser(p)
        page = browser.new_page(viewport={'width': 1280, 'height': 900})
        _block(page, base, left, errors)
        try:
            page.goto(f'{base}/index.html', wait_until='networkidle')
            first = page.locator('main img').first  # the picture above the fold
            assert first.evaluate('i => i.naturalWidth') > 0 and first.bounding_box()['y'] < 900
            for section in ('The model', 'Training', 'Looking inside', 'Self-supervision', 'The paper, reproduced',
                            'Teaching'):
                header = page.locator('.sidebar-item-section > .sidebar-item-container .menu-text')  # not the pages
                assert header.filter(has_text=re.compile(f'^{re.escape(section)}$')).count() == 1, section

            typeset, drawn = {}, {}
            for html in _pages():
                name = str(html.relative_to(DOCS).with_suffix('')).replace(os.sep, '--')
                shown = _open(page, f'{base}/{html.relative_to(DOCS).as_posix()}')
                bad += _check(name, shown)
                typeset[name], drawn[name] = shown['typeset'], sum(v['drawn'] for v in shown['views'])
                if (w := _screenshots(page, name, folder)) > 400: wide[name] = w
            assert typeset['attention'] >= 40 and sum(typeset.values()) > 100, typeset  # the pages have TeX
            assert drawn['explorer'] == 2, drawn

            page.goto(f'{base}/explorer.html', wait_until='networkidle')
            _explorer_without_a_kernel(page)
        finally:
            browser.close()
    assert not left, f'requests that left the site: {sorted(set(left))[:20]}'
    assert not missing, missing
    assert not errors, errors
    assert not bad, '\n'.join(bad)
    assert not wide, f'pages wider than a 400 px phone (the reader scrolls sideways): {wide}'

def test_a_widget_that_cannot_be_drawn_says_so(served):
    """A page whose notebook was saved without its widgets' state (here: the smallest page with widgets, its state
    taken out, served from the site) says for each widget, in a line, that it needs a kernel; a page whose widget
    manager did not load says so too, 10 s after the page loaded; nothing leaves the site."""
    from playwright.sync_api import sync_playwright
    base, missing = served
    VIEW = 'application/vnd.jupyter.widget-view+json'
    source = min((p for p in _pages() if VIEW in p.read_text()), key=lambda p: p.stat().st_size)
    text = source.read_text()
    stateless = re.sub(r'<script type="?application/vnd\.jupyter\.widget-state\+json"?>.*?</script>', '', text,
                       flags=re.S)
    assert stateless != text, source
    here = f"{base}/{source.relative_to(DOCS).parent.as_posix()}/".replace('/./', '/')
    left, errors = [], []
    with sync_playwright() as p:
        browser = _browser(p)
        page = browser.new_page(viewport={'width': 1280, 'height': 900})
        _block(page, base, left, errors)
        page.route(f'{here}without-state.html', lambda route: route.fulfill(body=stateless, content_type='text/html'))
        try:
            shown = _open(page, f'{here}without-state.html')
            assert shown['views'] and not any(v['saved'] or v['drawn'] for v in shown['views']), shown['views']
            assert not _check(f'{source.name} without state', shown)
            note = page.locator('.vit-widget-note').first
            assert note.is_visible() and 'open the notebook in JupyterLab' in note.inner_text()
            note.scroll_into_view_if_needed()
            page.screenshot(path=ARTIFACTS/'site-widget-without-state.png')
            assert not left and not errors and not missing, (left, errors, missing)

            page.route(re.compile(r'.*/embed-amd\.js$'), lambda route: route.abort())  # no widget manager
            page.clock.install()
            page.goto(f'{base}/{source.relative_to(DOCS).as_posix()}', wait_until='load')
            assert page.locator('.vit-widget-note').count() == 0
            page.clock.run_for(11_000)
            notes = page.locator('.vit-widget-note')
            assert notes.count() == len(shown['views']), notes.count()
            assert 'could not be drawn here' in notes.first.inner_text()
        finally:
            browser.close()
    assert not left, left
