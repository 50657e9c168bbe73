"torchrun with two CPU processes (gloo): DDP training runs, and both ranks end with the same weights."
import os, subprocess, sys, json
from conftest import CLI, run_cli

def test_torchrun_two_processes(tmp_path):
    env = {**os.environ, 'OMP_NUM_THREADS': '1'}
    cmd = [sys.executable, '-m', 'torch.distributed.run', '--standalone', '--nproc_per_node=2', CLI, 'train',
           '--data', 'synthetic', '--batch-size', '16', '--epochs', '3', '--lr', '2e-3', '--device', 'cpu',
           '--out', str(tmp_path/'run')]
    r = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=600)
    assert r.returncode == 0, r.stdout + r.stderr
    assert 'x 2 processes' in r.stdout
    assert 'ranks agree: max |difference| of parameter sums 0' in r.stdout
    assert json.loads(run_cli('evaluate', tmp_path/'run').stdout)['val_acc'] > 0.9
