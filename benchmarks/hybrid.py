"""Hybrid against plain ViT at an equal small compute budget (section 4.1: hybrids win at small budgets).

Both models are the micro ViT (D=128, L=8, 4 heads) with 64 tokens at 32 px: `vit_micro_patch4_32` makes them from
4x4 pixel patches, `vit_micro_r_s4_32` from the 1x1 patches of a ResNet root (7x7 conv + max-pool, stride 4). The
same `vit-nbdev train` command and epochs for both; the table reports validation accuracy, training images/s and wall
time, so the compute each used is on the page. One run after the other, on the same machine.

    python benchmarks/hybrid.py --data data/train --cache --epochs 4
"""
import argparse, csv, shutil, subprocess, sys, time
from pathlib import Path

CLI = str(Path(sys.executable).parent/'vit-nbdev')

def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--data', default='data/train'); p.add_argument('--cache', action='store_true')
    p.add_argument('--val-size', default='5000'); p.add_argument('--epochs', type=int, default=4)
    p.add_argument('--batch-size', type=int, default=128); p.add_argument('--out', default='runs/bench-hybrid')
    a = p.parse_args()
    shutil.rmtree(a.out, ignore_errors=True)
    rows = []
    for model in ('vit_micro_patch4_32', 'vit_micro_r_s4_32'):
        cmd = [CLI, 'train', '--data', a.data, '--val-size', a.val_size, '--model', model, '--epochs', str(a.epochs),
               '--batch-size', str(a.batch_size), '--lr', '2e-3', '--weight-decay', '0.05', '--warmup', '1',
               '--schedule', 'linear', '--label-smoothing', '0.1', '--crop', 'pad', '--drop-rate', '0',
               '--out', f'{a.out}/{model}'] + (['--cache'] if a.cache else [])
        print(' '.join(cmd[1:]), flush=True)
        t = time.time(); subprocess.run(cmd, check=True, stderr=subprocess.DEVNULL); wall = time.time() - t
        h = list(csv.DictReader(open(f'{a.out}/{model}/metrics.csv')))
        rows.append((model, float(h[-1]['val_acc']), [float(r['val_acc']) for r in h],
                     sum(float(r['train_img_per_s']) for r in h) / len(h), wall))
    print(f"\n| model | tokens from | val acc (%) | per epoch (%) | train img/s | wall (min) |\n|---|---|---|---|---|---|")
    for m, acc, curve, ips, wall in rows:
        print(f"| {m} | {'ResNet root, 1x1' if '_r_' in m else '4x4 pixel patches'} | {100 * acc:.2f} | "
              f"{' '.join(f'{100 * c:.1f}' for c in curve)} | {ips:.0f} | {wall / 60:.1f} |")

if __name__ == '__main__': main()
