"""On a GPU: (a) training throughput and model FLOPs utilisation (MFU) of ours against timm, (b) a plain ViT with
small patches on CIFAR-10 and its mean attention distance per block.

(a) `throughput`: ViT-B/16 at 224 px by default. Ours and timm's start from the same weights; each step is forward,
backward and a fused AdamW step under bf16 autocast; eager and `torch.compile`d, all four timed in interleaved rounds
in one process (`timing.interleaved`). MFU = the model's training FLOPs per step (`torch.utils.flop_counter` on one
image, explicit attention path, forward + backward) x batch / seconds / the chip's peak bf16 FLOP/s (dense).

(b) `cifar`: `vit-nbdev train` in-process on an ImageFolder copy of CIFAR-10 with 2 x 2 patches (a 16 x 16 token
grid), then the mean attention distance of every head on validation images (notebook 12), saved as JSON: does it grow
with depth (the paper's Figure 7, right)?

    python benchmarks/gpu.py throughput                                    # ViT-B/16, batch 128, on cuda
    python benchmarks/gpu.py cifar --data DIR --epochs 30 --out runs/gpu_p2
    python benchmarks/gpu.py throughput --model vit_micro_patch4_32 --batch 4 --rounds 1 --device cpu --compile off
    python benchmarks/gpu.py throughput --model vit_micro_patch4_32 --batch 128 --rounds 5 --device cpu --precision fp32
"""
import argparse, json, time
from pathlib import Path
import torch, torch.nn.functional as F
from torch.utils.flop_counter import FlopCounterMode
from vit_nbdev.model import create_model, presets
from vit_nbdev.config import TrainConfig
from timing import interleaved

PEAK_BF16 = {'H100': 989.4e12, 'H200': 989.4e12, 'A100': 312e12, 'L40S': 362e12, 'A10': 125e12}  # dense, per chip

def peak_flops(device:torch.device, given:float) -> float|None:
    "The chip's peak bf16 FLOP/s: given in TFLOP/s, or looked up by the GPU's name; None where unknown (a CPU)."
    if given: return given * 1e12
    if device.type != 'cuda': return None
    name = torch.cuda.get_device_name(device)
    return next((v for k, v in PEAK_BF16.items() if k in name), None)

def train_flops(model, img_size:int) -> float:
    "Forward + backward FLOPs of one image, counted on the explicit attention path."
    fused = [b.attn.fused_attn for b in model.blocks]
    for b in model.blocks: b.attn.fused_attn = False
    x = torch.zeros(1, 3, img_size, img_size, device=next(model.parameters()).device)
    with FlopCounterMode(display=False) as c: model(x).float().sum().backward()
    for b, f in zip(model.blocks, fused): b.attn.fused_attn = f
    model.zero_grad(set_to_none=True)
    return c.get_total_flops()

def stepper(model, device, batch:int, img_size:int, compiled:bool, bf16:bool=True):
    "A function that times one training step (bf16 autocast unless fp32, fused AdamW on a GPU)."
    opt = torch.optim.AdamW(model.parameters(), lr=1e-4, fused=device.type == 'cuda')
    fwd = torch.compile(model) if compiled else model
    x = torch.randn(batch, 3, img_size, img_size, device=device)
    y = torch.randint(0, model.num_classes if hasattr(model, 'num_classes') else 10, (batch,), device=device)
    sync = torch.cuda.synchronize if device.type == 'cuda' else (lambda: None)
    def step():
        sync()
        t = time.perf_counter()
        with torch.autocast(device.type, torch.bfloat16, enabled=bf16):
            loss = F.cross_entropy(fwd(x).float(), y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        sync()
        return time.perf_counter() - t
    return step

def throughput(a):
    import timm
    dev = torch.device(a.device)
    torch.manual_seed(0)
    ours = create_model(a.model, zero_head=False, **({'img_size': a.img_size} if a.img_size else {}))
    size, P, K = ours.config['img_size'], ours.config['patch_size'], ours.config['num_classes']
    D, L, H = ours.config['embed_dim'], ours.config['depth'], ours.config['num_heads']
    def timm_model():
        m = timm.create_model('vit_base_patch16_224', pretrained=False, img_size=size, patch_size=P, embed_dim=D,
                              depth=L, num_heads=H, num_classes=K)
        m.load_state_dict(ours.state_dict())
        return m.to(dev).train()
    flops = train_flops(ours.to(dev).train(), size)
    peak = peak_flops(dev, a.peak_tflops)
    compiles = {'off': [False], 'on': [True], 'both': [False, True]}[a.compile]
    runs = {}
    for c in compiles:
        tag = 'compiled' if c else 'eager'
        runs[f'vit_nbdev {tag}'] = stepper(create_model(a.model, zero_head=False, img_size=size).to(dev).train()
                                          if c else ours, dev, a.batch, size, c, a.precision == 'bf16')
        runs[f'timm {tag}'] = stepper(timm_model(), dev, a.batch, size, c, a.precision == 'bf16')
    name = torch.cuda.get_device_name(dev) if dev.type == 'cuda' else \
        f"CPU ({torch.backends.cpu.get_cpu_capability()}, {torch.get_num_threads()} threads)"
    print(f"{a.model} at {size} px, batch {a.batch}, {'bf16 autocast' if a.precision == 'bf16' else 'fp32'}, {'fused ' if dev.type == 'cuda' else ''}AdamW; "
          f"{name}; torch {torch.__version__}, timm {timm.__version__}; {flops / 1e9:.1f} GFLOPs per image per step; "
          f"peak {peak / 1e12 if peak else float('nan'):.0f} TFLOP/s; {a.rounds} interleaved rounds", flush=True)
    t = interleaved(runs, a.rounds, a.warmup)
    print("| model | img/s | TFLOP/s | MFU % | ratio ours/timm |")
    print("|---|---|---|---|---|")
    for k, s in t.items():
        other = t[k.replace('vit_nbdev', 'timm')] if k.startswith('vit_nbdev') else s
        mfu = f"{100 * flops * a.batch / s / peak:.1f}" if peak else 'n/a'
        print(f"| {k} | {a.batch / s:.1f} | {flops * a.batch / s / 1e12:.2f} | {mfu} | {other / s:.3f} |")

def cifar(a):
    from vit_nbdev.run import run_training
    from vit_nbdev.inspecting import attention_weights, mean_attention_distance, patch_distances
    from vit_nbdev.data import load_dataset, split
    from vit_nbdev.batches import transforms, loader
    name = a.model.replace('patch4', f'patch{a.patch}')
    presets.setdefault(name, {**presets[a.model], 'patch_size': a.patch})  # the preset with smaller patches
    cfg = TrainConfig(data=a.data, val_size=a.val_size, cache=a.data != 'synthetic', model=name, epochs=a.epochs,
                      batch_size=a.batch, lr=a.lr, weight_decay=0.05, warmup=1, schedule='cosine', label_smoothing=0.1,
                      crop='pad', augment='batch' if a.data != 'synthetic' else 'image', out=a.out, device=a.device,
                      resume=(Path(a.out)/'checkpoints'/'latest').is_file())
    t = time.time()
    hist = run_training(cfg, f'benchmarks/gpu.py cifar ({name})', progress=False)
    from vit_nbdev.checkpoint import load_checkpoint, RunFolder
    model = load_checkpoint(RunFolder(a.out).latest())[0].eval()
    data = load_dataset(cfg.data)
    va = split(data, cfg.val_size, cfg.seed, what='--val-size')[1]
    x = next(iter(loader(va, transforms(model.config['img_size'], train=False), 64, shuffle=False)))[0]
    attns = attention_weights(model, x.to(next(model.parameters()).device))
    dist = mean_attention_distance(attns, model.patch_embed.grid_size, a.patch, model.num_prefix_tokens).cpu()
    by_block = dist.mean(dim=1).tolist()
    uniform = patch_distances(model.patch_embed.grid_size, a.patch).mean().item()  # every patch attended to alike
    res = {'model': name, 'val_acc': hist[-1]['val_acc'], 'epochs': a.epochs, 'minutes': (time.time() - t) / 60,
           'distance_per_head': dist.tolist(), 'distance_per_block': by_block, 'uniform_attention': uniform}
    Path(a.out, 'attention_distance.json').write_text(json.dumps(res, indent=1))
    print(f"{name}: val_acc {100 * res['val_acc']:.2f}% after {a.epochs} epochs; mean attention distance per block "
          f"(px): {', '.join(f'{d:.1f}' for d in by_block)}; uniform attention: {uniform:.1f}")

def main():
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    sub = p.add_subparsers(dest='what', required=True)
    t = sub.add_parser('throughput')
    t.add_argument('--model', default='vit_base_patch16_224')
    t.add_argument('--img-size', type=int, default=0)
    t.add_argument('--batch', type=int, default=128)
    t.add_argument('--rounds', type=int, default=20)
    t.add_argument('--warmup', type=int, default=3)
    t.add_argument('--compile', default='both', choices=['off', 'on', 'both'])
    t.add_argument('--peak-tflops', type=float, default=0., help="the chip's dense bf16 peak, if not in PEAK_BF16")
    t.add_argument('--device', default='cuda')
    t.add_argument('--precision', default='bf16', choices=['bf16', 'fp32'], help='fp32 on a CPU without native bf16')
    c = sub.add_parser('cifar')
    c.add_argument('--data', required=True, help="an ImageFolder copy of CIFAR-10 (or 'synthetic' to test)")
    c.add_argument('--val-size', type=float, default=5000)
    c.add_argument('--model', default='vit_small_patch4_32')
    c.add_argument('--patch', type=int, default=2)
    c.add_argument('--epochs', type=int, default=30)
    c.add_argument('--batch', type=int, default=512)
    c.add_argument('--lr', type=float, default=2e-3)
    c.add_argument('--out', default='runs/gpu_cifar')
    c.add_argument('--device', default='auto')
    a = p.parse_args()
    (throughput if a.what == 'throughput' else cifar)(a)

if __name__ == '__main__': main()
