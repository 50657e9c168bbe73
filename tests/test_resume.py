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

def test_sigkill_then_resume_is_exact(tmp_path):
    run_cli(*ARGS, '--out', tmp_path/'a')
    env = {**os.environ, 'OMP_NUM_THREADS': '1'}
    p = subprocess.Popen([CLI, *ARGS, '--out', str(tmp_path/'b')], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    latest, deadline = tmp_path/'b'/'checkpoints'/'latest', time.time() + 300
    while time.time() < deadline and p.poll() is None:  # kill once a mid-epoch checkpoint exists
        if latest.exists() and int(latest.read_text()[5:]) >= 20: break
        time.sleep(0.01)
    p.send_signal(signal.SIGKILL); p.wait()
    killed_at = int(latest.read_text()[5:])
    assert killed_at < 14 * 5, 'the run ended before it could be killed'
    run_cli(*ARGS, '--out', tmp_path/'b', '--resume')
    (wa, ma), (wb, mb) = final_weights(tmp_path/'a'), final_weights(tmp_path/'b')
    assert wa.keys() == wb.keys()
    assert all(torch.equal(wa[k], wb[k]) for k in wa), 'resumed weights differ'
    cols = lambda m: [r.split(',')[:6] for r in m.splitlines()]  # epoch, step, lr, train_loss, val_loss, val_acc
    assert cols(ma) == cols(mb)
