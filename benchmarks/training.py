"""Training throughput of vit_nbdev against timm, side by side in one process.

Ti-size ViT, 4x4 patches at 32 px, 10 classes, AdamW; one step = forward, backward and optimizer step on a batch.
Both models start from the same weights. Each round times one step of each model, alternating which goes first; the
table reports median images/s and the ratio ours/timm (> 1: ours is faster).

Our training loop picks the attention path (`TrainConfig.attn='auto'`): the fused kernel, except under bf16 autocast on
a CPU, where the explicit path trains faster. timm runs its default (fused). The extra row runs timm on the explicit
path too, so the table shows what the path choice is worth and what the rest of the model is worth.

    python benchmarks/training.py
    python benchmarks/training.py --precisions fp32    # a CPU without native bf16 (no AVX-512/AMX), where bf16 crawls
"""
import argparse, time
import torch, torch.nn.functional as F, timm
from vit_nbdev.model import create_model
from vit_nbdev.train import fast_bf16
from timing import interleaved

def make(kind, sd, explicit):
    m = (timm.create_model('vit_tiny_patch16_224', img_size=32, patch_size=4, num_classes=10) if kind == 'timm'
         else create_model('vit_tiny_patch4_32'))
    m.load_state_dict(sd)
    for blk in m.blocks: blk.attn.fused_attn = not explicit
    return m.train(), torch.optim.AdamW(m.parameters(), lr=1e-4)

def step(model, opt, x, y, bf16):
    t = time.perf_counter()
    with torch.autocast('cpu', torch.bfloat16, enabled=bf16):
        loss = F.cross_entropy(model(x).float(), y)
    opt.zero_grad(set_to_none=True)
    loss.backward()
    opt.step()
    return time.perf_counter() - t

def main():
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--batch', type=int, default=128)
    p.add_argument('--rounds', type=int, default=10)
    p.add_argument('--warmup', type=int, default=2)
    p.add_argument('--precisions', nargs='+', default=['fp32', 'bf16'], choices=['fp32', 'bf16'])
    a = p.parse_args()
    torch.manual_seed(0)
    sd = create_model('vit_tiny_patch4_32', zero_head=False).state_dict()
    x, y = torch.randn(a.batch, 3, 32, 32), torch.randint(0, 10, (a.batch,))
    print(f"torch {torch.__version__}, timm {timm.__version__}, CPU threads {torch.get_num_threads()} "
          f"({torch.backends.cpu.get_cpu_capability()}, native bf16: {fast_bf16('cpu')}), batch {a.batch}, {a.rounds} interleaved rounds")
    print("| precision | vit_nbdev attention | timm attention | vit_nbdev img/s | timm img/s | ratio ours/timm |")
    print("|---|---|---|---|---|---|")
    for bf16, ours_explicit, timm_explicit in [(False, False, False), (True, True, False), (True, True, True)]:
        if ('bf16' if bf16 else 'fp32') not in a.precisions: continue
        ours, ref = make('ours', sd, ours_explicit), make('timm', sd, timm_explicit)
        t = interleaved({'ours': lambda: step(*ours, x, y, bf16), 'timm': lambda: step(*ref, x, y, bf16)},
                        a.rounds, a.warmup)
        o, t = a.batch / t['ours'], a.batch / t['timm']
        name = lambda e: 'explicit' if e else 'fused'
        print(f"| {'bf16 autocast' if bf16 else 'fp32'} | {name(ours_explicit)} | {name(timm_explicit)} | {o:.1f} | {t:.1f} | "
              f"{o / t:.3f} |", flush=True)

if __name__ == '__main__': main()
