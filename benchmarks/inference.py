"""Inference throughput of vit_nbdev against timm, side by side in one process.

Both models get the same weights. Each round times one batch through ours and one through timm, alternating
which goes first; the table reports median images/s over the rounds and the ratio ours/timm (> 1: ours is faster).

    python benchmarks/inference.py                       # Ti/16 and B/16 at 224 px, CPU, fp32 and bf16 autocast
    python benchmarks/inference.py --device cuda --batch 256 64
"""
import argparse, time
import torch, timm
from vit_nbdev.model import create_model
from timing import interleaved

def timed(model, x, device, dtype):
    if device == 'cuda': torch.cuda.synchronize()
    t = time.perf_counter()
    with torch.inference_mode(), torch.autocast(device, dtype=dtype, enabled=dtype != torch.float32):
        model(x)
    if device == 'cuda': torch.cuda.synchronize()
    return time.perf_counter() - t

def bench(name, batch, device, dtype, rounds, warmup=2):
    ref = timm.create_model(name, pretrained=False).eval().to(device)
    ours = create_model(name).eval().to(device)
    ours.load_state_dict(ref.state_dict(), strict=True)
    x = torch.randn(batch, 3, 224, 224, device=device)
    t = interleaved({'ours': lambda: timed(ours, x, device, dtype), 'timm': lambda: timed(ref, x, device, dtype)},
                    rounds, warmup)
    return batch / t['ours'], batch / t['timm']

def main():
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--models', nargs='+', default=['vit_tiny_patch16_224', 'vit_base_patch16_224'])
    p.add_argument('--batch', nargs='+', type=int, default=[32, 8], help='one batch size per model')
    p.add_argument('--device', default='cpu')
    p.add_argument('--dtypes', nargs='+', default=['fp32', 'bf16'], choices=['fp32', 'bf16', 'fp16'])
    p.add_argument('--rounds', type=int, default=10)
    a = p.parse_args()
    dtypes = dict(fp32=torch.float32, bf16=torch.bfloat16, fp16=torch.float16)
    batches = a.batch if len(a.batch) == len(a.models) else a.batch[:1] * len(a.models)
    print(f"torch {torch.__version__}, timm {timm.__version__}, device {a.device}, threads {torch.get_num_threads()}, "
          f"{a.rounds} interleaved rounds")
    print("| model | precision | batch | vit_nbdev img/s | timm img/s | ratio ours/timm |")
    print("|---|---|---|---|---|---|")
    for name, bs in zip(a.models, batches):
        for d in a.dtypes:
            ours, ref = bench(name, bs, a.device, dtypes[d], a.rounds)
            precision = d + (' autocast' if d != 'fp32' else '')
            print(f"| {name} | {precision} | {bs} | {ours:.1f} | {ref:.1f} | {ours / ref:.3f} |", flush=True)

if __name__ == '__main__': main()
