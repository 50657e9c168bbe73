"""The options for small budgets (notebook 10), one at a time and together, at the same training FLOPs: an ablation.

Every row trains vit_micro_patch4_32 with the shipped run's recipe (`pretrained('cifar10')`'s config: AdamW, linear
decay, label smoothing, pad crop, progressive resizing from 16 px) and one change; the epochs are chosen so that each
row's training FLOPs (`run_flops`, counted on the explicit attention path) are the budget's or just below. Rows that
make a step cheaper (token dropping) get more epochs. Each row is a run folder under --out: an interrupted ablation
resumes where it stopped (finished rows are read back, a row cut short resumes exactly). The table and
`results.json` give each row's FLOPs, images seen, wall time and validation accuracy. Run it on an idle machine:

    python benchmarks/recipe.py --data data/train --budget 0.25 --out runs/ablation   # a quarter of the shipped run
    python benchmarks/recipe.py --quick --out /tmp/ablation                             # synthetic data, seconds

DIR is an ImageFolder-layout folder, e.g. the CIFAR-10 training JPEGs (`tar -xf cifar10-train-jpg.tar`: DIR=train).
"""
import argparse, json, time
from dataclasses import fields, replace
from pathlib import Path
import torch
from vit_nbdev.checkpoint import RunFolder, pretrained
from vit_nbdev.config import TrainConfig, saved_settings
from vit_nbdev.train import Classification, new_model, resolution, steps_per_epoch, fast_bf16, machine
from vit_nbdev.flops import run_flops
from vit_nbdev.run import run_training
from vit_nbdev.report import finished

ROWS = {  # name: the options it changes (each row is the shipped recipe plus these)
    'paper': {},
    'mimetic': {'mimetic': True},
    'avg+sincos': {'global_pool': 'avg', 'pos_embed': 'sincos'},
    'ema': {'ema': 0.999},
    'token_drop': {'token_drop': 0.5},
    'all': {'mimetic': True, 'global_pool': 'avg', 'pos_embed': 'sincos', 'ema': 0.999, 'token_drop': 0.5},
    # all but the pooling: the paper's [class] token and learned E_pos, which the analysis notebooks (12, 13) read
    'all_cls': {'mimetic': True, 'ema': 0.999, 'token_drop': 0.5},
}

def shipped_recipe() -> TrainConfig:
    "The settings of the shipped 66.8% run."
    saved = saved_settings(pretrained('cifar10')[1])  # with the split it was made with
    return TrainConfig(**{k: v for k, v in saved.items() if k in {f.name for f in fields(TrainConfig)}})

def with_epochs(cfg:TrainConfig, epochs:int, low_share:float) -> TrainConfig:
    "The recipe stretched or shrunk to `epochs`, keeping the share of them spent below full resolution."
    low = min(max(1, round(epochs * low_share)), epochs - 1) if cfg.low_res else 0
    return replace(cfg, epochs=epochs, low_res_epochs=low, low_res=cfg.low_res if low else 0)  # 1 epoch: full size

def fit_budget(cfg:TrainConfig, budget:float, n_train:int, n_classes:int, low_share:float) -> tuple:
    "The most epochs whose training FLOPs stay within `budget`: (config, its run_flops)."
    torch.manual_seed(0)
    task = Classification(new_model(cfg, n_classes), token_drop=cfg.token_drop)
    per_image = run_flops(task, with_epochs(cfg, 64, low_share), n_train)['per_image']  # every resolution it uses
    def total(epochs):
        c = with_epochs(cfg, epochs, low_share)
        img = steps_per_epoch(n_train, c.batch_size) * c.batch_size
        P, size = task.model.patch_embed.patch_size, task.model.config['img_size']
        return sum(per_image[resolution(e, size, c.low_res, c.low_res_epochs, P)] * img for e in range(epochs))
    epochs = 1
    while total(epochs + 1) <= budget: epochs += 1
    fitted = with_epochs(cfg, epochs, low_share)
    return fitted, run_flops(task, fitted, n_train)

def main():
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--data', default='data/train')
    p.add_argument('--budget', type=float, default=0.25, help="the training FLOPs of each row, as a part of the "
                   "shipped run's")
    p.add_argument('--rows', nargs='+', default=list(ROWS), choices=list(ROWS))
    p.add_argument('--out', default='runs/ablation')
    p.add_argument('--quick', action='store_true', help='synthetic data, a tiny budget: checks the script, not recipes')
    a = p.parse_args()
    base = replace(shipped_recipe(), data=a.data)  # the shipped run's settings, on the data given
    low_share = base.low_res_epochs / base.epochs
    ref = run_flops(Classification(new_model(base, 10)), base, 45_000)['flops']
    if a.quick:  # 96 synthetic images (64 to train on) of 4 shapes, batches of 32: about 4 epochs of the paper row
        base = replace(base, data='synthetic', val_size=0.25, train_size=64, cache=False, batch_size=32)
    n_train, n_classes = (64, 4) if a.quick else (45_000, 10)
    budget = (4 * 2 * 32 * run_flops(Classification(new_model(base, n_classes)), replace(base, epochs=1, low_res=0,
              low_res_epochs=0), n_train)['per_image'][32] if a.quick else a.budget * ref)
    out = Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    cpu = f"{machine()}; trains in {'bf16' if base.bf16 and fast_bf16('cpu') else 'fp32'}"
    print(f"budget per row {budget / 1e15:.4f} PFLOPs ({budget / ref:.3g} x the shipped run's {ref / 1e15:.3f}); "
          f"{cpu}", flush=True)
    results = []
    for name in a.rows:
        cfg = replace(base, **ROWS[name], augment='batch' if not a.quick else 'image')
        cfg, work = fit_budget(cfg, budget, n_train, n_classes, low_share)
        cfg = replace(cfg, out=str(out/name))
        if (h := finished(cfg)) is None:
            t = time.time()
            resume = RunFolder(cfg.out).latest() is not None
            print(f"== {name}: {cfg.epochs} epochs{' (resuming)' if resume else ''}", flush=True)
            h = run_training(replace(cfg, resume=resume), f'benchmarks/recipe.py row {name}', progress=False)
            print(f"   {(time.time() - t) / 60:.1f} min this sitting", flush=True)
        wall = sum(r['epoch_time_s'] for r in h) / 60
        results.append({'row': name, 'options': ROWS[name], 'epochs': cfg.epochs, 'flops': work['flops'],
                        'images': sum(work['images'].values()), 'train_min': wall, 'val_acc': h[-1]['val_acc'],
                        'best_val_acc': max(r['val_acc'] for r in h)})
        (out/'results.json').write_text(json.dumps({'budget_flops': budget, 'shipped_flops': ref, 'machine': cpu,
                                                    'rows': results}, indent=1))
    print("| row | options | epochs | PFLOPs | images seen | training min | val acc % |")
    print("|---|---|---|---|---|---|---|")
    for r in results:
        opts = ', '.join(f'{k}={v}' for k, v in r['options'].items()) or "the shipped recipe"
        print(f"| {r['row']} | {opts} | {r['epochs']} | {r['flops'] / 1e15:.4f} | {r['images']:,} | "
              f"{r['train_min']:.1f} | {100 * r['val_acc']:.2f} |")

if __name__ == '__main__': main()
