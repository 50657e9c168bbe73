#!/usr/bin/env python3
"""The docs site without network: the rendered pages load MathJax, RequireJS, jQuery, the Jupyter widget manager and
the theme's web font from the site itself (`_docs/vendor/`), never from a CDN.

Quarto writes those as CDN URLs (its page template and its widget code have no option for them), so Quarto runs this
script after every render (`project: post-render:` in nbs/_quarto.yml; `nbdev-docs`, `make docs`, `make preview` and
the deploy workflow all render through it). It
- takes each file from its npm package, pinned below (PACKAGES: the one place; tests/test_site.py reads it), fetched
  once with `npm pack` into ~/.cache/vit_nbdev/npm and checked against the registry's sha512;
- copies what the pages ask for into `<output>/vendor/<package>-<version>/` (the package's own layout, so MathJax
  finds its fonts and the widget manager its icons next to it) with the package's licence;
- rewrites every page's `<script src>` and the theme's `@import` to those files (page-relative, so `lessons/` pages
  work too); drops the polyfill service (for browsers before 2015, none of which runs MathJax 3 or the widgets);
- tells the widget manager to look for any other widget module on the site (`data-jupyter-widgets-cdn`), not a CDN;
- adds to pages with widgets a few lines of script that write, where a widget has no saved state (or its script did
  not load), "This widget needs a running notebook (kernel)..." instead of leaving a blank;
- fails the render, naming the page and URL, if any page or stylesheet still loads a file from outside the site.

`python tools/offline_site.py --fetch` only fetches the packages (`make docs` runs it first, so a missing npm or
registry shows at once); `python tools/offline_site.py DIR` rewrites an already rendered site in DIR.
Standard library only: Quarto runs it with the first python3 it finds."""
import base64, hashlib, os, re, shutil, subprocess, sys, tarfile, tempfile
from pathlib import Path

# npm package: (version, the registry's sha512 of its tarball). Quarto asks for mathjax@3, require.js 2.3.6,
# jQuery 3.5.1, html-manager@* (ipywidgets 8's, which the notebooks' saved state needs: base and controls 2.0.0) and
# Google's Source Sans Pro 300/400/700 (the cosmo theme's font).
PACKAGES = {
    'mathjax': (
        '3.2.2', 'sha512-Bt+SSVU8eBG27zChVewOicYs7Xsdt40qm4+UpHyX7k0/O9NliPc+x77k1/FEsPsjKPZGJvtRZM1vO+geW0OhGw=='),
    'requirejs': (
        '2.3.6', 'sha512-ipEzlWQe6RK3jkzikgCupiTbTvm4S0/CAU5GlgptkN5SO6F3u0UD0K18wy6ErDqiCyP4J4YYe1HuAShvsxePLg=='),
    'jquery': (
        '3.5.1', 'sha512-XwIBPqcMn57FxfT+Go5pzySnm4KWkT1Tv7gjrpT1srtf8Weynl6R273VJ5GjkRb51IzMp5nbaPjJXMWeju2MKg=='),
    '@jupyter-widgets/html-manager': (
        '1.0.15', 'sha512-5thBIV6ymNgmPVOHvzx+gGy8ZSKmSazhtGw4/c4xJDVzRhG9PTeQsRjF3FUTopvFi//SABeNz1yp47bCrJ3CQA=='),
    '@fontsource/source-sans-pro': (
        '5.3.0', 'sha512-nd96qXI4stbyRPNEygS2cNhMkAc1kkW9+ORmIOK0oelPTyiitRPk/+9+HUuUYuEjwRRkK/+Gat2J9/NMJest/A=='),
}
CACHE = Path(os.environ.get('VIT_NBDEV_NPM_CACHE') or Path.home()/'.cache'/'vit_nbdev'/'npm')
VENDOR = 'vendor'  # under the site's root

# The script URLs Quarto's pages ask for: (pattern, npm package or None to drop the tag, the file in the package)
SCRIPTS = [
    (r'https://cdnjs\.cloudflare\.com/polyfill/', None, None),
    (r'https://cdn\.jsdelivr\.net/npm/mathjax@3[\d.]*/(?P<f>es5/[\w./-]+\.js)', 'mathjax', '{f}'),
    (r'https://cdnjs\.cloudflare\.com/ajax/libs/require\.js/[\d.]+/require(\.min)?\.js', 'requirejs', 'require.js'),
    (r'https://cdnjs\.cloudflare\.com/ajax/libs/jquery/[\d.]+/(?P<f>jquery(\.min)?\.js)', 'jquery', 'dist/{f}'),
    (r'https://unpkg\.com/@jupyter-widgets/html-manager@[^/"]*/(?P<f>dist/[\w.-]+\.js)',
     '@jupyter-widgets/html-manager', '{f}')]
# What a package's script loads later, by itself, from next to it
ALSO = {'mathjax': ['es5/output/chtml/fonts/woff-v2',  # the CHTML fonts
                    'es5/ui', 'es5/a11y', 'es5/sre'],  # the equation menu's lazy parts: assistive MathML, speech, zoom
        '@jupyter-widgets/html-manager': ['dist/*.woff2']}  # its icons' font (Font Awesome): woff2 is enough
GOOGLE_FONT = re.compile(r'https://fonts\.googleapis\.com/css2\?family=Source\+Sans\+Pro:wght@(?P<w>[\d;]+)[^"\')\s]*')
FONT = '@fontsource/source-sans-pro'

SCRIPT_TAG = re.compile(r'<script\b[^>]*>')
ATTR = re.compile(r'([\w:-]+)(?:\s*=\s*"([^"]*)")?')
DROPPED_LINE = re.compile(r'[ \t]*<script src="https://cdnjs\.cloudflare\.com/polyfill/[^"]*"[^>]*></script>\n?')
# what a browser fetches by itself from a page or a stylesheet (links to other sites are fine: the reader follows them)
EXTERNAL = [re.compile(r'<(?:script|img|iframe|source|audio|video|embed|track|input)\b[^>]*?\ssrc="'
                       r'((?:https?:)?//[^"]+)"'),
            re.compile(r'<link\b(?=[^>]*\srel="(?:stylesheet|preload|modulepreload|icon|prefetch)")[^>]*?\shref="'
                       r'((?:https?:)?//[^"]+)"')]
CSS_EXTERNAL = re.compile(r'@import\s*(?:url\()?\s*["\']?((?:https?:)?//[^"\')\s]+)'
                          r'|url\(\s*["\']?((?:https?:)?//[^"\')\s]+)')

# Before the widget manager's script: its built-in modules (and so the icon font their styles ask for, which webpack
# finds next to the module's RequireJS URL: the page's own folder by default) and the libembed's assets in its folder
WIDGET_PATHS = '''<script>/* vit_nbdev (tools/offline_site.py): the widget manager's modules and fonts from the site */
window.__jupyter_widgets_assets_path__ = 'DIST';
require.config({paths: Object.fromEntries(['base', 'controls', 'base7', 'controls7', 'html-manager',
  'html-manager/dist/libembed-amd'].map(m => ['@jupyter-widgets/' + m, 'DIST' + m.split('/').pop()]))});
</script>
'''
# Where a widget cannot be drawn, a line of text (styled in nbs/styles.css) instead of a blank
WIDGET_NOTE = '''<script id="vit-widget-notes">
/* vit_nbdev (tools/offline_site.py): a widget view whose model is not in the page's saved widget state cannot be
   drawn without a kernel, nor any when the widget manager did not load: say so instead of leaving a blank */
(() => {
  const say = (view, text) => {
    if (view.previousElementSibling?.classList.contains('vit-widget-note')) return;
    const note = document.createElement('p');
    note.className = 'vit-widget-note';
    note.textContent = text;
    view.parentElement.insertBefore(note, view);
  };
  const kernel = 'This widget needs a running notebook (kernel): open the notebook in JupyterLab to use it.';
  const check = (final) => {
    const states = [...document.querySelectorAll('script[type="application/vnd.jupyter.widget-state+json"]')]
      .map(s => s.textContent);
    for (const view of document.querySelectorAll('script[type="application/vnd.jupyter.widget-view+json"]')) {
      if (view.previousElementSibling?.classList.contains('widget-subarea')) continue;  // drawn (or being drawn)
      let id = '';
      try { id = JSON.parse(view.textContent).model_id; } catch (e) {}
      if (!states.some(s => s.includes('"' + id + '"'))) say(view, kernel);
      else if (final) say(view, 'This widget could not be drawn here (the widget manager did not load): ' +
                                'open the notebook in JupyterLab to use it.');
    }
  };
  // the widget manager draws on the window's load; give it 10 s more before saying it did not
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', () => check(false));
  else check(false);
  const late = () => setTimeout(() => check(true), 10000);
  if (document.readyState === 'complete') late(); else window.addEventListener('load', late);
})();
</script>
'''

def folder(name:str) -> str: return f"{name.lstrip('@').replace('/', '-')}-{PACKAGES[name][0]}"

class Missing(Exception): "A pinned package is not in the cache and npm cannot fetch it."

def _sha512(path:Path) -> str:
    return 'sha512-' + base64.b64encode(hashlib.sha512(path.read_bytes()).digest()).decode()

def _extract(tgz:Path, dest:Path):
    "Extract an npm tarball (regular files and folders only, inside dest) atomically."
    tmp = Path(tempfile.mkdtemp(prefix=dest.name + '.', dir=dest.parent))
    try:
        with tarfile.open(tgz) as t:
            for m in t.getmembers():
                target = (tmp/m.name).resolve()
                if not (m.isfile() or m.isdir()) or tmp.resolve() not in target.parents: continue
                if m.isdir(): target.mkdir(parents=True, exist_ok=True); continue
                target.parent.mkdir(parents=True, exist_ok=True)
                with t.extractfile(m) as src, open(target, 'wb') as out: shutil.copyfileobj(src, out)
        tmp.rename(dest)
    finally: shutil.rmtree(tmp, ignore_errors=True)

def package(name:str) -> Path:
    "The extracted npm package `name` at its pinned version (its `package/` folder), fetched with `npm pack` once."
    version, integrity = PACKAGES[name]
    CACHE.mkdir(parents=True, exist_ok=True)
    dest = CACHE/f"{name.replace('/', '-')}-{version}"
    if (dest/'package'/'package.json').exists(): return dest/'package'
    tgz = CACHE/f"{name.lstrip('@').replace('/', '-')}-{version}.tgz"
    if not tgz.exists() or _sha512(tgz) != integrity:
        every = ' '.join(f'{n}@{v}' for n, (v, _) in PACKAGES.items())
        how = (f"on a machine that reaches the npm registry run `cd {CACHE} && npm pack {every}` (or copy those "
               f".tgz files into {CACHE} from one), then build again")
        npm = shutil.which('npm')
        if not npm: raise Missing(f"The docs site carries {name}@{version}, and npm is not installed (Node.js: "
                                  f"https://nodejs.org, or `apt install npm`): install it, or {how}.")
        r = subprocess.run([npm, 'pack', '--loglevel=error', f'{name}@{version}'], cwd=CACHE, capture_output=True,
                           text=True, timeout=600)
        if r.returncode or not tgz.exists():
            raise Missing(f"`npm pack {name}@{version}` failed (is the npm registry reachable?):\n"
                          + '\n'.join((r.stderr or r.stdout).strip().splitlines()[:4])
                          + f"\nTo build without it, {how}.")
        if _sha512(tgz) != integrity:
            got = _sha512(tgz)
            tgz.unlink()
            raise Missing(f"{tgz.name} from npm has {got}, not the {integrity} pinned in {Path(__file__).name}")
    _extract(tgz, dest)
    return dest/'package'

def fetch() -> dict:
    "Every pinned package, fetched where missing: {name: its folder}."
    return {name: package(name) for name in PACKAGES}

def _copy(src:Path, dst:Path):
    if src.is_dir(): shutil.copytree(src, dst, dirs_exist_ok=True)
    elif not dst.exists() or dst.stat().st_size != src.stat().st_size or dst.stat().st_mtime < src.stat().st_mtime:
        dst.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(src, dst)

def _vendor(site:Path, name:str, inside:str) -> str:
    "Copy `inside` (and what it loads later, and the licence) from package `name` into the site; its site path."
    pkg = package(name)
    if not (pkg/inside).is_file(): raise Missing(f"{name}@{PACKAGES[name][0]} has no {inside}")
    out = site/VENDOR/folder(name)
    for rel in [inside] + ALSO.get(name, []) + [p.name for p in pkg.glob('LICEN[CS]E*')]:
        for src in (pkg.glob(rel) if '*' in rel else [pkg/rel]):
            _copy(src, out/src.relative_to(pkg))
    return f'{VENDOR}/{folder(name)}/{inside}'

def _web_font(site:Path, weights:str) -> str:
    "Source Sans Pro at these weights (e.g. '300;400;700') from @fontsource: one stylesheet and its fonts."
    pkg = package(FONT)
    out = site/VENDOR/folder(FONT)
    css = []
    for w in weights.split(';'):
        text = (pkg/f'{w}.css').read_text()
        for f in re.findall(r'url\(\./(files/[\w.-]+)\)', text): _copy(pkg/f, out/f)
        css.append(text)
    for p in pkg.glob('LICEN[CS]E*'): _copy(p, out/p.name)
    sheet = f"source-sans-pro-{weights.replace(';', '-')}.css"
    (out/sheet).write_text(''.join(css))
    return f'{VENDOR}/{folder(FONT)}/{sheet}'

def _relative(page:Path, site:Path) -> str:
    "The prefix that leads from a page to the site's root ('' or '../')."
    return '../' * (len(page.relative_to(site).parts) - 1)

def _rewrite_script(tag:str, site:Path, up:str) -> str:
    src = re.search(r'\ssrc="([^"]+)"', tag)
    if not src: return tag
    for pattern, name, inside in SCRIPTS:
        m = re.match(pattern, src.group(1))
        if not m: continue
        if name is None: return ''
        path = _vendor(site, name, inside.format(**m.groupdict()))
        attrs = [(k, v) for k, v in ATTR.findall(tag[len('<script'):-1])
                 if k not in ('integrity', 'crossorigin', 'src', 'data-jupyter-widgets-cdn')]
        attrs.insert(0, ('src', up + path))
        if name == '@jupyter-widgets/html-manager':  # a widget module not built into it (base, controls and output
            # are; no other is used today) is looked for on the site, not on jsDelivr: missing, it is a 404 there
            attrs.append(('data-jupyter-widgets-cdn', f'{up}{VENDOR}/widget-modules/'))
        tag = '<script ' + ' '.join(f'{k}="{v}"' if v else k for k, v in attrs) + '>'
        if name == '@jupyter-widgets/html-manager':
            tag = WIDGET_PATHS.replace('DIST', up + path.rsplit('/', 1)[0] + '/') + tag
        return tag
    return tag

def rewrite_page(page:Path, site:Path) -> str:
    text = page.read_text(encoding='utf-8')
    up = _relative(page, site)
    new = DROPPED_LINE.sub('', text)
    new = SCRIPT_TAG.sub(lambda m: _rewrite_script(m.group(0), site, up), new)
    new = re.sub(r'<script id="vit-widget-notes">.*?</script>\n', '', new, flags=re.S)  # this script's, as it is now
    if 'application/vnd.jupyter.widget-view+json' in new:
        at = new.rfind('</body>')
        new = new[:at] + WIDGET_NOTE + new[at:]
    if new != text: page.write_text(new, encoding='utf-8')
    return new

def rewrite_css(sheet:Path, site:Path):
    text = sheet.read_text(encoding='utf-8')
    up = _relative(sheet, site)
    new = GOOGLE_FONT.sub(lambda m: up + _web_font(site, m.group('w')), text)
    if new != text: sheet.write_text(new, encoding='utf-8')
    return new

def external(text:str, css=False) -> list:
    "The URLs outside the site that a browser would fetch by itself for this page (or stylesheet)."
    if css: return [a or b for a, b in CSS_EXTERNAL.findall(text)]
    return [u for p in EXTERNAL for u in p.findall(text)]

def offline(site:Path, pages=None) -> dict:
    "Make the rendered site in `site` load nothing from outside it; {page or stylesheet: URLs still outside}."
    site = Path(site).resolve()
    left = {}
    for sheet in sorted(site.glob('site_libs/**/*.css')):
        if urls := external(rewrite_css(sheet, site), css=True): left[str(sheet.relative_to(site))] = urls
    for page in sorted(pages if pages is not None else site.rglob('*.html')):
        if VENDOR in page.relative_to(site).parts[:1]: continue
        if urls := external(rewrite_page(page, site)): left[str(page.relative_to(site))] = urls
    return left

def main(argv):
    if argv[1:] == ['--fetch']:
        try: got = fetch()
        except Missing as e: sys.exit(f'tools/offline_site.py: {e}')
        print('The docs site\'s own copies: ' + ', '.join(f'{n}@{PACKAGES[n][0]}' for n in got) + f' (in {CACHE})')
        return
    if len(argv) > 1: site, pages = Path(argv[1]), None
    else:  # run by Quarto after a render, in the project's folder
        site = Path(os.environ.get('QUARTO_PROJECT_OUTPUT_DIR') or '_site')
        files = os.environ.get('QUARTO_PROJECT_OUTPUT_FILES')
        if os.environ.get('QUARTO_USE_FILE_FOR_PROJECT_OUTPUT_FILES'):  # Quarto wrote the list to a file instead
            files = Path(os.environ['QUARTO_USE_FILE_FOR_PROJECT_OUTPUT_FILES']).read_text()
        if files is not None:
            pages = [Path(f).resolve() for f in files.splitlines() if f.endswith('.html')]
            if not pages: return  # e.g. nbdev's README.md render: no page to rewrite
            pages = [p for p in pages if p.exists()]
        else: pages = None
    if not site.is_dir(): sys.exit(f'tools/offline_site.py: no rendered site in {site}')
    try: left = offline(site, pages)
    except Missing as e: sys.exit(f'tools/offline_site.py: {e}')
    if left:
        sys.exit('tools/offline_site.py: these load files from outside the site, so offline they fail (give them a '
                 'local copy in SCRIPTS, or drop them):\n' +
                 '\n'.join(f'  {k}: {", ".join(sorted(set(v)))}' for k, v in left.items()))
    size = sum(f.stat().st_size for f in (site/VENDOR).rglob('*') if f.is_file()) if (site/VENDOR).exists() else 0
    print(f'The docs site carries its own scripts and font: {site/VENDOR} ({size/1e6:.1f} MB: '
          + ', '.join(f'{n}@{v}' for n, (v, _) in PACKAGES.items()) + ')')

if __name__ == '__main__': main(sys.argv)
