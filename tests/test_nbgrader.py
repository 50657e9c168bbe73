"""The course notebooks work with nbgrader itself: `generate_assignment` makes the same student copy as
`write_exercises`, and `autograde` grades a right, a wrong, an untouched and a tampered submission (notebook 02), and
the capstone's key and a submission with one broken piece (notebook 06a), in one nbgrader course."""
import json, os, sys, time
from pathlib import Path
import pytest

nbgrader = pytest.importorskip('nbgrader', reason="nbgrader is in the dev extra: pip install -e '.[dev]'")
from traitlets.config import Config
from nbgrader.apps import NbGraderAPI
from nbgrader.api import Gradebook
from vit_nbdev.exercises import student_notebook, write_exercises

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

def _solution(path:Path) -> str: # the course's own answer: its solution cell, as the teacher wrote it
    return ''.join(next(c['source'] for c in json.loads(path.read_text())['cells']
                        if c['metadata'].get('nbgrader', {}).get('solution')))

@pytest.fixture(scope='module')
def course(tmp_path_factory):
    "One nbgrader course for every assignment of this module: its folder and the API."
    root = tmp_path_factory.mktemp('course')
    os.environ['PATH'] = f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"  # nbgrader runs `alembic`
    c = Config()
    c.CourseDirectory.root, c.CourseDirectory.course_id = str(root), 'vit'
    c.ExecutePreprocessor.timeout = 300
    return root, NbGraderAPI(config=c)

def _assign(course, ps:str, path:Path) -> dict:
    "Release the course notebook at `path` as assignment `ps`; the released notebook."
    root, api = course
    write_exercises(root/'source'/ps, [path.name], nbgrader=True)  # `vit-nbdev exercises ... --nbgrader`
    r = api.generate_assignment(ps, force=True, create=True)
    assert r['success'], r['log']
    return json.loads((root/'release'/ps/path.name).read_text())

def _grade(course, ps:str, name:str, submissions:dict) -> dict:
    "Autograde each student's notebook (JSON) of `ps`: student -> (score, max score, seconds autograde took)."
    root, api = course
    secs = {}
    for student, nb in submissions.items():
        (root/'submitted'/student/ps).mkdir(parents=True)
        (root/'submitted'/student/ps/name).write_text(json.dumps(nb))
        start = time.perf_counter()
        r = api.autograde(ps, student, force=True, create=True)
        secs[student] = time.perf_counter() - start
        assert r['success'], r['log']
    with Gradebook(f"sqlite:///{root/'gradebook.db'}") as gb:
        return {s: (gb.find_submission(ps, s).score, gb.find_submission(ps, s).max_score, secs[s]) for s in secs}

@pytest.fixture(scope='module')
def graded(course):
    root, _ = course
    release = _assign(course, 'ps1', COURSE)
    right = _solution(COURSE)
    subs = {student: _answer(release, src, cheat=student == 'dave')
            for student, src in [('alice', right), ('bob', WRONG), ('carol', None), ('dave', None)]}
    scores = {s: v[:2] for s, v in _grade(course, 'ps1', NB, subs).items()}
    return root, release, scores

def _check_output(root, student, ps='ps1', name=NB, gid='patchify'):
    nb = json.loads((root/'autograded'/student/ps/name).read_text())
    cell, = [c for c in nb['cells'] if c['metadata'].get('nbgrader', {}).get('grade_id') == f'check_{gid}']
    errors = [o for c in nb['cells'] for o in c.get('outputs', []) if o['output_type'] == 'error']
    text = ''.join(''.join(o.get('text', '')) for o in cell['outputs'])
    return text, errors, cell

def test_generate_assignment_matches_write_exercises(graded):
    root, release, _ = graded
    ours = student_notebook(json.loads(COURSE.read_text()))
    assert [s.rstrip('\n') for s in _code(release)] == _code(ours)  # the docs site's #| code-fold lines: gone

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

CAPSTONE = COURSE.parent/'06a_your_vit.ipynb'
FINAL_NORM = "    return linear(norm('norm')(z[:, 0]), 'head')  # eq. (4), then the classifier"

@pytest.fixture(scope='module')
def capstone(course):
    "The capstone as a second assignment of the same course: the teacher's key, and one with the final LN forgotten."
    root, _ = course
    release = _assign(course, 'ps2', CAPSTONE)
    key = _solution(CAPSTONE)
    assert FINAL_NORM in key
    broken = key.replace(FINAL_NORM, "    return linear(z[:, 0], 'head')")
    subs = {'erin': _answer(release, key), 'frank': _answer(release, broken)}
    return root, release, _grade(course, 'ps2', CAPSTONE.name, subs)

def test_the_capstone_is_released_as_write_exercises_makes_it(capstone):
    _, release, _ = capstone
    ours = student_notebook(json.loads(CAPSTONE.read_text()))
    assert [s.rstrip('\n') for s in _code(release)] == _code(ours)
    assert 'BEGIN SOLUTION' not in ''.join(_code(release)) and 'hidden=True' not in ''.join(_code(release))

def test_the_capstone_grades_the_key_and_a_broken_piece(capstone):
    root, _, graded = capstone
    print({s: f"{t:.1f} s" for s, (_, _, t) in graded.items()})  # autograde's time: the whole notebook, run once
    assert {s: v[:2] for s, v in graded.items()} == {'erin': (1.0, 1.0), 'frank': (0.0, 1.0)}, graded
    text, errors, _ = _check_output(root, 'erin', 'ps2', CAPSTONE.name, 'vit')
    assert not errors and '✓ vit: right on all 4 checks' in text, text
    text, errors, _ = _check_output(root, 'frank', 'ps2', CAPSTONE.name, 'vit')
    assert 'Mistake: final LayerNorm forgotten. ' in text and 'Hint 1 of 3' in text, text
    assert [e['ename'] for e in errors] == ['ExerciseFailed', 'AssertionError'], errors  # the picture's test fails too
