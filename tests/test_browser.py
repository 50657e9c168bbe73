"The attention explorer in a real browser: JupyterLab on a free localhost port, Chromium driven by Playwright."
import contextlib, io, json, os, secrets, shutil, socket, subprocess, sys, time, urllib.request
from pathlib import Path
import pytest

ROOT = Path(__file__).parent.parent
ARTIFACTS = ROOT/'tests'/'artifacts'
CHROMIUM = shutil.which('chromium') or shutil.which('chromium-browser')
# CI installs Debian's chromium and sets VIT_NBDEV_REQUIRE_BROWSER=1, so there the test cannot be skipped.
if not CHROMIUM and not os.environ.get('VIT_NBDEV_REQUIRE_BROWSER'):
    pytest.skip("no chromium: apt-get install chromium (CI installs it)", allow_module_level=True)

def _free_port():
    with socket.socket() as s: s.bind(('127.0.0.1', 0)); return s.getsockname()[1]

@pytest.fixture
def lab(tmp_path):
    "JupyterLab serving a copy of the explorer notebook; yields its URL."
    shutil.copy(ROOT/'nbs'/'13_explorer.ipynb', tmp_path)
    port, token = _free_port(), secrets.token_hex(16)
    jupyter = Path(sys.executable).parent/'jupyter'
    env = {**os.environ, 'JUPYTER_CONFIG_DIR': str(tmp_path/'config'), 'OMP_NUM_THREADS': '1'}
    proc = subprocess.Popen([jupyter, 'lab', '--no-browser', f'--port={port}', '--ip=127.0.0.1',
                             f'--IdentityProvider.token={token}', f'--ServerApp.root_dir={tmp_path}', '--allow-root',
                             '--LabApp.news_url=',
                             '--LabServerApp.extra_labextensions_path=[]'],
                            stdout=open(tmp_path/'lab.log', 'w'), stderr=subprocess.STDOUT, env=env)
    try:
        for _ in range(120):
            try: urllib.request.urlopen(f'http://127.0.0.1:{port}/api/status?token={token}', timeout=1); break
            except OSError: time.sleep(0.5)
        else: raise RuntimeError(f"JupyterLab did not start:\n{(tmp_path/'lab.log').read_text()}")
        yield f'http://127.0.0.1:{port}', token
    finally:
        proc.terminate(); proc.wait(30)

def _pixels(png):
    from PIL import Image
    import numpy as np
    return np.asarray(Image.open(io.BytesIO(png)).convert('RGB')).astype(int)

def _kernel_idle(base, token):
    "Whether the notebook's kernel has started and is idle (JupyterLab's REST API)."
    try:
        with urllib.request.urlopen(f'{base}/api/kernels?token={token}', timeout=5) as r: ks = json.load(r)
    except OSError: return False  # the server busy starting the kernel: ask again
    return bool(ks) and all(k['execution_state'] == 'idle' for k in ks)

@contextlib.contextmanager
def notebook_in_chromium(base:str, token:str, name:str, last_png:str):
    """Chromium on notebook `name` in the lab, once its kernel is idle; yields the page. On the way out: a screenshot
    to ARTIFACTS/last_png, and no page errors or console errors."""
    from playwright.sync_api import sync_playwright
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    js_errors = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=[
            '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
            '--disable-default-apps', '--disable-sync'])
        page = browser.new_page(viewport={'width': 1400, 'height': 1000})
        page.on('pageerror', lambda e: js_errors.append(str(e)))
        real_error = lambda m: m.type == 'error' and 'Failed to load resource' not in m.text
        page.on('console', lambda m: real_error(m) and js_errors.append(m.text))
        try:
            page.goto(f'{base}/lab/tree/{name}?token={token}')
            page.wait_for_selector('.jp-Notebook', timeout=60_000)
            for _ in range(120):  # the kernel must be up before cells are run
                if _kernel_idle(base, token): break
                page.wait_for_timeout(500)
            else: raise AssertionError('the kernel did not start')
            yield page
        finally:
            page.screenshot(path=ARTIFACTS/last_png)
            browser.close()
    assert not js_errors, js_errors

def test_explorer_in_browser(lab):
    base, token = lab
    import numpy as np
    with notebook_in_chromium(base, token, '13_explorer.ipynb', 'explorer-last.png') as page:
        # run the notebook from the top down to the explorer's cell, as a reader would
        cells = page.locator('.jp-Notebook .jp-Cell')
        # the cell's index from the file: JupyterLab renders only the cells near the view
        sources = [''.join(c['source']) for c in json.loads((ROOT/'nbs'/'13_explorer.ipynb').read_text())['cells']]
        idx = next(i for i, s in enumerate(sources) if 'explorer = attention_explorer(model' in s)
        cells.first.click()
        for _ in range(idx + 1): page.keyboard.press('Shift+Enter'); page.wait_for_timeout(200)
        cell = cells.nth(idx)
        out = cell.locator('.jp-OutputArea-output')
        out.locator('.widget-image').first.wait_for(timeout=120_000)
        stack = out.locator('.vit-maps').first
        page.wait_for_timeout(1000)
        before = stack.screenshot()
        page.screenshot(path=ARTIFACTS/'explorer-before.png')

        # the head control: head 0 instead of the mean of heads
        out.locator('.widget-dropdown', has_text='head').locator('select').select_option(label='head 0')
        page.wait_for_timeout(500)
        after_head = stack.screenshot()
        # the block control: two steps down with the keyboard on the slider handle
        handle = out.locator('.widget-slider', has_text='block').locator('.noUi-handle')
        handle.focus(); handle.press('ArrowLeft'); handle.press('ArrowLeft')
        page.wait_for_timeout(500)
        after_layer = stack.screenshot()
        page.screenshot(path=ARTIFACTS/'explorer-after.png')

        a, b, c = _pixels(before), _pixels(after_head), _pixels(after_layer)
        assert a.shape == b.shape == c.shape
        assert np.abs(a - b).mean() > 1, "changing the head did not change the displayed map"
        assert np.abs(b - c).mean() > 1, "changing the block did not change the displayed map"
        readout = out.locator('.widget-slider', has_text='block').locator('.widget-readout').inner_text()
        assert readout.strip() == '5', readout
        errors = ', '.join(f'[data-mime-type="application/vnd.jupyter.{k}"]' for k in ('stderr', 'error'))
        assert cell.locator(errors).count() == 0, cell.locator('.jp-OutputArea').inner_text()
