"""Quarto's pre-render step (nbs/_quarto.yml): the docs site shows no hidden tests, as the students' notebooks do not.

A course notebook's check cell ends with nbgrader's hidden tests (`### BEGIN HIDDEN TESTS` ... `### END HIDDEN
TESTS`), which only grading runs. The site is public, so this removes those lines from the copies Quarto renders
(nbdev's `_proc` folder, never the notebooks), and the lines that the hidden checks printed: a check prints one line
(`✓ ...` or `✗ ...`), so a cell's output keeps as many of them as it has checks outside the hidden tests.
Standard library only: Quarto runs it with any Python.

    python tools/private_tests.py _proc/NOTEBOOK...  # by hand; Quarto names its inputs in the environment

It edits only notebooks inside a `_proc` folder: the course's own notebooks keep their tests.
"""
import json, os, re, sys
from pathlib import Path

HIDDEN = re.compile(r'^[ \t]*### BEGIN HIDDEN TESTS[ \t]*\n.*?^[ \t]*### END HIDDEN TESTS[ \t]*(\n|$)', re.M | re.S)
CHECK = re.compile(r'^\s*check_\w+\(', re.M)  # a check call at the start of a line
VERDICT = ('✓', '✗')  # the first character of every line a check prints first

def _text(x) -> str: return ''.join(x) if isinstance(x, list) else x

def _keep_verdicts(outputs:list, n:int) -> list:
    "The outputs with only the first `n` check lines (and what follows each, a diagnosis or a hint) of their text."
    seen, kept = 0, []
    for o in outputs:
        if o.get('output_type') != 'stream':
            kept.append(o)
            continue
        lines = []
        for line in _text(o['text']).splitlines(keepends=True):
            if line.startswith(VERDICT): seen += 1
            if seen <= n: lines.append(line)
        if lines: kept.append({**o, 'text': lines})
    return kept

def private(nb:dict) -> int:
    "Remove the hidden tests and what they printed from every cell of `nb`; the number of cells changed."
    changed = 0
    for c in nb['cells']:
        src = _text(c.get('source', ''))
        if c.get('cell_type') != 'code' or not HIDDEN.search(src): continue
        public = HIDDEN.sub('', src).rstrip('\n')
        c['source'] = public
        c['outputs'] = _keep_verdicts(c.get('outputs', []), len(CHECK.findall(public)))
        changed += 1
    return changed

def main(argv):
    if len(argv) > 1: files = argv[1:]
    else:  # run by Quarto before a render, in the project's folder
        files = os.environ.get('QUARTO_PROJECT_INPUT_FILES', '')
        if os.environ.get('QUARTO_USE_FILE_FOR_PROJECT_INPUT_FILES'):  # Quarto wrote the list to a file instead
            files = Path(os.environ['QUARTO_USE_FILE_FOR_PROJECT_INPUT_FILES']).read_text()
        files = files.splitlines()
    total = 0
    for f in (Path(f) for f in files if f.endswith('.ipynb')):
        if '_proc' not in f.resolve().parts:
            sys.exit(f"tools/private_tests.py edits the copies Quarto renders (nbdev's _proc folder), not {f}.")
        nb = json.loads(f.read_text(encoding='utf-8'))
        if n := private(nb):
            f.write_text(json.dumps(nb, indent=1, ensure_ascii=False), encoding='utf-8')
            total += n
    if total: print(f'Hidden tests kept off the site: {total} cells')

if __name__ == '__main__': main(sys.argv)
