"""The input pipeline's share of a training step: image by image (torchvision in the loader, the old path) against
whole batches (`BatchAugment`), both from images decoded once (`decode_cache`), with the training step of
vit_micro_patch4_32 at batch 128 (the shipped run's). Also the time to decode the JPEG files against reading the
decoded cache. Prints a table. Run it on an idle machine (one torch process on these cores):

    python benchmarks/pipeline.py --data DIR [--images 10000] [--steps 30] [--rounds 3]

DIR is an ImageFolder-layout folder, e.g. the CIFAR-10 training JPEGs (`tar -xf cifar10-train-jpg.tar`: DIR=train).
"""
import argparse, platform, tempfile, time
from pathlib import Path
import torch
from vit_nbdev.data import image_folder, split
from vit_nbdev.batches import decode_cache, transforms, loader, BatchAugment, BatchLoader
from vit_nbdev.model import create_model
from vit_nbdev.config import TrainConfig
from vit_nbdev.train import Classification, make_optimizer, fast_bf16

def one_pass(batches, task, opt, steps:int) -> tuple: # (seconds in the pipeline, seconds in the steps)
    "Time `steps` training steps, split into waiting for the batch and computing on it."
    data_s = step_s = 0.
    it = iter(batches)
    for _ in range(steps):
        t0 = time.perf_counter()
        x, y = next(it)
        t1 = time.perf_counter()
        loss = task(x, y)[0]
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        t2 = time.perf_counter()
        data_s, step_s = data_s + t1 - t0, step_s + t2 - t1
    return data_s, step_s

def main():
    p = argparse.ArgumentParser()
    p.add_argument('--data', required=True)
    p.add_argument('--images', type=int, default=10_000)
    p.add_argument('--steps', type=int, default=30)
    p.add_argument('--rounds', type=int, default=3)
    a = p.parse_args()
    ds = image_folder(a.data)
    ds = split(ds, a.images, seed=0)[1] if a.images < len(ds) else ds
    cpu = platform.processor() or platform.machine()
    if Path('/proc/cpuinfo').exists():
        cpu = next(l.split(':', 1)[1].strip() for l in open('/proc/cpuinfo') if l.startswith('model name'))
    print(f"{cpu}, {torch.get_num_threads()} threads, torch {torch.__version__}, "
          f"{torch.backends.cpu.get_cpu_capability()}, bf16 {'native' if fast_bf16('cpu') else 'not native: fp32'}")
    with tempfile.TemporaryDirectory() as d:
        t0 = time.perf_counter()
        decoded = decode_cache(ds, d)
        t1 = time.perf_counter()
        decode_cache(ds, d)
        t2 = time.perf_counter()
    print(f"{len(ds):,} JPEG files: decoded in {t1 - t0:.1f} s; read back from the cache in {t2 - t1:.2f} s "
          f"({(t1 - t0) / (t2 - t1):.0f}x)")
    torch.manual_seed(0)
    task = Classification(create_model('vit_micro_patch4_32', num_classes=len(ds.classes)))
    opt = make_optimizer(task, TrainConfig())
    task.train()
    paths = {'image by image (torchvision)': lambda e: loader(decoded, transforms(32), 128, epoch=e),
             'whole batches (BatchAugment)': lambda e: BatchLoader(decoded, BatchAugment(32), 128, epoch=e)}
    res = {k: [] for k in paths}
    for r in range(a.rounds):  # interleaved: the machine's drift hits both alike
        for name, make in paths.items(): res[name].append(one_pass(make(r), task, opt, a.steps))
    print(f"\n| pipeline | data ms/step | step ms | share of the step |\n|---|---|---|---|")
    for name, runs in res.items():
        d, s = sum(r[0] for r in runs) / (a.rounds * a.steps), sum(r[1] for r in runs) / (a.rounds * a.steps)
        print(f"| {name} | {1000 * d:.1f} | {1000 * s:.1f} | {100 * d / (d + s):.1f}% |")

if __name__ == '__main__':
    main()
