"""Every exercise of the course: the students' stub fails with 'not implemented yet', the course's solution passes
(hidden checks too), each typical mistake, written as a student would (tests/student_answers), fails with its own
message, and a right answer written another way passes."""
import contextlib, importlib.util, io, json, re
from pathlib import Path
import pytest
from vit_nbdev.exercises import (EXERCISES, COMMON, ExerciseFailed, named_mistakes, write_exercises, solutions,
                                 lesson_module, notebook_scope)

NBS = Path(__file__).parents[1]/'nbs'
COURSE = {p.name: json.loads(p.read_text()) for p in sorted(NBS.glob('[0-9][0-9]*_*.ipynb'))}
LESSONS = {n: lesson_module(nb) for n, nb in COURSE.items()}  # the course's checks: importing them fills EXERCISES
COURSE_INDEX = json.loads((NBS/'index.ipynb').read_text())
SOLVED = [(n, gid, src) for n, nb in COURSE.items() for gid, src in solutions(nb)]

def _answers():
    out = []
    for f in sorted((Path(__file__).parent/'student_answers').glob('nb*.py')):
        spec = importlib.util.spec_from_file_location(f'student_answers_{f.stem}', f)
        mod = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(mod)
        out += [(f.stem, *a) for a in mod.ANSWERS]
    return out
ANSWERS = _answers()

def _define(src:str, notebook:str, gid:str):
    "Run a cell's code the way the notebook does (its module's names in scope); return the student's function."
    ns = notebook_scope(COURSE[notebook])
    exec(compile(src, f'{notebook}:{gid}', 'exec'), ns)
    return ns[f'my_{gid}']

def _check(gid, fn, hidden=True):
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        try: EXERCISES[gid](fn, hidden=hidden)
        except ExerciseFailed as e: return e, out.getvalue()
    return None, out.getvalue()

def test_the_course_has_its_exercises():
    assert len(SOLVED) >= 12, [g for _, g, _ in SOLVED]
    assert len({g for _, g, _ in SOLVED}) == len(SOLVED), 'grade ids must be unique'
    for _, gid, _ in SOLVED: assert len(EXERCISES[gid].mistakes) >= 3, gid
    said = re.search(r'\((\d+) in all', ''.join(c for cell in COURSE_INDEX['cells'] for c in cell['source']))
    assert said and int(said[1]) == len(SOLVED), 'the README counts the exercises: update it'

@pytest.mark.parametrize('notebook,gid,src', SOLVED, ids=[g for _, g, _ in SOLVED])
def test_the_solution_passes(notebook, gid, src):
    err, out = _check(gid, _define(src, notebook, gid))
    assert err is None and out.startswith(f'✓ {gid}:'), out

@pytest.fixture(scope='module')
def students(tmp_path_factory):
    out = tmp_path_factory.mktemp('class')
    write_exercises(out)
    return out

@pytest.mark.parametrize('notebook,gid,src', SOLVED, ids=[g for _, g, _ in SOLVED])
def test_the_stub_is_not_implemented_yet(students, notebook, gid, src):
    nb = json.loads((students/notebook).read_text())
    cell, = [''.join(c['source']) for c in nb['cells'] if f'def my_{gid}(' in ''.join(c['source'])]
    assert 'raise NotImplementedError()' in cell and '### BEGIN SOLUTION' not in cell
    err, out = _check(gid, _define(cell, notebook, gid), hidden=False)
    assert err is not None and 'Not implemented yet' in str(err), out
    assert err._render_traceback_() == [f'ExerciseFailed: {err}']

def test_every_mistake_has_a_student_answer():
    named = {(gid, m.name) for _, gid, _ in SOLVED for m in EXERCISES[gid].mistakes}
    answered = {(gid, m) for _, gid, m, _ in ANSWERS if m}
    assert named <= answered, sorted(named - answered)
    assert {gid for _, gid, _ in SOLVED} <= {gid for _, gid, m, _ in ANSWERS if m is None}

@pytest.mark.parametrize('source,gid,mistake,fn', ANSWERS,
                         ids=[f'{g}-{m or "right"}-{f.__name__}' for _, g, m, f in ANSWERS])
def test_a_student_answer(source, gid, mistake, fn):
    err, out = _check(gid, fn)
    if mistake is None:
        assert err is None, out
        return
    assert err is not None and err.mistake == mistake, out
    if mistake in {m.name for m in COMMON}:  # the same in every exercise: its message carries details
        assert f'Mistake: {mistake}. ' in out and 'Hint ' in out, out
        return
    says = next(m.says for m in EXERCISES[gid].mistakes if m.name == mistake)
    assert f'Mistake: {mistake}. {says}' in out and 'Hint ' in out, out

EXERCISE_IDS = sorted({gid for _, gid, _ in SOLVED})

@pytest.mark.parametrize('gid', EXERCISE_IDS)
def test_the_confusion_table(gid):
    "Every mistake is written out, and each, run as an answer, is named as itself by the student's own check."
    ex = EXERCISES[gid]
    assert all(m.model for m in ex.mistakes), [m.name for m in ex.mistakes if not m.model]
    table = named_mistakes(ex, hidden=False)
    assert table == {m.name: m.name for m in ex.mistakes}, table

def test_the_visible_cases_are_general():
    "No exercise's visible cases are all square grids, single images or one head where the idea has them: spot check."
    labels = {gid: ' '.join(l for l, _ in EXERCISES[gid].cases) for gid in EXERCISE_IDS}
    assert 'heads' in labels['attention'] and 'non-square' in labels['resize_pos_embed'], labels
    assert 'float64' in labels['corrupt'] and '0.7' in labels['corrupt'], labels
