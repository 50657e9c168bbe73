"""Training speed on a CPU, by how the cores are used: one process on every core against one single-thread process
per core under torchrun (DDP, the same global batch), and a bigger batch. Interleaved rounds of the same short
`vit-nbdev train` run; one table of training images/s and the ratio to the first layout.

    python benchmarks/processes.py --data data/train --train-size 12800 --rounds 3
"""
import argparse, csv, os, platform, shutil, statistics, subprocess, sys, tempfile
from pathlib import Path
import torch

BIN = Path(sys.executable).parent

def layouts(cores:int, batch:int) -> dict:
    "Name -> (environment, command prefix, batch size per process): the ways to spend `cores` on one run."
    one = ({'OMP_NUM_THREADS': str(cores)}, [str(BIN/'vit-nbdev')])
    ddp = ({'OMP_NUM_THREADS': '1'}, [str(BIN/'torchrun'), '--standalone', f'--nproc_per_node={cores}',
                                      str(BIN/'vit-nbdev')])
    return {f'1 process x {cores} threads, batch {batch}': (*one, batch),
            f'{cores} processes x 1 thread, batch {batch // cores} each (DDP)': (*ddp, batch // cores),
            f'1 process x {cores} threads, batch {2 * batch}': (*one, 2 * batch)}

def run(env:dict, prefix:list, batch:int, args:list, out:Path) -> float:
    "One short training run; its training images/s (all processes together) from its metrics.csv."
    shutil.rmtree(out, ignore_errors=True)
    cmd = prefix + ['train', *args, '--batch-size', str(batch), '--out', str(out)]
    r = subprocess.run(cmd, env={**os.environ, **env}, capture_output=True, text=True)
    if r.returncode: sys.exit(f"{' '.join(cmd)} failed:\n{r.stderr[-3000:]}")
    return float(list(csv.DictReader(open(out/'metrics.csv')))[-1]['train_img_per_s'])

def main():
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--data', default='data/train')
    p.add_argument('--train-size', default='12800', help='images per run (a count, or a fraction of the split)')
    p.add_argument('--rounds', type=int, default=3)
    p.add_argument('--batch-size', type=int, default=128, help='the global batch of the first two layouts')
    p.add_argument('--cores', type=int, default=os.cpu_count())
    p.add_argument('--quick', action='store_true', help='synthetic data, tiny runs: checks the script, not speed')
    a = p.parse_args()
    data = ['--data', 'synthetic', '--val-size', '0.25', '--train-size', '64'] if a.quick else \
        ['--data', a.data, '--cache', '--val-size', '5000', '--train-size', a.train_size]
    args = data + ['--epochs', '1', '--crop', 'pad', '--warmup', '0.5']
    batch = 16 if a.quick else a.batch_size
    ways = layouts(a.cores, batch)
    cpu = platform.processor() or platform.machine()
    if Path('/proc/cpuinfo').exists():
        cpu = next(l.split(':', 1)[1].strip() for l in open('/proc/cpuinfo') if l.startswith('model name'))
    print(f"{cpu}, {os.cpu_count()} cores, {torch.backends.cpu.get_cpu_capability()}; torch {torch.__version__}; "
          f"vit-nbdev train {' '.join(args)}; {a.rounds} interleaved rounds", flush=True)
    speeds = {name: [] for name in ways}
    with tempfile.TemporaryDirectory() as tmp:
        for _ in range(a.rounds):  # interleaved: a slow spell of a shared machine hits every layout alike
            for i, (name, (env, prefix, b)) in enumerate(ways.items()):
                speeds[name].append(run(env, prefix, b, args, Path(tmp)/str(i)))
    base = statistics.median(next(iter(speeds.values())))
    print('| layout | img/s, each round | median img/s | ratio |\n|---|---|---|---|')
    for name, s in speeds.items():
        print(f"| {name} | {', '.join(f'{x:.1f}' for x in s)} | {statistics.median(s):.1f} | "
              f"{statistics.median(s) / base:.3f} |")

if __name__ == '__main__': main()
