"A run killed with SIGKILL mid-way and resumed ends with exactly the weights of a run that was never interrupted."
import os, signal, subprocess, time
from pathlib import Path
import torch
from safetensors.torch import load_file
from conftest import CLI, run_cli

ARGS = ['train', '--data', 'synthetic', '--batch-size', '32', '--epochs', '5', '--lr', '2e-3', '--drop-rate', '0.1',
        '--mixup', '0.2', '--crop', 'pad', '--checkpoint-every', '5', '--keep', '3']

def final_weights(run):
    ck = Path(run)/'checkpoints'
    return load_file(ck/(ck/'latest').read_text()/'model.safetensors'), (Path(run)/'metrics.csv').read_text()

def kill_at(args, out, step):
    "Start a run and SIGKILL it once its latest checkpoint is at `step` or later; return that checkpoint's step."
    env = {**os.environ, 'OMP_NUM_THREADS': '1'}
    p = subprocess.Popen([CLI, *args, '--out', str(out)], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    latest, deadline = Path(out)/'checkpoints'/'latest', time.time() + 300
    while time.time() < deadline and p.poll() is None:
        if latest.exists() and int(latest.read_text()[5:]) >= step: break
        time.sleep(0.01)
    p.send_signal(signal.SIGKILL); p.wait()
    return int(latest.read_text()[5:])

def test_sigkill_twice_then_resume_is_exact(tmp_path):
    run_cli(*ARGS, '--out', tmp_path/'a')
    first = kill_at(ARGS, tmp_path/'b', 14)  # at or just after the end of epoch 1 (14 steps)
    second = kill_at(ARGS + ['--resume'], tmp_path/'b', first + 15)  # killed again after resuming
    assert first < second < 14 * 5, ('the run ended before it could be killed', first, second)
    run_cli(*ARGS, '--out', tmp_path/'b', '--resume')
    (wa, ma), (wb, mb) = final_weights(tmp_path/'a'), final_weights(tmp_path/'b')
    assert wa.keys() == wb.keys()
    assert all(torch.equal(wa[k], wb[k]) for k in wa), 'resumed weights differ'
    cols = lambda m: [r.split(',')[:6] for r in m.splitlines()]  # epoch, step, lr, train_loss, val_loss, val_acc
    assert cols(ma) == cols(mb)
    assert not list((tmp_path/'b'/'checkpoints').glob('.*'))  # no temporary or half-deleted folders left

def test_resume_needs_the_same_settings(tmp_path):
    run_cli(*ARGS[:-4], '--epochs', '1', '--out', tmp_path/'a')
    r = run_cli(*ARGS[:-4], '--epochs', '1', '--lr', '0.1', '--out', tmp_path/'a', '--resume', check=False)
    assert r.returncode != 0 and "'lr': (0.002, 0.1)" in r.stderr
