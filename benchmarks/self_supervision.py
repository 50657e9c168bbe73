"""Few labels: masked patch prediction pre-training against training from scratch and supervised pre-training (section 4.6).

1. Pre-train with masked patch prediction (`vit-nbdev train --mpp mean_colour`) on the training split, labels unused.
2. Fine-tune on a small labelled part of that split (`--train-size`), three times with the same command and budget:
   from the MPP checkpoint, from scratch, and from a supervised checkpoint (by default the one that ships with the
   package, trained on the whole labelled training split of CIFAR-10 with the same seed, so the same validation images).
The table reports validation accuracy on the held-out split (the paper: self-supervision helps, supervised
pre-training helps more).

    python benchmarks/self_supervision.py --data data/train --cache --labelled 5000
"""
import argparse, csv, shutil, subprocess, sys, time
from pathlib import Path

CLI = str(Path(sys.executable).parent/'vit-nbdev')

def run(cmd):
    print('vit-nbdev ' + ' '.join(cmd), flush=True)
    t = time.time(); subprocess.run([CLI, *cmd], check=True, stderr=subprocess.DEVNULL); return time.time() - t

def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--data', default='data/train'); p.add_argument('--cache', action='store_true')
    p.add_argument('--val-size', default='5000'); p.add_argument('--labelled', default='5000', help='labelled training images')
    p.add_argument('--mpp-epochs', type=int, default=8); p.add_argument('--ft-epochs', type=int, default=20)
    p.add_argument('--supervised', default='', help='a supervised checkpoint (default: the shipped CIFAR-10 one)')
    p.add_argument('--out', default='runs/bench-ssl')
    a = p.parse_args()
    from vit_nbdev.checkpoint import pretrained_path
    supervised = a.supervised or str(pretrained_path('cifar10'))
    shutil.rmtree(a.out, ignore_errors=True)
    common = ['--data', a.data, '--val-size', a.val_size, '--model', 'vit_micro_patch4_32', '--batch-size', '128',
              '--weight-decay', '0.05', '--warmup', '1', '--crop', 'pad', '--drop-rate', '0'] + (['--cache'] if a.cache else [])
    mpp_min = run(['train', *common, '--mpp', 'mean_colour', '--epochs', str(a.mpp_epochs), '--lr', '2e-3',
                   '--schedule', 'linear', '--out', f'{a.out}/mpp']) / 60
    ft = ['--train-size', a.labelled, '--epochs', str(a.ft_epochs), '--optimizer', 'adamw', '--lr', '1e-3',
          '--schedule', 'cosine', '--label-smoothing', '0.1']
    rows = []
    for name, cmd in [('none (from scratch)', ['train']), ('masked patch prediction, no labels', ['finetune', '--init', f'{a.out}/mpp']),
                      ('supervised, all training labels', ['finetune', '--init', supervised])]:
        out = f"{a.out}/ft-{name.split()[0].strip(',')}"
        minutes = run([*cmd, *common, *ft, '--out', out]) / 60
        h = list(csv.DictReader(open(f'{out}/metrics.csv')))
        rows.append((name, 100 * float(h[-1]['val_acc']), minutes))
    mpp = list(csv.DictReader(open(f'{a.out}/mpp/metrics.csv')))
    curve = ' '.join(f"{100 * float(r['val_acc']):.1f}" for r in mpp)
    print(f"\nMPP pre-training: {a.mpp_epochs} epochs, {mpp_min:.1f} min; held-out colour accuracy by epoch (%): {curve}")
    print(f"\n| pre-training | fine-tuned on | val acc (%) | fine-tuning (min) |\n|---|---|---|---|")
    for name, acc, minutes in rows: print(f"| {name} | {a.labelled} labelled images | {acc:.2f} | {minutes:.1f} |")

if __name__ == '__main__': main()
