import os, shutil, subprocess, sys
from pathlib import Path
import pytest

CLI = shutil.which('vit-nbdev', path=str(Path(sys.executable).parent))
assert CLI, "the vit-nbdev command is missing: install the package first (make setup, or pip install -e '.[dev]')"

def run_cli(*args, check=True, **kw):
    "Run `vit-nbdev ARGS` in a subprocess with one thread, returning the CompletedProcess."
    env = {**os.environ, 'OMP_NUM_THREADS': '1', 'PYTHONUNBUFFERED': '1'}
    r = subprocess.run([CLI, *map(str, args)], capture_output=True, text=True, env=env, timeout=600, **kw)
    if check: assert r.returncode == 0, f"exit {r.returncode}\nstdout:\n{r.stdout}\nstderr:\n{r.stderr}"
    return r

@pytest.fixture
def cli(): return run_cli
