"The `vit-nbdev` command end to end: train, evaluate, fine-tune, and its errors."
import json
import numpy as np
from PIL import Image

TINY = ['--data', 'synthetic', '--batch-size', '32', '--lr', '2e-3', '--warmup', '0.5']

def test_help(cli):
    out = cli('train', '--help').stdout
    assert '--low-res' in out and 'label smoothing' in out and '(default: adamw)' in out
    assert '(default: sgd)' in cli('finetune', '--help').stdout  # the fine-tuning recipe of Table 4

def test_train_then_evaluate(cli, tmp_path):
    r = cli('train', *TINY, '--epochs', '3', '--drop-rate', '0', '--out', tmp_path/'run')
    assert '1,601,668 parameters' in r.stdout
    ev = json.loads(cli('evaluate', tmp_path/'run').stdout)
    last = (tmp_path/'run'/'metrics.csv').read_text().splitlines()[-1].split(',')
    header = (tmp_path/'run'/'metrics.csv').read_text().splitlines()[0].split(',')
    assert ev['split'] == 'validation' and ev['images'] == 51
    assert ev['val_acc'] > 0.9  # the synthetic shapes are learnable
    assert abs(ev['val_acc'] - float(last[header.index('val_acc')])) < 1e-9  # the same split, the same model

def test_existing_run_is_not_overwritten(cli, tmp_path):
    cli('train', *TINY, '--epochs', '1', '--out', tmp_path/'run')
    before = {p: p.read_bytes() for p in (tmp_path/'run').rglob('*') if p.is_file()}
    r = cli('train', *TINY, '--epochs', '1', '--out', tmp_path/'run', check=False)
    assert r.returncode != 0 and '--resume' in r.stderr
    assert before == {p: p.read_bytes() for p in (tmp_path/'run').rglob('*') if p.is_file()}

def test_bad_data(cli, tmp_path):
    r = cli('train', '--data', tmp_path/'missing', '--out', tmp_path/'run', check=False)
    assert r.returncode != 0 and 'does not exist' in r.stderr and 'Traceback' not in r.stderr
    (tmp_path/'empty'/'cls').mkdir(parents=True)
    r = cli('train', '--data', tmp_path/'empty', '--out', tmp_path/'run', check=False)
    assert r.returncode != 0 and 'No images found' in r.stderr
    r = cli('train', *TINY, '--low-res', '18', '--low-res-epochs', '1', '--out', tmp_path/'run2', check=False)
    assert r.returncode != 0 and 'not divisible by the patch size 4' in r.stderr
    for flag, bad, says in [('--epochs', '0', 'an integer at least 1'), ('--batch-size', '-1', 'at least 1'),
                            ('--lr', '0', 'above 0'), ('--checkpoint-every', '-5', 'at least 0')]:
        r = cli('train', *TINY, flag, bad, '--out', tmp_path/'run3', check=False)
        assert r.returncode != 0 and f'{flag} must be' in r.stderr and says in r.stderr, r.stderr
        assert not (tmp_path/'run3').exists()  # refused before anything is written

def test_corrupt_checkpoint(cli, tmp_path):
    cli('train', *TINY, '--epochs', '2', '--out', tmp_path/'run')
    ckdir = tmp_path/'run'/'checkpoints'
    latest = ckdir/(ckdir/'latest').read_text()
    older = sorted(p for p in ckdir.glob('step-*') if p != latest)
    weights = latest/'model.safetensors'
    weights.write_bytes(weights.read_bytes()[:1000])  # truncated
    snapshot = {p: p.read_bytes() for p in ckdir.rglob('*') if p.is_file()}
    r = cli('evaluate', tmp_path/'run', check=False)
    assert r.returncode != 0 and 'corrupt or truncated' in r.stderr
    r = cli('train', *TINY, '--epochs', '2', '--out', tmp_path/'run', '--resume', check=False)
    assert r.returncode != 0 and 'corrupt or truncated' in r.stderr
    assert snapshot == {p: p.read_bytes() for p in ckdir.rglob('*') if p.is_file()}  # nothing touched
    assert older and json.loads(cli('evaluate', older[0]).stdout)['val_acc'] > 0  # the older one still works

def test_finetune_new_classes_higher_resolution(cli, tmp_path):
    cli('train', *TINY, '--epochs', '2', '--out', tmp_path/'pre')
    for c, colour in [('red', (200, 30, 30)), ('blue', (30, 30, 200))]:
        (tmp_path/'folder'/c).mkdir(parents=True)
        for i in range(40):
            a = np.random.default_rng(i).integers(0, 60, (32, 32, 3)).astype(np.uint8)
            a[8:24, 8:24] = colour
            Image.fromarray(a).save(tmp_path/'folder'/c/f'{i}.png')
    r = cli('finetune', '--init', tmp_path/'pre', '--data', tmp_path/'folder', '--img-size', '48', '--epochs', '3',
            '--batch-size', '16', '--lr', '0.03', '--val-size', '16', '--out', tmp_path/'ft')
    assert 'New head: the checkpoint has 4 classes, the data 2' in r.stdout
    assert '8x8 -> 12x12 patches' in r.stdout
    cfg = json.loads(next((tmp_path/'ft'/'checkpoints').glob('step-*/config.json')).read_text())
    assert cfg['model']['img_size'] == 48 and cfg['model']['num_classes'] == 2 and cfg['classes'] == ['blue', 'red']
    assert json.loads(cli('evaluate', tmp_path/'ft').stdout)['val_acc'] > 0.9

def test_low_res_epochs_then_full_resolution(cli, tmp_path):
    r = cli('train', *TINY, '--epochs', '3', '--low-res', '16', '--low-res-epochs', '2', '--out', tmp_path/'run')
    rows = (tmp_path/'run'/'metrics.csv').read_text().splitlines()
    assert len(rows) == 1 + 3
    assert json.loads(cli('evaluate', tmp_path/'run').stdout)['val_acc'] > 0.5
    r = cli('evaluate', tmp_path/'run', '--test', check=False)
    assert r.returncode != 0 and 'no official test split' in r.stderr

def test_masked_patch_prediction_resume_then_finetune_on_few_labels(cli, tmp_path):
    "Pre-train without labels (--mpp); roll back one epoch and resume: the same result; fine-tune on a few labels."
    mpp = [*TINY, '--mpp', 'mean_colour', '--epochs', '2', '--drop-rate', '0']
    cli('train', *mpp, '--out', tmp_path/'a')
    cli('train', *mpp, '--out', tmp_path/'b')
    ckdir = tmp_path/'b'/'checkpoints'
    first, last = sorted(ckdir.glob('step-*'))
    (ckdir/'latest').write_text(first.name)  # back to the end of epoch 1, as if killed during epoch 2
    import shutil
    shutil.rmtree(last)
    cli('train', *mpp, '--out', tmp_path/'b', '--resume')
    final = lambda run: (run/'checkpoints'/(run/'checkpoints'/'latest').read_text())/'model.safetensors'
    assert final(tmp_path/'a').read_bytes() == final(tmp_path/'b').read_bytes()  # [mask], head and optimizer restored
    acc = lambda run: [l.split(',')[5] for l in (run/'metrics.csv').read_text().splitlines()[1:]]
    assert acc(tmp_path/'a') == acc(tmp_path/'b') and 0 < float(acc(tmp_path/'a')[-1]) <= 1  # held-out colour accuracy
    r = cli('evaluate', tmp_path/'a', check=False)
    assert r.returncode != 0 and 'fine-tune it first' in r.stderr
    r = cli('finetune', '--init', tmp_path/'a', *TINY, '--train-size', '100', '--epochs', '1', '--out', tmp_path/'ft')
    assert '100 training / 51 validation images' in r.stdout
    r = cli('finetune', '--init', tmp_path/'a', *TINY, '--train-size', '5000', '--out', tmp_path/'ft2', check=False)
    assert r.returncode != 0 and '--train-size 5000' in r.stderr
    r = cli('train', *mpp, '--mixup', '0.8', '--out', tmp_path/'bad', check=False)
    assert r.returncode != 0 and 'without labels' in r.stderr
    r = cli('train', *TINY, '--mpp', 'colour', '--out', tmp_path/'bad2', check=False)
    assert r.returncode != 0 and 'mean_colour' in r.stderr

def test_runs_saved_before_the_redesign_still_work(cli, tmp_path):
    "Checkpoints saved before the hybrid was injected (`backbone_layers` in the config) and before tasks (the MPP state"
    " under 'mpp') still evaluate, resume and fine-tune: rewrite a fresh run into that older form and use it."
    import torch
    cli('train', *TINY, '--epochs', '2', '--out', tmp_path/'run')
    cli('train', *TINY, '--mpp', 'mean_colour', '--epochs', '1', '--drop-rate', '0', '--out', tmp_path/'mpp')
    for run in (tmp_path/'run', tmp_path/'mpp'):
        for ck in (run/'checkpoints').glob('step-*'):
            cfg = json.loads((ck/'config.json').read_text())
            cfg['model']['backbone_layers'] = None
            (ck/'config.json').write_text(json.dumps(cfg))
            state = torch.load(ck/'train_state.pt', weights_only=True)
            if state['task']: state['mpp'] = state['task']
            del state['task']
            torch.save(state, ck/'train_state.pt')
    assert json.loads(cli('evaluate', tmp_path/'run').stdout)['val_acc'] > 0.5
    ckdir = tmp_path/'run'/'checkpoints'
    first = sorted(ckdir.glob('step-*'))[0]
    (ckdir/'latest').write_text(first.name)  # back to epoch 1, then resume to the end
    r = cli('train', *TINY, '--epochs', '2', '--out', tmp_path/'run', '--resume')
    assert 'resuming at step 14' in r.stdout
    r = cli('finetune', '--init', tmp_path/'mpp', *TINY, '--epochs', '1', '--out', tmp_path/'ft')
    assert 'epoch 1 step 14' in r.stdout  # the same classes: the (untrained, zero) head is kept
    (tmp_path/'mpp'/'checkpoints'/'latest').write_text(sorted((tmp_path/'mpp'/'checkpoints').glob('step-*'))[0].name)
    r = cli('train', *TINY, '--mpp', 'mean_colour', '--epochs', '1', '--drop-rate', '0', '--out', tmp_path/'mpp',
            '--resume', check=False)
    assert r.returncode == 0, r.stderr  # nothing left to train: it resumes at the end and stops

def test_a_run_folder_has_one_owner_and_export_loses_nothing(cli, tmp_path):
    "A second command on a run folder in use stops before touching it; export replaces neither the run nor other files."
    import os, signal, subprocess, time
    from conftest import CLI
    out = tmp_path/'run'
    env = {**os.environ, 'OMP_NUM_THREADS': '1'}
    a = subprocess.Popen([CLI, 'train', *TINY, '--epochs', '50', '--out', str(out)], env=env,
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.time() + 300
        while not (out/'checkpoints'/'latest').exists() and time.time() < deadline and a.poll() is None: time.sleep(0.1)
        assert a.poll() is None, 'the first run ended before the second could start'
        r = cli('train', *TINY, '--epochs', '50', '--out', out, '--resume', check=False)
        assert r.returncode != 0 and 'is in use by pid' in r.stderr and 'choose another --out' in r.stderr, r.stderr
    finally:
        a.send_signal(signal.SIGKILL)
        a.wait()
    snapshot = {p: p.read_bytes() for p in tmp_path.rglob('*') if p.is_file()}
    for dest in (out, tmp_path, out/'checkpoints', tmp_path/'run'/'metrics.csv'):
        r = cli('export', out, dest, '--force', check=False)
        assert r.returncode != 0 and 'Traceback' not in r.stderr, r.stderr
    assert snapshot == {p: p.read_bytes() for p in tmp_path.rglob('*') if p.is_file()}  # nothing touched
    from vit_nbdev.checkpoint import RunFolder
    run = RunFolder(out)
    run.claim(new=False)  # the killed run's lock went with its process
    run.release()

def test_predict(cli, tmp_path):
    "The shipped model on bundled photographs and a file; a model written by save_pretrained, with its class names."
    import torch
    from vit_nbdev.model import create_model
    from vit_nbdev.published import save_pretrained
    from vit_nbdev.images import sample_images
    (tmp_path/'cat.png').write_bytes(sample_images()['chelsea'].read_bytes())
    out = cli('predict', 'astronaut', tmp_path/'cat.png', '--top', '2').stdout.splitlines()
    assert len(out) == 2 and out[1].startswith(f"{tmp_path/'cat.png'}: ")
    assert out[0].startswith("astronaut (a person, not one of the model's 10 classes): "), out[0]
    assert all(len(l.split(': ')[1].split(', ')) == 2 for l in out)
    torch.manual_seed(0)
    m = create_model('vit_micro_patch4_32', num_classes=3, zero_head=False)
    save_pretrained(m, tmp_path/'hf', 'hf', classes=['apple', 'pear', 'plum'])
    line = cli('predict', 'coffee', '--model', tmp_path/'hf', '--top', '3').stdout.strip()
    assert line.startswith("coffee (a coffee cup, not one of the model's 3 classes): "), line
    names = [c.rsplit(' ', 1)[0] for c in line.split(': ')[1].split(', ')]
    assert sorted(names) == ['apple', 'pear', 'plum'], line
    r = cli('predict', 'no_such.jpg', check=False)
    assert r.returncode != 0 and 'No image file' in r.stderr and 'Traceback' not in r.stderr
