"""Ship a finished training run inside the package: its weights (the average, with --ema), config and metrics.csv.

The config also says what the run cost, so a shipped model tells how it was made: the whole command (with the
launcher it ran under), its training FLOPs (`run_flops`: per image at each resolution, on the explicit attention
path), the images it trained on, its training minutes and the machines of each sitting. The optimizer state stays
behind. Paths are written as the README lays them out: the data `data/train`, the run `runs/NAME`.

    python tools/ship.py ~/runs/c10-cls4x cifar10 --machines ~/runs/sittings.txt \\
        --launcher "OMP_NUM_THREADS=1 torchrun --standalone --nproc_per_node=2"
    python tools/ship.py RUN NAME --dry-run    # print the config it would write; an unfinished run is allowed
"""
import argparse, csv, json
from dataclasses import fields, replace
from pathlib import Path
from vit_nbdev.checkpoint import check_export_dest, latest_checkpoint, load_checkpoint, pretrained_path, save_checkpoint
from vit_nbdev.config import TrainConfig, saved_settings
from vit_nbdev.flops import run_flops
from vit_nbdev.train import Classification, new_model

DATA = ('data/train', 'data')  # the shipped configs' data and data_root, as the README lays the images out

def cost(meta:dict, rows:list) -> dict:
    "Training FLOPs, images seen and minutes of a run, from its settings and its metrics.csv."
    settings = saved_settings(meta)
    cfg = TrainConfig(**{k: v for k, v in settings.items() if k in {f.name for f in fields(TrainConfig)}})
    world, spe = meta.get('world', 1), int(rows[0]['step'])
    n_train = spe * cfg.batch_size * world  # exactly the images of an epoch: steps_per_epoch gives spe back
    done = replace(cfg, epochs=len(rows))  # the epochs trained (an epoch's resolution depends on its number alone)
    work = run_flops(Classification(new_model(cfg, len(meta['classes'])), token_drop=cfg.token_drop), done, n_train,
                     world)
    return {'flops': work['flops'], 'images_seen': sum(work['images'].values()),
            'train_minutes': round(sum(float(r['epoch_time_s']) for r in rows) / 60, 1),
            'val_acc': float(rows[-1]['val_acc']), 'epochs': len(rows)}

def shipped_meta(meta:dict, rows:list, launcher:str, machines:list) -> dict:
    "The run's meta with its data path as shipped, its whole command, and what it cost."
    data, root, out = (meta['train'][k] for k in ('data', 'data_root', 'out'))
    runs = f'runs/{Path(out).name}'  # where the README's commands keep runs
    train = {**meta['train'], 'data': DATA[0], 'data_root': DATA[1], 'out': runs}
    command = f"{launcher} {meta['command']}".strip().replace(data, DATA[0]).replace(out, runs)
    return {**meta, 'train': train, 'command': command, 'cost': cost(meta, rows), 'machines': machines,
            'data': 'the 50,000 CIFAR-10 training images as JPEGs in ImageFolder layout (tar xf '
                    f'cifar10-train-jpg.tar -C data); trained from {data} (data_root {root})'}

def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('run', type=Path)
    p.add_argument('name', help="the shipped checkpoint's name (vit_nbdev/weights/NAME)")
    p.add_argument('--launcher', default='', help='what ran `vit-nbdev train` (torchrun and its environment)')
    p.add_argument('--machines', type=Path, help='a file of one line per sitting (the machine it ran on)')
    p.add_argument('--dry-run', action='store_true')
    a = p.parse_args()
    model, meta, _ = load_checkpoint(latest_checkpoint(a.run), need_state=False)
    rows = list(csv.DictReader((a.run/'metrics.csv').open()))
    if len(rows) != meta['train']['epochs'] and not a.dry_run:
        raise SystemExit(f"{a.run} has trained {len(rows)} of its {meta['train']['epochs']} epochs: ship a finished "
                         "run.")
    machines = a.machines.read_text().splitlines() if a.machines else [meta['machine']]
    out = shipped_meta(meta, rows, a.launcher, machines)
    if a.dry_run: return print(json.dumps({k: v for k, v in out.items() if k != 'classes'}, indent=1))
    dest = pretrained_path(a.name)
    check_export_dest(a.run, dest, force=True)  # only ever replaces an earlier export
    save_checkpoint(dest, model, out, files=[a.run/'metrics.csv'])
    c = out['cost']
    print(f"{dest}: {100 * c['val_acc']:.2f}% validation, {c['flops'] / 1e15:.3f} PFLOPs, {c['images_seen']:,} images, "
          f"{c['train_minutes']} training minutes")

if __name__ == '__main__': main()
