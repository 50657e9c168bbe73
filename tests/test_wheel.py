"The wheel holds every exported module and works when installed, away from the repository."
import json, os, subprocess, sys, tarfile, zipfile
from pathlib import Path

ROOT = Path(__file__).parents[1]

def test_wheel_installs_and_runs(tmp_path):
    # as publish.yaml builds what PyPI gets: the sdist, then the wheel from the sdist (so the sdist must be complete)
    r = subprocess.run([sys.executable, '-m', 'build', '--outdir', tmp_path/'dist', ROOT], capture_output=True,
                       text=True)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    whl, = (tmp_path/'dist').glob('vit_nbdev-*.whl')
    sdist, = (tmp_path/'dist').glob('vit_nbdev-*.tar.gz')
    with tarfile.open(sdist) as t: in_sdist = {n.split('/', 1)[1] for n in t.getnames() if '/' in n}
    assert {'pyproject.toml', 'setup.py', 'README.md', 'LICENSE', 'nbs/02_patches.ipynb'} <= in_sdist, in_sdist
    names = zipfile.ZipFile(whl).namelist()
    modules = sorted(str(p.relative_to(ROOT)) for p in (ROOT/'vit_nbdev').rglob('*.py'))  # the course's lessons too
    assert sorted(n for n in names if n.startswith('vit_nbdev/') and n.endswith('.py')) == modules
    for data in ('weights', 'static'):  # the shipped models, the explorer's script, the validation images
        shipped = sorted(str(p.relative_to(ROOT)) for p in (ROOT/'vit_nbdev'/data).rglob('*') if p.is_file())
        assert shipped and shipped == sorted(n for n in names if n.startswith(f'vit_nbdev/{data}/')), data
    assert not any(n.startswith(('nbs/', 'tests/')) for n in names)
    course = sorted(p.name for p in (ROOT/'nbs').glob('[0-9][0-9]*_*.ipynb'))  # shipped for `vit-nbdev exercises`
    assert sorted(n.split('/')[-1] for n in names if n.startswith('vit_nbdev/course/')) == course
    with zipfile.ZipFile(whl) as z:
        nb = json.loads(z.read('vit_nbdev/course/02_patches.ipynb'))
    assert not any(c.get('outputs') for c in nb['cells']), 'the shipped notebooks keep no outputs'
    site = tmp_path/'site'
    subprocess.run([sys.executable, '-m', 'pip', 'install', '-q', '--no-deps', '--target', site, whl],
                   check=True, capture_output=True)
    code = ("import torch, vit_nbdev; from vit_nbdev.model import create_model; "
            "from vit_nbdev.checkpoint import pretrained; m, meta = pretrained('cifar10'); "
            "print(vit_nbdev.__file__); print(tuple(m(torch.randn(2, 3, 32, 32)).shape)); "
            "from vit_nbdev.exercises import write_exercises; print(len(write_exercises('class')))")
    env = {**os.environ, 'PYTHONPATH': str(site)}
    r = subprocess.run([sys.executable, '-c', code], cwd=tmp_path, env=env, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    path, shape, written = r.stdout.strip().splitlines()
    assert written == str(len(course) + 1)  # a student notebook per course notebook, and the teacher's key
    assert 'raise NotImplementedError()' in (tmp_path/'class'/'02_patches.ipynb').read_text()
    assert path.startswith(str(site)), path
    assert shape == '(2, 10)'
