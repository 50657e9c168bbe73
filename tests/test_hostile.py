"""Hostile input and injected faults: each kind gets a message that names the problem and the fix, and no file that
existed before changes. The command runs in this process (`main(argv)`); one tiny run is trained once and copied."""
import errno, hashlib, json, os, shutil
from pathlib import Path
import numpy as np
import pytest
import torch
from PIL import Image
from vit_nbdev import checkpoint as ck
from vit_nbdev.cli import main

TINY = ['--val-size', '8', '--epochs', '1', '--batch-size', '16', '--lr', '2e-3', '--checkpoint-every', '1',
        '--keep', '5']

def make_folder(root:Path, classes=('blue', 'red'), n:int=24) -> Path:
    "An ImageFolder of coloured squares on noise, `n` PNGs per class."
    for k, c in enumerate(classes):
        (root/c).mkdir(parents=True)
        for i in range(n):
            a = np.random.default_rng(100 * k + i).integers(0, 60, (32, 32, 3)).astype(np.uint8)
            a[8:24, 8:24] = (200, 30, 30) if k % 2 else (30, 30, 200)
            Image.fromarray(a).save(root/c/f'{i}.png')
    return root

@pytest.fixture(scope='module')
def shared(tmp_path_factory):
    "One tiny trained run on a folder of images, made once for the module; cases work on copies."
    root = tmp_path_factory.mktemp('shared')
    data = make_folder(root/'data')
    main(['train', '--data', str(data), *TINY, '--out', str(root/'run')])  # 40 images: 2 steps, a checkpoint each
    return root

def snapshot(root:Path) -> dict:
    "Every file under root with the hash of its bytes (the lock file's owner line is not user data)."
    return {p.relative_to(root): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(Path(root).rglob('*')) if p.is_file() and p.name != '.lock'}

def refused(root:Path, argv:list, *says:str, capsys=None) -> str:
    "Run the command; it must exit with a message holding every one of `says`, and leave every file as it was."
    before = snapshot(root)
    with pytest.raises(SystemExit) as e: main([str(a) for a in argv])
    msg = e.value.code if isinstance(e.value.code, str) else capsys.readouterr().err  # argparse prints, exits 2
    for s in says: assert s in msg, f"{s!r} not in {msg!r}"
    assert 'Traceback' not in msg
    after = snapshot(root)
    assert {k: after.get(k) for k in before} == before, 'a file that existed before changed or went away'
    print('message:', msg)  # shown with pytest -rP: the table of messages in the closing note
    return msg

@pytest.fixture
def case(shared, tmp_path):
    "A copy of the shared data and run for one case, the run pointed at its copy of the data."
    shutil.copytree(shared/'data', tmp_path/'data')
    shutil.copytree(shared/'run', tmp_path/'run')
    for cfg in (tmp_path/'run'/'checkpoints').glob('step-*/config.json'):
        meta = json.loads(cfg.read_text())
        meta['train']['data'] = str(tmp_path/'data')
        cfg.write_text(json.dumps(meta))
    return tmp_path

def train_args(case:Path, *more) -> list: return ['train', '--data', case/'data', *TINY, '--out', case/'run', *more]
def latest(case:Path) -> Path: return ck.RunFolder(case/'run').latest()

# --- options: refused when parsed, before anything is written ---

@pytest.mark.parametrize('flag,value,says', [
    ('--epochs', '0', 'an integer at least 1'), ('--batch-size', '-1', 'at least 1'), ('--lr', '0', 'above 0'),
    ('--lr', '-0.1', 'above 0'), ('--checkpoint-every', '-5', 'at least 0'), ('--label-smoothing', '1', 'below 1'),
    ('--drop-rate', '1.5', 'below 1'), ('--val-size', '0', 'above 0'), ('--randaugment', '31', 'at most 30'),
    ('--keep', '0', 'at least 1'), ('--workers', '-1', 'at least 0'), ('--warmup', '-1', 'at least 0'),
    ('--weight-decay', '-0.1', 'at least 0'), ('--mixup', '-1', 'at least 0'), ('--seed', '-3', 'at least 0')])
def test_numeric_option_out_of_range(case, flag, value, says):
    refused(case, ['train', '--data', 'synthetic', flag, value, '--out', case/'new'], f'{flag} must be', says)
    assert not (case/'new').exists()

@pytest.mark.parametrize('argv,says', [
    (['--epochs', '1.5'], "invalid int value: '1.5'"), (['--crop', 'centre'], "invalid choice: 'centre'"),
    (['--mpp', 'colour'], "'mean_colour'"), (['--optimizer', 'adam'], "invalid choice: 'adam'")])
def test_option_of_the_wrong_kind(case, capsys, argv, says):
    refused(case, ['train', '--data', 'synthetic', *argv, '--out', case/'new'], says, capsys=capsys)

@pytest.mark.parametrize('argv,says', [
    (['--model', 'vit_micro_patch4'], "Unknown model 'vit_micro_patch4'. Did you mean"),
    (['--img-size', '30'], 'img_size 30 is not divisible by the patch size 4'),
    (['--low-res', '18', '--low-res-epochs', '1'], '--low-res 18 is not divisible by the patch size 4'),
    (['--low-res', '16'], '--low-res and --low-res-epochs go together'),
    (['--mpp', 'mean_colour', '--mixup', '0.8'], 'without labels'),
    (['--train-size', '5000'], '--train-size 5000 must leave between 1 and'),
    (['--val-size', '10000'], '--val-size 10000 must leave between 1 and 47 of the 48'),
    (['--batch-size', '4096'], 'fewer than one batch of 4096')])
def test_settings_that_cannot_train(case, argv, says):
    refused(case, ['train', '--data', case/'data', '--val-size', '8', *argv, '--out', case/'new'], says)
    assert not (case/'new').exists() or not list((case/'new').rglob('step-*'))

# --- data ---

def test_data_folder_missing_or_empty_or_one_class(case):
    refused(case, ['train', '--data', case/'nothing', '--out', case/'new'], 'does not exist', '<class>/<image>.jpg')
    (case/'empty'/'a').mkdir(parents=True)
    refused(case, ['train', '--data', case/'empty', '--out', case/'new'], 'No images found')
    refused(case, ['train', '--data', case/'data'/'red', '--out', case/'new'], 'No images found', '0 class folders')
    shutil.copytree(case/'data'/'red', case/'one'/'red')
    refused(case, ['train', '--data', case/'one', '--out', case/'new'], 'a classifier needs two or more', '--mpp')

def test_corrupt_image_in_the_data(case):
    (case/'data'/'red'/'0.png').write_bytes(b'\x89PNG not really')
    refused(case, ['train', '--data', case/'data', *TINY, '--out', case/'new'], 'Cannot read image file',
            '0.png', 'Remove or replace it')

def test_nan_pixels_in_a_float_tiff(case):
    a = np.full((32, 32), 0.5, np.float32)
    a[:3] = np.nan
    Image.fromarray(a).save(case/'data'/'red'/'nan.tiff')
    refused(case, ['train', '--data', case/'data', *TINY, '--cache', '--out', case/'new'],  # --cache: read at once
            'nan.tiff', '96 of 1024 values are not finite (96 NaN, 0 infinite)')

@pytest.mark.parametrize('change,says', [
    (lambda d: Image.new('RGB', (32, 32)).save(d/'red'/'new.png'), '48 -> 49 images (red 24 -> 25)'),
    (lambda d: (d/'blue'/'3.png').unlink(), '48 -> 47 images (blue 24 -> 23)'),
    (lambda d: Image.new('RGB', (32, 32)).save(d/'red'/'5.png'), 'renamed, replaced or resized')])
def test_data_changed_since_the_run(case, change, says):
    change(case/'data')
    refused(case, ['evaluate', case/'run'], 'The data changed since the run', says, '--data FOLDER')
    refused(case, train_args(case, '--resume'), 'The data changed since the run started', says, 'finetune --init')

def test_data_changed_but_evaluated_as_other_data(case, capsys):
    Image.new('RGB', (32, 32)).save(case/'data'/'red'/'new.png')
    main(['evaluate', str(case/'run'), '--data', str(case/'data')])  # all images of a folder: allowed
    res = json.loads(capsys.readouterr().out)
    assert res['split'] == 'all' and res['images'] == 49

def test_classes_renamed(case):
    (case/'data'/'red').rename(case/'data'/'green')
    refused(case, ['evaluate', case/'run'], 'not the same task')
    refused(case, train_args(case, '--resume'), "The data's classes changed")

def test_run_saved_before_fingerprints_still_evaluates(case, capsys):
    for cfg in (case/'run'/'checkpoints').glob('step-*/config.json'):
        meta = json.loads(cfg.read_text())
        del meta['data_fingerprint']
        cfg.write_text(json.dumps(meta))
    main(['evaluate', str(case/'run')])
    out = capsys.readouterr()
    assert json.loads(out.out)['images'] == 8 and "before runs recorded their data's fingerprint" in out.err

# --- the run folder and its checkpoints ---

def test_resume_without_a_run_or_over_a_run(case):
    refused(case, train_args(case, '--out', case/'none', '--resume'), 'No run to resume')
    refused(case, train_args(case), 'already holds a run', '--resume')

def test_resume_without_train_state(case):
    (latest(case)/'train_state.pt').unlink()
    refused(case, train_args(case, '--resume'), 'train_state.pt is missing', 'vit-nbdev finetune --init')

def test_resume_with_other_settings(case):
    refused(case, train_args(case, '--resume', '--lr', '0.1'), "'lr': (0.002, 0.1)")

def test_truncated_weights(case):
    w = latest(case)/'model.safetensors'
    w.write_bytes(w.read_bytes()[:1000])
    refused(case, ['evaluate', case/'run'], 'model.safetensors is corrupt or truncated', 'earlier checkpoint')
    refused(case, ['export', case/'run', case/'out'], 'corrupt or truncated')
    refused(case, train_args(case, '--resume'), 'corrupt or truncated')

@pytest.mark.parametrize('text', [b'null', b'[1, 2]', b'{"model": null}', b'not json', b'{"model": {"depth": -1}}',
                                  b'\x00\xff\xfe', b''])
def test_config_json_not_a_config(case, text):
    (latest(case)/'config.json').write_bytes(text)
    refused(case, ['evaluate', case/'run'], 'config.json is corrupt or not a vit_nbdev config')

def test_config_and_weights_disagree(case):
    cfg = latest(case)/'config.json'
    meta = json.loads(cfg.read_text())
    meta['model']['depth'] = 2
    cfg.write_text(json.dumps(meta))
    refused(case, ['evaluate', case/'run'], 'config.json and weights disagree', 'blocks.2')

def test_latest_points_nowhere(case):
    (case/'run'/'checkpoints'/'latest').write_text('step-99999999')
    refused(case, ['evaluate', case/'run'], "names 'step-99999999', which is no checkpoint of this run", 'The newest')

def test_damaged_optimizer_state_only_matters_to_resume(case, capsys):
    ts = latest(case)/'train_state.pt'
    ts.write_bytes(ts.read_bytes()[:100])
    refused(case, train_args(case, '--resume'), 'train_state.pt is corrupt or truncated')
    capsys.readouterr()
    main(['evaluate', str(case/'run')])
    out = capsys.readouterr()
    assert json.loads(out.out)['val_acc'] >= 0 and 'train_state.pt is damaged' in out.err
    main(['export', str(case/'run'), str(case/'exported')])
    assert (case/'exported'/'model.safetensors').is_file()
    main(['finetune', '--init', str(case/'run'), '--data', str(case/'data'), *TINY, '--out', str(case/'ft')])
    assert ck.RunFolder(case/'ft').latest() is not None

class Payload:
    "A pickle that would create a file when unpickled by a loader that runs code."
    def __init__(self, path): self.path = path
    def __reduce__(self): return (os.system, (f'touch {self.path}',))

def test_malicious_pickles_are_never_run(case):
    torch.save({'step': 1, 'x': Payload(case/'PWNED')}, latest(case)/'train_state.pt')
    refused(case, train_args(case, '--resume'), 'holds objects other than tensors', 'it was not loaded')
    torch.save({'model': Payload(case/'PWNED')}, case/'weights.pth')
    with pytest.raises(ValueError, match='Cannot read'): ck.load_state(case/'weights.pth')
    assert not (case/'PWNED').exists()

def test_out_is_a_file(case):
    (case/'notes.txt').write_text('my notes')
    refused(case, train_args(case, '--out', case/'notes.txt'), 'is a file, not a folder')

def test_read_only_file_system(case, monkeypatch):
    def read_only(path, mode='r', *a, **k):
        if set(mode) & set('wax+'): raise OSError(errno.EROFS, 'Read-only file system', str(path))
        return open(path, mode, *a, **k)
    monkeypatch.setattr(ck, 'open', read_only, raising=False)  # injected: CI runs as root, permissions cannot fail
    refused(case, train_args(case, '--out', case/'new'), 'the file system is read-only',
            'Choose a folder you can write to')
    assert not (case/'new'/'checkpoints').exists()

def test_too_little_free_space(case, monkeypatch):
    usage = shutil._ntuple_diskusage(10 * 2**20, 10 * 2**20, 2**20)  # 1 MB free, injected
    monkeypatch.setattr(ck.shutil, 'disk_usage', lambda p: usage)
    refused(case, train_args(case, '--out', case/'new'), 'a checkpoint of this run needs about 18 MB', '1 MB are free')

def test_disk_fills_while_saving(case, monkeypatch):
    def full(*a, **k): raise OSError(errno.ENOSPC, 'No space left on device')
    monkeypatch.setattr(ck, 'save_file', full)
    refused(case, train_args(case, '--out', case/'new'), 'the disk is full. It needs about 18 MB')
    assert not list((case/'new'/'checkpoints').glob('.*')) and not list((case/'new'/'checkpoints').glob('step-*'))

def test_disk_fills_while_resuming(case, monkeypatch):
    "Every write fails: the run's checkpoints, metrics and `latest` stay as they were."
    rf = ck.RunFolder(case/'run')
    first, last = sorted(rf.checkpoints.glob('step-*'))
    (rf.checkpoints/'latest').write_text(first.name)  # back to step 1, as if killed
    shutil.rmtree(last)
    def full(*a, **k): raise OSError(errno.ENOSPC, 'No space left on device')
    def no_writes(path, mode='r', *a, **k):
        if set(mode) & set('wx') or mode.startswith('a') and Path(path).name != '.lock': full()
        return open(path, mode, *a, **k)
    monkeypatch.setattr(ck, 'save_file', full)
    monkeypatch.setattr(ck, 'open', no_writes, raising=False)
    refused(case, train_args(case, '--resume'), 'the disk is full', 'what was written before is intact')
    assert rf.latest() == first and not list(rf.checkpoints.glob('.*'))

# --- export, evaluate and fine-tune given the wrong things ---

@pytest.mark.parametrize('dest', ['run', '.', 'run/checkpoints', 'run/metrics.csv', 'notes.txt', 'mine'])
def test_export_never_replaces_what_is_not_an_export(case, monkeypatch, dest):
    (case/'notes.txt').write_text('my notes')
    (case/'mine').mkdir()
    (case/'mine'/'thesis.tex').write_text('three years of work')
    monkeypatch.chdir(case)
    msg = refused(case, ['export', case/'run', dest, '--force'], 'export')
    assert 'new folder' in msg or 'Choose a new folder' in msg

def test_export_twice_needs_force(case, capsys):
    main(['export', str(case/'run'), str(case/'out')])
    refused(case, ['export', case/'run', case/'out'], 'holds an earlier export: pass --force')
    main(['export', str(case/'run'), str(case/'out'), '--force'])
    assert sorted(p.name for p in (case/'out').iterdir()) == ['config.json', 'metrics.csv', 'model.safetensors']

@pytest.mark.parametrize('argv,says', [
    (['evaluate', '{case}/run', '--test'], 'has no official test split'),
    (['evaluate', '{case}/data'], 'No checkpoint at'),
    (['finetune', '--data', 'synthetic'], 'finetune needs --init'),
    (['finetune', '--init', '{case}/nothing', '--data', '{case}/data'], 'No checkpoint at')])
def test_commands_given_the_wrong_things(case, argv, says):
    refused(case, [a.format(case=case) for a in argv], says)

# --- the Python API: what a model and the inspection functions are given ---

def test_model_inputs():
    from vit_nbdev.model import create_model
    m = create_model('vit_micro_patch4_32', depth=1).eval()
    x = torch.zeros(2, 3, 32, 32)
    for bad, says in [(x.numpy(), 'torch.from_numpy'), (list(x), 'torch.stack(images)'), (x[:0], 'no images'),
                      (x.double(), 'x.to(torch.float32)'), (x.half(), 'x.to(torch.float32)'), (x[0], 'x[None]'),
                      (x[:, :1], 'in_chans=1'), (x[:, :, :30], 'e.g. 28'), ((x * 255).byte(), 'normalize')]:
        with pytest.raises((TypeError, ValueError), match=None) as e: m(bad)
        assert says in str(e.value), (says, str(e.value))

def test_non_finite_pixels_where_images_enter():
    from vit_nbdev.checkpoint import pretrained
    from vit_nbdev.inspecting import predict, attention_weights
    m, meta = pretrained('cifar10')
    x = torch.zeros(1, 3, 32, 32)
    x[0, 0, :2, :2] = float('nan')
    x[0, 1, 0, 0] = float('inf')
    for f in (lambda: predict(m, x, meta['classes']), lambda: attention_weights(m, x)):
        with pytest.raises(ValueError, match=r'5 of 3072 values are not finite \(4 NaN, 1 infinite\)'): f()

@pytest.mark.parametrize('kw,says', [({'depth': -1}, 'depth must be an integer at least 1, not -1'),
                                     ({'patch_size': 0}, 'patch_size must be an integer at least 1, not 0'),
                                     ({'num_classes': -1}, 'num_classes must be an integer at least 0, not -1'),
                                     ({'num_heads': 3}, 'must be divisible by num_heads 3'),
                                     ({'img_size': 30}, 'img_size 30 is not divisible by the patch size 4')])
def test_create_model_with_impossible_sizes(kw, says):
    from vit_nbdev.model import create_model
    with pytest.raises(ValueError) as e: create_model('vit_micro_patch4_32', **kw)
    assert says in str(e.value)

def test_attention_functions_given_another_grid():
    from vit_nbdev.inspecting import attention_map, mean_attention_distance
    attns = [torch.full((1, 2, 65, 65), 1 / 65)]
    for f in (lambda: attention_map(attns, (14, 14), 0), lambda: mean_attention_distance(attns, (7, 7), 4)):
        with pytest.raises(ValueError, match='are over 65 tokens, but a'): f()

def test_python_config_of_the_wrong_type():
    from vit_nbdev.config import recipe, TrainConfig
    with pytest.raises(ValueError, match=r"--epochs must be an integer at least 1, not '1'"):
        recipe('pretrain', epochs='1')
    with pytest.raises(ValueError, match=r"--lr must be a number above 0, not None"): TrainConfig(lr=None)

def test_resumed_where_bf16_support_differs(case, capsys):
    "A run resumed on a machine whose bf16 support differs says so in its first line."
    from vit_nbdev.train import fast_bf16
    rf = ck.RunFolder(case/'run')
    first, last = sorted(rf.checkpoints.glob('step-*'))
    (rf.checkpoints/'latest').write_text(first.name)
    shutil.rmtree(last)
    state = torch.load(first/'train_state.pt', weights_only=True)
    now = 'bf16' if fast_bf16('cpu') else 'fp32'
    state['precision'] = {'bf16': 'fp32', 'fp32': 'bf16'}[now]  # as if started on the other kind of machine
    torch.save(state, first/'train_state.pt')
    capsys.readouterr()
    main([str(a) for a in train_args(case, '--resume')])
    line = capsys.readouterr().out.splitlines()[0]
    assert f"in {now} (resuming at step 1); NOTE: the run went on in {state['precision']} until now" in line, line
    assert 'results will differ from an uninterrupted run' in line
