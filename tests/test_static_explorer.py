"""The static explorer (notebook 13) in a real browser, without a kernel: the maps its script computes from the 8-bit
weights match `attention_map` (PyTorch), the pictures it draws match `overlay`, and every control changes them."""
import base64, io, re
import numpy as np
import pytest
import torch
from test_browser import CHROMIUM, ARTIFACTS  # skips with a note where there is no chromium
from vit_nbdev.checkpoint import pretrained
from vit_nbdev.explorer import static_explorer, _square
from vit_nbdev.images import load_image, sample_images
from vit_nbdev.inspecting import attention_map, attention_weights, model_input, overlay

@pytest.fixture(scope='module')
def explorer(tmp_path_factory):
    "The shipped model's static explorer opened in Chromium; yields (page, the model, the images)."
    from playwright.sync_api import sync_playwright
    model, meta = pretrained('cifar10')
    images = {n: load_image(p, size=None) for n, p in sample_images().items()}
    path = tmp_path_factory.mktemp('static')/'explorer.html'
    path.write_text(f'<!doctype html><meta charset="utf-8"><body style="margin:8px">'
                    f'{static_explorer(model, images, classes=meta["classes"])}</body>')
    errors = []
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=['--no-sandbox', '--disable-gpu'])
        page = browser.new_page(viewport={'width': 700, 'height': 900})
        page.on('pageerror', lambda e: errors.append(str(e)))
        page.goto(path.as_uri())
        page.wait_for_function("document.querySelector('.vit-static-explorer').dataset.drawn")
        yield page, model, images
        browser.close()
    assert not errors, errors

def _js_map(page, name, layer, head, query):
    q = 'cls' if query == 'cls' else list(query)
    js = '([n, l, h, q]) => document.querySelector(".vit-static-explorer").vit.map(n, l, h, q)'
    return torch.tensor(page.evaluate(js, [name, layer, head, q]))

@pytest.mark.parametrize('name,layer,head,query', [('chelsea', 7, 'mean', 'cls'), ('astronaut', 0, 2, (3, 5)),
                                                   ('coffee', 4, 'rollout', 'cls'), ('rocket', 7, 'rollout', (0, 7))])
def test_maps_match_pytorch(explorer, name, layer, head, query):
    page, model, images = explorer
    attns = attention_weights(model, model_input(model, images[name])[0])
    want = attention_map(attns, model.patch_embed.grid_size, layer, head, query)[0].flatten()
    got = _js_map(page, name, layer, head, query)
    assert got.shape == want.shape
    if head == 'rollout': tol = 0.01 * want.max()  # products of 8 blocks' 8-bit weights
    else:  # a weight is within half of its row's 8-bit step (the row's largest weight / 255), so is a mean of heads
        cols = model.patch_embed.grid_size[1]
        q = 0 if query == 'cls' else model.num_prefix_tokens + query[0] * cols + query[1]
        tol = attns[layer][0, :, q].max() / 255
    assert (got - want).abs().max() <= tol, ((got - want).abs().max(), tol)

def _canvas(page) -> np.ndarray:
    url = page.evaluate('document.querySelector(".vit-static-canvas").toDataURL("image/png")')
    from PIL import Image
    return np.asarray(Image.open(io.BytesIO(base64.b64decode(url.split(',')[1]))).convert('RGB')).astype(int)

def test_pictures_match_overlay_and_controls_change_them(explorer):
    page, model, images = explorer
    root = page.locator('.vit-static-explorer')
    page.select_option('.vit-static-image', 'chelsea')
    page.wait_for_function("document.querySelector('.vit-static-explorer').dataset.drawn == 'chelsea|7|mean|cls'")
    attns = attention_weights(model, model_input(model, images['chelsea'])[0])
    want = overlay(_square(images['chelsea']), attention_map(attns, model.patch_embed.grid_size, 7, 'mean')[0], 192)
    first = _canvas(page)
    assert np.abs(first - want.numpy().astype(int)).mean() < 3  # 8-bit rounding, the browser's resampling
    page.screenshot(path=ARTIFACTS/'static-explorer.png')
    assert re.search(r'the model says: \w+ \d+%', root.locator('.vit-static-top').inner_text())

    page.select_option('.vit-static-head', '0')  # another head
    after_head = _canvas(page)
    page.locator('.vit-static-block').evaluate("s => { s.value = '2'; s.dispatchEvent(new Event('input')); }")
    after_block = _canvas(page)
    box = page.locator('.vit-static-canvas').bounding_box()
    page.mouse.click(box['x'] + box['width'] * 0.1, box['y'] + box['height'] * 0.9)  # the patch at row 7, column 0
    assert root.get_attribute('data-drawn') == 'chelsea|2|0|7,0'
    assert 'row 7, column 0' in root.locator('.vit-static-query-label').inner_text()
    after_query = _canvas(page)
    page.select_option('.vit-static-image', 'coffee')  # another image
    page.wait_for_function("document.querySelector('.vit-static-explorer').dataset.drawn.startsWith('coffee')")
    after_image = _canvas(page)
    steps = [first, after_head, after_block, after_query, after_image]
    for a, b in zip(steps, steps[1:]): assert np.abs(a - b).mean() > 1, 'a control changed nothing'
    page.locator('.vit-static-cls').click()
    assert root.get_attribute('data-drawn') == 'coffee|2|0|cls'

def test_fits_a_phone(explorer):
    page = explorer[0]
    page.set_viewport_size({'width': 400, 'height': 800})
    try:
        page.wait_for_timeout(200)
        assert page.evaluate('document.documentElement.scrollWidth') <= 400
        assert page.locator('.vit-static-canvas').bounding_box()['width'] <= 400 - 16
        page.screenshot(path=ARTIFACTS/'static-explorer-400px.png')
    finally: page.set_viewport_size({'width': 700, 'height': 900})  # the page is shared by the module's tests
