"""A run folder knows itself, runs stop cleanly, and versions are named (issue "Nothing lost, round three", parts 1,
2 and 4). In-process like tests/test_hostile.py (its helpers and its one shared tiny run), except the cases that need
a real process: signals, a closed pipe, a full device."""
import json, os, shutil, signal, subprocess, sys, threading, time
from pathlib import Path
import pytest, torch
from vit_nbdev import checkpoint as ck
from vit_nbdev.cli import main
from vit_nbdev.train import Classification
from test_hostile import TINY, shared, case, refused, snapshot, train_args, latest  # noqa: F401 (fixtures)
from conftest import CLI

# --- part 1: a new run claims only a missing or empty folder; everything else is refused by what it is ---

def test_train_over_an_export(case):
    main(['export', str(case/'run'), str(case/'exported')])
    refused(case, train_args(case, '--out', case/'exported'), 'is an exported checkpoint',
            'A run never writes into an export')
    refused(case, train_args(case, '--out', case/'exported', '--resume'), 'No run to resume')

def test_train_into_an_empty_out(case):
    refused(case, train_args(case, '--out', ''), "path is empty (an unset variable?)")

def test_train_into_a_folder_of_files(case):
    (case/'mine').mkdir()
    (case/'mine'/'metrics.csv').write_text('my own metrics')
    refused(case, train_args(case, '--out', case/'mine'), "is not empty (it holds ['metrics.csv'])")

def test_checkpoints_without_latest(case):
    (case/'run'/'checkpoints'/'latest').unlink()
    (case/'run'/'run.json').unlink(missing_ok=True)
    newest = sorted((case/'run'/'checkpoints').glob('step-*'))[-1].name
    refused(case, train_args(case), "without their 'latest' pointer", f'echo {newest} >')
    refused(case, train_args(case, '--resume'), 'No run to resume', f'The newest checkpoint there is {newest}')

@pytest.mark.parametrize('pointer', ['../../other/checkpoints/step-00000001', '/tmp', 'step-1', ''])
def test_latest_that_leads_out_of_the_run(case, pointer):
    shutil.copytree(case/'run', case/'other')
    (case/'run'/'checkpoints'/'latest').write_text(pointer)
    refused(case, ['evaluate', case/'run'], 'which is no checkpoint of this run', 'The newest checkpoint there is')
    refused(case, ['export', case/'run', case/'out'], 'which is no checkpoint of this run')

def test_step_linked_to_another_run(case):
    shutil.copytree(case/'run', case/'other')
    (case/'run'/'checkpoints'/'step-00000009').symlink_to(case/'other'/'checkpoints'/'step-00000001')
    (case/'run'/'checkpoints'/'latest').write_text('step-00000009')
    refused(case, ['evaluate', case/'run'], 'which is no checkpoint of this run')

def test_out_inside_the_data(case):
    refused(case, train_args(case, '--out', case/'data'/'run'), 'lies inside --data', 'outside the data folder')

def test_run_json_damaged(case):
    (case/'run'/'run.json').write_text('{"not": "a run"}')
    refused(case, train_args(case, '--resume'), 'run.json is damaged', 'Restore it')

def test_folder_removed_under_a_running_run(tmp_path, capsys):
    "The folder goes away (and comes back empty) while the run trains: it stops, writing nothing into the new one."
    from vit_nbdev.config import TrainConfig
    from vit_nbdev.train import load_data, new_model, train
    class RemovesItsFolder(Classification):
        def forward(self, x, y):
            if not hasattr(self, 'n'): self.n = 0
            self.n += 1
            if self.n == 2:
                shutil.rmtree(tmp_path/'run')
                (tmp_path/'run').mkdir()
            return super().forward(x, y)
    cfg = TrainConfig(data='synthetic', train_size=64, epochs=1, batch_size=16, checkpoint_every=1,
                      out=str(tmp_path/'run'))
    with pytest.raises(ck.RunFolderLost, match='no longer the folder this run claimed'):
        train(RemovesItsFolder(new_model(cfg, 4)), load_data(cfg), cfg, ck.RunFolder(cfg.out), progress=False)
    assert list((tmp_path/'run').iterdir()) == []
    run = ck.RunFolder(tmp_path/'run')
    run.claim()  # free: the stopped run let it go
    run.release()

# --- part 4: versions ---

def test_checkpoint_from_a_newer_format(case):
    cfg = latest(case)/'config.json'
    meta = json.loads(cfg.read_text())
    assert meta['format'] == ck.FORMAT and meta['vit_nbdev'] == ck.__version__
    cfg.write_text(json.dumps({**meta, 'format': ck.FORMAT + 1, 'vit_nbdev': '9.9'}))
    refused(case, ['evaluate', case/'run'], f'written by vit_nbdev 9.9 (format {ck.FORMAT + 1})', 'upgrade')
    refused(case, train_args(case, '--resume'), 'upgrade vit_nbdev')

def test_run_from_a_newer_format(case):
    marker = case/'run'/'run.json'
    run = json.loads(marker.read_text())
    marker.write_text(json.dumps({**run, 'format': ck.FORMAT + 1, 'vit_nbdev': '9.9'}))
    refused(case, train_args(case, '--resume'), 'run.json was written by vit_nbdev 9.9', 'upgrade')

def test_unknown_model_setting(case):
    cfg = latest(case)/'config.json'
    meta = json.loads(cfg.read_text())
    meta['model']['layer_scale'] = 1e-5
    cfg.write_text(json.dumps(meta))
    refused(case, ['evaluate', case/'run'], 'does not know', "'layer_scale'")

def test_unknown_training_setting_is_never_dropped(case):
    for cfg in (case/'run'/'checkpoints').glob('step-*/config.json'):
        meta = json.loads(cfg.read_text())
        meta['train']['lookahead'] = 5
        cfg.write_text(json.dumps(meta))
    refused(case, train_args(case, '--resume'), "does not know: ['lookahead']", 'upgrade vit_nbdev')

def test_a_run_from_before_markers_resumes(case, capsys):
    "Run folders written before run.json existed resume; the marker is written then."
    (case/'run'/'run.json').unlink()
    rf = ck.RunFolder(case/'run')
    first, last = sorted(rf.checkpoints.glob('step-*'))
    (rf.checkpoints/'latest').write_text(first.name)
    shutil.rmtree(last)
    main([str(a) for a in train_args(case, '--resume')])
    assert json.loads((case/'run'/'run.json').read_text())['format'] == ck.FORMAT

# --- part 2: interrupted cleanly ---

def test_ctrl_c_then_resume_exactly(case, shared, monkeypatch, capsys):
    "Ctrl-C at step 2: one line, exit 130; resumed with that line's command: the same weights as the run never stopped."
    (case/'run2').mkdir()
    forward = Classification.forward
    calls = []
    def ctrl_c_at_step_2(self, x, y):
        calls.append(1)
        if len(calls) == 2: raise KeyboardInterrupt
        return forward(self, x, y)
    monkeypatch.setattr(Classification, 'forward', ctrl_c_at_step_2)
    args = [str(a) for a in train_args(case, '--out', case/'run2')]
    with pytest.raises(SystemExit) as e: main(args)
    out = capsys.readouterr()
    assert e.value.code == 130 and 'Traceback' not in out.err
    line = out.out.strip().splitlines()[-1]
    assert line.startswith('Interrupted. The last checkpoint is') and 'step-00000001' in line, line
    monkeypatch.setattr(Classification, 'forward', forward)
    again = line.split('to resume: ')[1].split()
    assert again[0] == 'vit-nbdev' and again[-1] == '--resume'
    main(again[1:])
    final = lambda run: (run/'checkpoints'/(run/'checkpoints'/'latest').read_text())/'model.safetensors'
    assert final(case/'run2').read_bytes() == final(shared/'run').read_bytes()

def start(out:Path, data:Path, **kw) -> subprocess.Popen:
    env = {**os.environ, 'OMP_NUM_THREADS': '1', 'PYTHONUNBUFFERED': '1'}
    return subprocess.Popen([CLI, 'train', '--data', str(data), *TINY, '--epochs', '200', '--out', str(out)],
                            env=env, text=True, **kw)

def wait_for_checkpoint(out:Path, p:subprocess.Popen):
    deadline = time.time() + 300
    while not (out/'checkpoints'/'latest').exists() and time.time() < deadline and p.poll() is None: time.sleep(0.1)
    assert p.poll() is None, 'the run ended before its first checkpoint'

@pytest.mark.parametrize('sig,code', [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_signals_end_with_one_line(shared, tmp_path, sig, code):
    p = start(tmp_path/'run', shared/'data', stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        wait_for_checkpoint(tmp_path/'run', p)
        p.send_signal(sig)
        out, err = p.communicate(timeout=120)
    finally: p.kill()
    assert p.returncode == code and 'Traceback' not in err, (p.returncode, err[-2000:])
    assert out.strip().splitlines()[-1].startswith('Interrupted. The last checkpoint is'), out[-500:]
    assert '--resume' in out.strip().splitlines()[-1]

@pytest.mark.parametrize('where', ['closed pipe', '/dev/full'])
def test_output_that_cannot_be_written_costs_no_checkpoint(shared, tmp_path, where):
    "stdout a pipe nobody reads any more (`| head -1`), or a full device: training and its checkpoints go on."
    env = {**os.environ, 'OMP_NUM_THREADS': '1'}
    argv = [CLI, 'train', '--data', str(shared/'data'), *TINY, '--out', str(tmp_path/'run')]
    if where == '/dev/full':
        with open('/dev/full', 'w') as full: r = subprocess.run(argv, stdout=full, stderr=subprocess.PIPE, env=env,
                                                                 text=True, timeout=300)
        rc, err = r.returncode, r.stderr
    else:
        p = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, text=True)
        p.stdout.close()  # as `| head -0` does
        err = p.stderr.read()
        rc = p.wait(timeout=300)
    assert rc == 0 and 'Traceback' not in err, err[-2000:]
    assert ck.RunFolder(tmp_path/'run').latest().name == 'step-00000002'

# --- part 5: what was unclear now says what is wrong and loses nothing ---

def test_predict_goes_past_a_bad_image(case, capsys):
    from PIL import Image
    good = sorted((case/'data'/'blue').glob('*.png'))[:3]
    (case/'cut.png').write_bytes(good[0].read_bytes()[:60])
    msg = refused(case, ['predict', *good[:2], case/'cut.png', good[2], '--model', case/'run'], 'cut.png: Cannot read',
                  'as an image')
    out = [l for l in capsys.readouterr().out.splitlines() if not l.startswith('message:')]  # refused() prints that
    assert [l.split(':')[0] for l in out] == [str(good[0]), str(good[1]), str(good[2])], out
    assert msg.count('error:') == 1

@pytest.mark.parametrize('argv,says', [(['predict', 'chelsea', '--top', '0'], '--top must be an integer at least 1'),
                                       (['evaluate', '{case}/run', '--batch-size', '0'], '--batch-size must be')])
def test_sizes_of_zero(case, argv, says):
    refused(case, [a.format(case=case) for a in argv], says)

def test_an_image_too_large_to_decode(case):
    from PIL import Image
    Image.new('1', (20000, 20000)).save(case/'huge.png')
    refused(case, ['predict', case/'huge.png'], 'huge.png as an image (DecompressionBombError')

def test_animated_gif_tiny_image_and_exif_rotation(case, capsys):
    from PIL import Image
    from vit_nbdev.images import load_image
    frames = [Image.new('RGB', (32, 32), c) for c in ('red', 'blue')]
    frames[0].save(case/'anim.gif', save_all=True, append_images=frames[1:])
    Image.new('RGB', (1, 1), 'red').save(case/'dot.png')
    main(['predict', str(case/'anim.gif'), str(case/'dot.png')])
    err = capsys.readouterr().err
    assert 'anim.gif has 2 frames (an animation?); the first is used' in err and 'dot.png is 1x1 pixels' in err
    im = Image.new('RGB', (40, 20), 'red')
    exif = im.getexif()
    exif[0x0112] = 6  # "rotate 90 degrees clockwise to display"
    im.save(case/'turned.jpg', exif=exif)
    assert tuple(load_image(case/'turned.jpg', size=None).shape) == (3, 40, 20)  # as a photo viewer shows it

@pytest.mark.parametrize('names,says', [(['../../evil.ipynb'], "No course notebook '../../evil.ipynb'"),
                                        (['index.ipynb'], "No course notebook 'index.ipynb'")])
def test_exercises_never_write_outside_out(case, names, says):
    refused(case, ['exercises', case/'class', '--notebooks', *names], says)
    assert not (case/'class').exists()

def test_exercises_into_a_file(case):
    (case/'notes.txt').write_text('mine')
    refused(case, ['exercises', case/'notes.txt'], 'notes.txt is a file')

@pytest.mark.parametrize('name', ['', '../..', 'weights', 'cifar10/../cifar10'])
def test_pretrained_names_only_the_shipped_ones(name):
    with pytest.raises(FileNotFoundError, match="No shipped checkpoint .*available: \\['cifar10'"): ck.pretrained(name)

def test_from_pretrained_on_a_run_folder(case):
    from vit_nbdev.published import from_pretrained
    m = from_pretrained(case/'run', log=lambda *a: None)
    want = ck.load_checkpoint(latest(case), need_state=False)[0].state_dict()
    assert all(torch.equal(v, want[k]) for k, v in m.state_dict().items())

def test_predict_with_a_masked_patch_prediction_run(case):
    main([str(a) for a in train_args(case, '--out', case/'mpp', '--mpp', 'mean_colour', '--drop-rate', '0')])
    refused(case, ['predict', 'chelsea', '--model', case/'mpp'], 'pre-trained with masked patch prediction',
            'Fine-tune it first')

@pytest.mark.parametrize('dest', ['link', 'notes.txt/out'])
def test_export_onto_a_link_or_under_a_file_leaves_nothing(case, dest):
    (case/'notes.txt').write_text('mine')
    (case/'link').symlink_to(case/'nowhere')
    refused(case, ['export', case/'run', case/dest], 'export into')
    assert sorted(p.name for p in case.iterdir()) == ['data', 'link', 'notes.txt', 'run']

def test_export_to_the_longest_name(case):
    name = 'x' * 250
    main(['export', str(case/'run'), str(case/name)])
    assert (case/name/'model.safetensors').is_file() and not list(case.glob('.*tmp'))

def test_two_exports_at_once(case):
    "Four `export --force` onto one folder at once: it ends whole, each one done or told why, no temporary left."
    main(['export', str(case/'run'), str(case/'out')])
    results = []
    def one():
        try: results.append(ck.export(case/'run', case/'out', force=True))
        except FileExistsError as e: results.append(str(e))
    threads = [threading.Thread(target=one) for _ in range(4)]
    for t in threads: t.start()
    for t in threads: t.join()
    assert all(r == case/'out' or 'at the same time' in r for r in results), results
    ck.load_checkpoint(case/'out', need_state=False)  # complete
    assert not [p.name for p in case.iterdir() if p.name.startswith('.')]

def test_a_killed_exports_temporary_is_cleared(case):
    "A temporary whose writer is gone (killed mid-export) is removed by the next write beside it."
    p = subprocess.Popen([sys.executable, '-c', 'pass'])
    p.wait()  # its process id is now free: the writer is gone
    stale = case/f'.out.{p.pid}-0123abcd.tmp'
    stale.mkdir()
    (stale/'model.safetensors').write_bytes(b'half')
    main(['export', str(case/'run'), str(case/'out')])
    assert not stale.exists() and (case/'out'/'model.safetensors').is_file()

# --- part 3 wired into runs: the split and the data's path ---

def split_of(case:Path) -> str: return json.loads((latest(case)/'config.json').read_text())['train']['val_split']

def test_new_runs_split_each_class_and_record_it(case):
    assert split_of(case) == 'stratified'

def test_a_run_from_before_stratified_splits_keeps_its_split(case, capsys):
    "A run saved without val_split was split at random: evaluated so; resumed only with --val-split random."
    for cfg in (case/'run'/'checkpoints').glob('step-*/config.json'):
        meta = json.loads(cfg.read_text())
        del meta['train']['val_split']
        cfg.write_text(json.dumps(meta))
    main(['evaluate', str(case/'run')])
    assert json.loads(capsys.readouterr().out)['images'] == 8
    refused(case, train_args(case, '--resume'), "'val_split': ('random', 'stratified')", "--val-split random")
    main([str(a) for a in train_args(case, '--resume', '--val-split', 'random')])

def test_data_written_with_a_slash_resumes(case):
    args = [str(a) for a in train_args(case, '--resume')]
    args[2] += '/'  # --data DATA/: the same folder
    main(args)

def test_evaluate_and_resume_from_another_folder(case, monkeypatch, capsys):
    "A run made with a relative --data records the folder's full path: evaluated and resumed from anywhere."
    monkeypatch.chdir(case)
    main(['train', '--data', 'data', *TINY, '--out', 'rel'])
    assert json.loads((ck.RunFolder(case/'rel').latest()/'config.json').read_text())['train']['data'] == \
        str((case/'data').resolve())
    (case/'elsewhere').mkdir()
    monkeypatch.chdir(case/'elsewhere')
    capsys.readouterr()
    main(['evaluate', str(case/'rel')])
    assert json.loads(capsys.readouterr().out)['images'] == 8
    main(['train', '--data', '../data', *TINY, '--out', '../rel', '--resume'])

def test_a_class_too_small_to_split_is_named(case, capsys):
    (case/'data'/'owl').mkdir()
    shutil.copy(case/'data'/'red'/'0.png', case/'data'/'owl'/'0.png')
    shutil.copy(case/'data'/'red'/'1.png', case/'data'/'owl'/'1.png')
    main([str(a) for a in train_args(case, '--out', case/'new')])
    err = capsys.readouterr().err
    assert 'classes too small to split, kept whole in training: 1 (owl (0 of 2 to validation))' in err, err
