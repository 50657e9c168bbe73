"""The course notebooks work with nbgrader itself: `generate_assignment` makes the same student copy as
`write_exercises`, and `autograde` grades a right, a wrong, an untouched and a tampered submission (notebook 02)."""
import json, os, shutil, sys
from pathlib import Path
import pytest

nbgrader = pytest.importorskip('nbgrader', reason="nbgrader is in the dev extra: pip install -e '.[dev]'")
from traitlets.config import Config
from nbgrader.apps import NbGraderAPI
from nbgrader.api import Gradebook
from vit_nbdev.exercises import student_notebook

NB = '02_patches.ipynb'
COURSE = Path(__file__).parents[1]/'nbs'/NB
WRONG = '''def my_patchify(x, patch_size):
    B, C, H, W = x.shape
    P = patch_size
    tiles = [x[:, :, i:i + P, j:j + P] for j in range(0, W, P) for i in range(0, H, P)]
    return torch.stack([t.permute(0, 2, 3, 1).reshape(B, -1) for t in tiles], dim=1)'''

def _code(nb): return [''.join(c['source']) for c in nb['cells'] if c['cell_type'] == 'code']

CHEAT = "check_patchify = lambda fn, hidden=False: print('✓ patchify: right')"  # the check's own cell, edited

def _answer(release:dict, src:str|None, cheat:bool=False) -> dict:
    "The released notebook with the exercise cell's code replaced by `src` (None: left as released)."
    nb = json.loads(json.dumps(release))
    for c in nb['cells']:
        meta = c['metadata'].get('nbgrader', {})
        if src and meta.get('solution'): c['source'] = src.splitlines(keepends=True)
        if cheat and meta.get('grade_id') == 'check_patchify_code': c['source'] = [CHEAT]
    return nb

@pytest.fixture(scope='module')
def graded(tmp_path_factory):
    root = tmp_path_factory.mktemp('course')
    (root/'source'/'ps1').mkdir(parents=True)
    shutil.copy(COURSE, root/'source'/'ps1'/NB)
    os.environ['PATH'] = f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"  # nbgrader runs `alembic`
    c = Config()
    c.CourseDirectory.root, c.CourseDirectory.course_id = str(root), 'vit'
    c.ExecutePreprocessor.timeout = 300
    api = NbGraderAPI(config=c)
    r = api.generate_assignment('ps1', force=True, create=True)
    assert r['success'], r['log']
    release = json.loads((root/'release'/'ps1'/NB).read_text())
    right = ''.join(next(c['source'] for c in json.loads(COURSE.read_text())['cells']
                         if c['metadata'].get('nbgrader', {}).get('solution')))
    for student, src in [('alice', right), ('bob', WRONG), ('carol', None), ('dave', None)]:
        (root/'submitted'/student/'ps1').mkdir(parents=True)
        (root/'submitted'/student/'ps1'/NB).write_text(json.dumps(_answer(release, src, cheat=student == 'dave')))
        r = api.autograde('ps1', student, force=True, create=True)
        assert r['success'], r['log']
    with Gradebook(f"sqlite:///{root/'gradebook.db'}") as gb:
        scores = {s: (gb.find_submission('ps1', s).score, gb.find_submission('ps1', s).max_score)
                  for s in ('alice', 'bob', 'carol', 'dave')}
    return root, release, scores

def _check_output(root, student):
    nb = json.loads((root/'autograded'/student/'ps1'/NB).read_text())
    cell, = [c for c in nb['cells'] if c['metadata'].get('nbgrader', {}).get('grade_id') == 'check_patchify']
    errors = [o for c in nb['cells'] for o in c.get('outputs', []) if o['output_type'] == 'error']
    text = ''.join(''.join(o.get('text', '')) for o in cell['outputs'])
    return text, errors, cell

def test_generate_assignment_matches_write_exercises(graded):
    root, release, _ = graded
    ours = student_notebook(json.loads(COURSE.read_text()))
    drop = lambda s: '\n'.join(l for l in s.split('\n') if not l.startswith('#| code-')).rstrip('\n')
    assert [drop(s) for s in _code(release)] == _code(ours)

def test_autograde_grades_right_wrong_and_untouched(graded):
    root, _, scores = graded
    assert scores == {'alice': (1.0, 1.0), 'bob': (0.0, 1.0), 'carol': (0.0, 1.0), 'dave': (0.0, 1.0)}, scores
    text, errors, _ = _check_output(root, 'alice')
    assert not errors and '✓ patchify: right on all 4 checks' in text, text  # the hidden checks ran too
    text, errors, cell = _check_output(root, 'bob')
    assert 'Mistake: column-major grid' in text and 'Hint 1 of 3' in text, text
    assert [e['ename'] for e in errors] == ['ExerciseFailed'] and errors[0]['traceback'] == [
        'ExerciseFailed: patchify is not right yet: see above.']

def test_an_untouched_notebook_runs_to_the_end(graded):
    root, _, _ = graded
    text, errors, _ = _check_output(root, 'carol')
    assert [e['evalue'] for e in errors] == ['patchify: Not implemented yet: replace `raise NotImplementedError()` by '
                                             'your code and run the cell again.']
    nb = json.loads((root/'autograded'/'carol'/'ps1'/NB).read_text())
    last = [c for c in nb['cells'] if c['cell_type'] == 'code'][-1]
    assert last.get('execution_count'), 'the cells after the exercise ran'

def test_the_checks_own_code_is_locked(graded):
    "A student who edits the check's cell gets it back as the course wrote it: nbgrader restores locked cells."
    root, _, _ = graded
    nb = json.loads((root/'autograded'/'dave'/'ps1'/NB).read_text())
    cell, = [c for c in nb['cells'] if c['metadata'].get('nbgrader', {}).get('grade_id') == 'check_patchify_code']
    ours, = [c for c in json.loads(COURSE.read_text())['cells']
             if c['metadata'].get('nbgrader', {}).get('grade_id') == 'check_patchify_code']
    assert cell['source'] == ours['source'] and CHEAT not in ''.join(cell['source'])
    text, errors, _ = _check_output(root, 'dave')
    assert 'Not implemented yet' in text or any('Not implemented yet' in e['evalue'] for e in errors)
