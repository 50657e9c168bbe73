"""Opening a notebook in JupyterLab and saving it (autosave does, two minutes after opening) changes nothing in the
tree: JupyterLab adds the running kernel's display name and Python version to the metadata, and the save hook that
`make course` passes (SAVE_CLEAN in the Makefile) writes the notebook as nbdev-clean leaves it."""
import json, os, re, socket, subprocess, sys, time, urllib.request
from pathlib import Path

ROOT = Path(__file__).parents[1]

def free_port() -> int:
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]

def test_a_notebook_saved_as_jupyterlab_saves_it_is_unchanged():
    flag = re.search(r'^SAVE_CLEAN := (.+)$', (ROOT/'Makefile').read_text(), re.M).group(1)
    port, nb_path = free_port(), ROOT/'nbs'/'04_attention.ipynb'
    before = nb_path.read_bytes()
    server = subprocess.Popen([Path(sys.executable).parent/'jupyter', 'server', '--no-browser', '--allow-root',
                               f'--port={port}', '--IdentityProvider.token=t', flag], cwd=ROOT,
                              env={**os.environ, 'OMP_NUM_THREADS': '1'}, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    def call(method, body=None):
        r = urllib.request.Request(f'http://127.0.0.1:{port}/api/contents/nbs/04_attention.ipynb', method=method,
                                   headers={'Authorization': 'token t', 'Content-Type': 'application/json'},
                                   data=json.dumps(body).encode() if body else None)
        return json.loads(urllib.request.urlopen(r, timeout=30).read())
    try:
        for _ in range(120):  # the server starts in a few seconds
            try: model = call('GET'); break
            except OSError: time.sleep(0.5)
        nb = model['content']  # what JupyterLab writes on opening, with a kernel running
        nb['metadata']['kernelspec']['display_name'] = 'Python 3 (ipykernel)'
        nb['metadata']['language_info'] = {'name': 'python', 'version': sys.version.split()[0]}
        call('PUT', {'type': 'notebook', 'format': 'json', 'content': nb})
        assert nb_path.read_bytes() == before
    finally:
        server.terminate()
        server.wait(timeout=30)
        if nb_path.read_bytes() != before: nb_path.write_bytes(before)  # put it back for the other tests
