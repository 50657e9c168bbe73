"Reading order is import order: each module imports only modules of earlier notebooks, and nothing lazily."
import ast, json, re, subprocess, sys
from pathlib import Path

ROOT = Path(__file__).parents[1]
OPTIONAL = {'ipywidgets'}  # optional dependencies may be imported where they are used

def notebooks() -> dict:
    "module name -> (place in the reading order, notebook file name), from each notebook's default_exp."
    out = {}
    for nb in sorted((ROOT/'nbs').glob('[0-9][0-9]*_*.ipynb')):  # 01a_checks reads after 01 and before 02
        for c in json.loads(nb.read_text())['cells']:
            m = re.search(r'#\|\s*default_exp\s+(\S+)', ''.join(c['source']))
            if m:
                num, sub = re.match(r'(\d\d)([a-z]?)_', nb.name).groups()
                out[m.group(1)] = ((int(num), sub), nb.name)
                break
    return out

def package_imports(tree) -> set:
    "The vit_nbdev modules a module's code imports."
    found = set()
    for n in ast.walk(tree):
        if isinstance(n, ast.ImportFrom):
            if n.level == 1 and n.module: found.add(n.module)
            elif n.level == 1:  # `from . import x`: a module, or a name of the package (`__version__`: no notebook)
                found |= {a.name for a in n.names if (ROOT/'vit_nbdev'/f'{a.name}.py').exists()}
            elif n.module and n.module.startswith('vit_nbdev.'): found.add(n.module.split('.')[1])
        elif isinstance(n, ast.Import):
            found |= {a.name.split('.')[1] for a in n.names if a.name.startswith('vit_nbdev.')}
    return found

def modules():
    return [p for p in sorted((ROOT/'vit_nbdev').glob('*.py')) if not p.name.startswith('_')]

def exports(file:str) -> bool: # does the notebook export anything to its module?
    cells = json.loads((ROOT/'nbs'/file).read_text())['cells']
    return any(re.match(r'#\|\s*export', ''.join(c['source'])) for c in cells if c['cell_type'] == 'code')

def test_every_module_has_its_notebook_of_the_same_name():
    nbs = {n: v for n, v in notebooks().items() if exports(v[1])}  # a course-only notebook (the capstone) has none
    assert sorted(p.stem for p in modules()) == sorted(nbs)
    for name, ((num, sub), file) in nbs.items(): assert file == f'{num:02d}{sub}_{name}.ipynb', (name, file)

def test_imports_follow_reading_order():
    nbs = notebooks()
    for p in modules():
        for dep in package_imports(ast.parse(p.read_text())):
            assert nbs[dep][0] < nbs[p.stem][0], f"{p.name} (notebook {nbs[p.stem][1]}) imports {dep} ({nbs[dep][1]})"

def test_no_lazy_imports():
    "No import inside a function (a module's imports are its first cell), except of optional dependencies."
    for p in modules():
        for fn in ast.walk(ast.parse(p.read_text())):
            if not isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)): continue
            for n in ast.walk(fn):
                if isinstance(n, ast.ImportFrom): names = {(n.module or '').split('.')[0]}
                elif isinstance(n, ast.Import): names = {a.name.split('.')[0] for a in n.names}
                else: continue
                assert names <= OPTIONAL, f"{p.name}:{n.lineno} imports {names} inside {fn.name}()"

def test_the_graph_is_checked_on_real_edges():
    "The checks above see the edges that exist: the model imports the block, the command line the run builder, which imports the training loop."
    deps = {p.stem: package_imports(ast.parse(p.read_text())) for p in modules()}
    assert 'block' in deps['model'] and 'run' in deps['cli'] and 'train' in deps['run']
    assert not deps['model'] & {'hybrid', 'mpp'}

def mixed_import_cells(nb:Path) -> list:
    "Cells nbdev-docs warns of (nbdev's rule): top-level imports beside other statements, in a cell it runs."
    found = []
    for c in json.loads(nb.read_text())['cells']:
        src = ''.join(c['source'])
        if c['cell_type'] != 'code' or re.search(r'#\|\s*(export|exports|exporti|exec_doc)\b', src): continue
        if re.search(r'#\|\s*eval:\s*false', src, re.I): continue
        try: body = ast.parse('\n'.join(l for l in src.splitlines() if not l.lstrip().startswith(('%', '!')))).body
        except SyntaxError: continue
        if any(isinstance(t, (ast.Import, ast.ImportFrom)) for t in body) and \
           any(isinstance(t, (ast.Expr, ast.Assign)) for t in body): found.append(src.splitlines()[0])
    return found

def test_imports_have_their_own_cells():
    "nbdev-docs warns of a cell that imports and computes (the site test catches it only where Quarto is)."
    bad = {nb.name: cells for nb in sorted((ROOT/'nbs').glob('*.ipynb')) if (cells := mixed_import_cells(nb))}
    assert not bad, bad

def test_the_mixed_cell_check_can_fail(tmp_path):
    nb = {'cells': [{'cell_type': 'code', 'source': ['import torch\n', 'x = torch.zeros(2)']},
                    {'cell_type': 'code', 'source': ['#| export\n', 'import torch\n', 'x = 1']},
                    {'cell_type': 'code', 'source': ['import torch']}]}
    (tmp_path/'a.ipynb').write_text(json.dumps(nb))
    assert mixed_import_cells(tmp_path/'a.ipynb') == ['import torch']

COURSE = {'exercises'}  # the course's framework; its checks are vit_nbdev/lessons/*

def test_the_library_never_imports_the_course():
    "Only the command line, which dispatches to everything (`vit-nbdev exercises` included), may import the course."
    for p in modules():
        if p.stem in COURSE | {'cli'}: continue
        course = {d for d in package_imports(ast.parse(p.read_text())) if d in COURSE or d.startswith('lessons')}
        assert not course, f"{p.name} imports the course: {course}"

def test_importing_the_model_loads_no_course_module():
    code = "import sys, vit_nbdev.model, vit_nbdev.checkpoint; print(sorted(m for m in sys.modules if 'vit_nbdev' in m))"
    loaded = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True, check=True).stdout
    assert 'vit_nbdev.model' in loaded and 'exercises' not in loaded and 'lessons' not in loaded, loaded

def test_each_course_module_has_its_notebook_beside_the_idea_it_checks():
    "vit_nbdev/lessons/X.py comes from nbs/lessons/NN_X.ipynb, NN the number of the notebook that teaches X."
    nbs = notebooks()
    lessons = {p.stem for p in (ROOT/'vit_nbdev'/'lessons').glob('*.py') if not p.name.startswith('_')}
    assert lessons, 'no course modules found'
    for name in lessons:
        (num, sub), _ = nbs[name]
        nb = ROOT/'nbs'/'lessons'/f'{num:02d}{sub}_{name}.ipynb'
        assert f'default_exp lessons.{name}' in nb.read_text(), nb
