"""A student's exercise in a real browser: the students' copy of notebook 02 in JupyterLab, Chromium driven by
Playwright. A wrong `my_patchify` gets its named mistake, a hint and one error line (no traceback); a right one
passes."""
import json, re
# JupyterLab on a free port (the `lab` fixture), skipped with a note where there is no chromium, as in test_browser
from test_browser import ARTIFACTS, lab, notebook_in_chromium  # noqa: F401 (lab is a fixture)
from vit_nbdev.exercises import write_exercises

NB = '02_patches.ipynb'
WRONG = '''def my_patchify(x, patch_size):
    P = patch_size
    tiles = x.unfold(2, P, P).unfold(3, P, P)  # (B, C, H/P, W/P, P, P)
    return tiles.permute(0, 3, 2, 4, 5, 1).flatten(3).flatten(1, 2)  # the grid column by column'''
RIGHT = '''def my_patchify(x, patch_size):
    B, C, H, W = x.shape
    P = patch_size
    x = x.reshape(B, C, H // P, P, W // P, P).permute(0, 2, 4, 3, 5, 1)
    return x.reshape(B, -1, P * P * C)'''
PROMPT_RAN = re.compile(r'\[\d+\]')  # an input prompt once the cell has run: [12]: (not [*]: or [ ]:)
ACTIVE = re.compile(r'\bjp-mod-active\b')  # the notebook's active cell
ERROR = '[data-mime-type="application/vnd.jupyter.stderr"]'  # how JupyterLab renders an error (and stderr)

def _replace_source(page, cell, src):
    "Replace a code cell's text through its CodeMirror editor: click into it, select all, insert the new text."
    from playwright.sync_api import expect
    editor = cell.locator('.cm-content')
    editor.click()
    expect(cell.locator('.cm-editor')).to_have_class(re.compile(r'\bcm-focused\b'))  # edit mode: keys go to the cell
    page.keyboard.press('ControlOrMeta+a')
    page.keyboard.insert_text(src)  # one text input, not key presses: no auto-indent or bracket closing
    got = editor.inner_text()
    assert [l.rstrip() for l in got.strip().splitlines()] == src.splitlines(), got

def _errors(cells, stop):
    "The error (and stderr) outputs of the cells above cell `stop`, as text."
    outs = cells.locator(ERROR)
    return [t for j in range(stop) for t in cells.nth(j).locator(ERROR).all_inner_texts()] if outs.count() else []

def _run(cells, i):
    "Shift+Enter on the active cell `i`: run it, and wait until the next cell is the active one (the key was taken)."
    from playwright.sync_api import expect
    cells.page.keyboard.press('Shift+Enter')
    expect(cells.nth(i + 1)).to_have_class(ACTIVE, timeout=20_000)

def _run_exercise(page, cells, ex, check, src, want):
    "Put `src` into the exercise cell, run it and the check cell; return the check's output once `want` shows."
    from playwright.sync_api import expect
    _replace_source(page, cells.nth(ex), src)
    for i in range(ex, check + 1): _run(cells, i)
    out = cells.nth(check).locator('.jp-OutputArea')
    try: expect(out).to_contain_text(want, timeout=60_000)
    except AssertionError as e: raise AssertionError(f'{e}\nerrors above the check: {_errors(cells, check)}') from e
    expect(cells.nth(check).locator('.jp-InputPrompt')).to_have_text(PROMPT_RAN, timeout=30_000)
    assert cells.nth(ex).locator(ERROR).count() == 0, cells.nth(ex).locator('.jp-OutputArea').inner_text()
    cells.nth(check).scroll_into_view_if_needed()
    page.wait_for_timeout(300)  # let the output settle before the caller reads it and screenshots
    return out.inner_text()

def test_exercise_in_browser(lab, tmp_path):
    base, token = lab
    write_exercises(tmp_path, [NB])  # the students' copy, into the folder the lab serves
    from playwright.sync_api import expect
    # the cells' indices from the file: JupyterLab renders only the cells near the view
    nb = json.loads((tmp_path/NB).read_text())
    sources = [''.join(c['source']) for c in nb['cells']]
    ex = next(i for i, s in enumerate(sources) if 'def my_patchify(' in s)
    check = next(i for i, s in enumerate(sources) if s.startswith('check_patchify(my_patchify)'))
    assert 'raise NotImplementedError()' in sources[ex] and ex < check, sources[ex]
    # the last code cell before the exercise that shows its prompt: the students' copy folds `#| hide` cells
    shown = lambda c: c['cell_type'] == 'code' and not c['metadata'].get('jupyter', {}).get('source_hidden')
    setup = max(i for i in range(ex) if shown(nb['cells'][i]))
    with notebook_in_chromium(base, token, NB, 'exercise-last.png') as page:
        cells = page.locator('.jp-Notebook .jp-Cell')
        expect(cells).to_have_count(len(sources), timeout=30_000)  # all attached (some as placeholders)
        # run the notebook from the top down to the exercise, as a student would: these cells set things up
        cells.first.click()
        expect(cells.first).to_have_class(ACTIVE)
        for i in range(ex): _run(cells, i)
        cells.nth(setup).scroll_into_view_if_needed()
        expect(cells.nth(setup).locator('.jp-InputPrompt')).to_have_text(PROMPT_RAN, timeout=90_000)
        assert not _errors(cells, ex), _errors(cells, ex)

        # a wrong answer: the grid read column by column
        text = _run_exercise(page, cells, ex, check, WRONG, 'ExerciseFailed')
        assert not _errors(cells, ex), _errors(cells, ex)  # the cells above have all run by now, folded ones too
        page.screenshot(path=ARTIFACTS/'exercise-wrong.png')
        assert 'Mistake: column-major grid.' in text, text
        assert re.search(r'^\s*Hint 1 of \d+: ', text, re.M), text
        assert re.search(r'^ExerciseFailed: patchify is not right yet', text, re.M), text
        error = cells.nth(check).locator(ERROR)
        assert error.count() == 1, text
        assert error.inner_text().strip() == 'ExerciseFailed: patchify is not right yet: see above.', text
        for trace in ('Traceback', '---->', 'Cell In[', 'File "', '.py'):
            assert trace not in text, f'a traceback ({trace!r}) in the output:\n{text}'
        assert '✓ patchify' not in text, text

        # a right answer, written another way than the course's
        text = _run_exercise(page, cells, ex, check, RIGHT, '✓ patchify:')
        page.screenshot(path=ARTIFACTS/'exercise-right.png')
        assert re.search(r'^✓ patchify: right on all \d+ checks', text, re.M), text
        assert cells.nth(check).locator(ERROR).count() == 0, text
        for bad in ('ExerciseFailed', 'Mistake', 'Hint', 'Traceback'): assert bad not in text, text
