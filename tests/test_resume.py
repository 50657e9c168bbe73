"A run killed with SIGKILL mid-way and resumed ends with exactly the weights of a run that was never interrupted."
import os, random, signal, subprocess, time
from pathlib import Path
import torch
from safetensors.torch import load_file
from conftest import CLI, run_cli
from vit_nbdev.checkpoint import RunFolder, load_checkpoint

ARGS = ['train', '--data', 'synthetic', '--batch-size', '32', '--epochs', '3', '--lr', '2e-3', '--drop-rate', '0.1',
        '--mixup', '0.2', '--crop', 'pad', '--checkpoint-every', '1', '--keep', '3']

def final_weights(run):
    ck = Path(run)/'checkpoints'
    return load_file(ck/(ck/'latest').read_text()/'model.safetensors'), (Path(run)/'metrics.csv').read_text()

def kill_after_next_checkpoint(out, rng, resume:bool) -> int|None:
    "Start (or resume) the run; once `latest` has advanced, wait a seeded random moment and SIGKILL it. Its step."
    env = {**os.environ, 'OMP_NUM_THREADS': '1'}
    args = [CLI, *ARGS, '--out', str(out)] + (['--resume'] if resume else [])
    latest, deadline = Path(out)/'checkpoints'/'latest', time.time() + 300
    before = int(latest.read_text()[5:]) if latest.exists() else -1
    p = subprocess.Popen(args, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    advanced = lambda: latest.exists() and int(latest.read_text()[5:]) > before
    while time.time() < deadline and p.poll() is None and not advanced(): time.sleep(0.005)
    time.sleep(rng.uniform(0, 0.15))  # anywhere: in a step, an evaluation, or a checkpoint being written
    finished = p.poll() is not None
    p.send_signal(signal.SIGKILL)
    p.wait()
    return None if finished else int(latest.read_text()[5:])

def test_killed_20_times_then_resumed_is_exact(tmp_path):
    "SIGKILL at 20+ seeded random moments, each after `latest` advanced: it always loads, and the end is exact."
    env = {**os.environ, 'OMP_NUM_THREADS': '1'}  # the uninterrupted run, on the other core meanwhile
    ref = subprocess.Popen([CLI, *ARGS, '--checkpoint-every', '0', '--out', str(tmp_path/'a')], env=env,
                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    rng, steps = random.Random(0), []
    while len(steps) < 20:
        step = kill_after_next_checkpoint(tmp_path/'b', rng, resume=bool(steps))
        assert step is not None, f'the run ended after {len(steps)} kills: give it more steps'
        steps.append(step)
        load_checkpoint(RunFolder(tmp_path/'b').latest())  # latest always loads, weights and training state
    assert steps == sorted(set(steps)), steps  # every sitting got further
    run_cli(*ARGS, '--out', tmp_path/'b', '--resume')
    assert ref.wait() == 0, ref.stderr.read()
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
