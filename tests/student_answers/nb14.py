"Answers to notebook 14's exercises as students write them: one right each, and the typical mistakes the checks name."
import torch
import torch.nn.functional as F

# colour_target

def colour_loops(x, patch_size):  # right: patch by patch
    B, C, H, W = x.shape
    P = patch_size
    out = torch.zeros(B, (H // P) * (W // P), dtype=torch.long)
    for b in range(B):
        n = 0
        for i in range(0, H, P):
            for j in range(0, W, P):
                r, g, bl = [min(int((v + 1) / 2 * 8), 7) for v in x[b, :, i:i + P, j:j + P].mean((1, 2)).tolist()]
                out[b, n] = r * 64 + g * 8 + bl
                n += 1
    return out

def colour_quantise_first(x, patch_size):
    levels = ((x + 1) / 2 * 8).floor().clamp(0, 7)
    levels = F.avg_pool2d(levels, patch_size).long()
    return (levels[:, 0] * 64 + levels[:, 1] * 8 + levels[:, 2]).flatten(1)

def colour_pixel_classes_averaged(x, patch_size):
    q = ((x + 1) / 2 * 8).floor().clamp(0, 7)
    classes = q[:, 0] * 64 + q[:, 1] * 8 + q[:, 2]
    return F.avg_pool2d(classes[:, None], patch_size).round().long().flatten(1)

def colour_bgr(x, patch_size):
    m = F.avg_pool2d(x, patch_size)
    q = ((m + 1) / 2 * 8).floor().clamp(0, 7).long()
    return (q[:, 2] * 64 + q[:, 1] * 8 + q[:, 0]).flatten(1)

def colour_rounded(x, patch_size):
    m = F.avg_pool2d(x, patch_size)
    q = torch.round((m + 1) / 2 * 7).long()
    return (q[:, 0] * 64 + q[:, 1] * 8 + q[:, 2]).flatten(1)

def colour_not_mapped(x, patch_size):
    m = F.avg_pool2d(x, patch_size)
    q = (m * 8).long().clamp(0, 7)
    return (q[:, 0] * 64 + q[:, 1] * 8 + q[:, 2]).flatten(1)

def colour_not_mapped_unclamped(x, patch_size):
    q = torch.floor(F.avg_pool2d(x, patch_size) * 8).long()
    return (q[:, 0] * 64 + q[:, 1] * 8 + q[:, 2]).flatten(1)

# corrupt

def corrupt_loops(z, mask_token, ratio=0.5, probs=(0.8, 0.1, 0.1)):  # right: image by image
    B, N, D = z.shape
    out, chosen = z.clone(), torch.zeros(B, N, dtype=torch.bool)
    k = round(ratio * N)
    for b in range(B):
        for i in torch.randperm(N)[:k].tolist():
            chosen[b, i] = True
            u = torch.rand(()).item()
            if u < probs[0]:
                out[b, i] = mask_token
            elif u < probs[0] + probs[1]:
                while True:
                    ob, oi = torch.randint(B, ()).item(), torch.randint(N, ()).item()
                    if (ob, oi) != (b, i): break
                out[b, i] = z[ob, oi]
    return out, chosen

def _replace(z, mask_token, chosen, probs):  # the 80 / 10 / 10 part, right
    B, N, D = z.shape
    u = torch.rand(B, N)
    out = z.clone()
    flat = z.reshape(-1, D)
    src = (torch.arange(B * N) + torch.randint(1, B * N, (B * N,))) % (B * N)
    swap = chosen & (u >= probs[0]) & (u < probs[0] + probs[1])
    out[swap] = flat[src.reshape(B, N)[swap]]
    out[chosen & (u < probs[0])] = mask_token
    return out

def corrupt_inverted(z, mask_token, ratio=0.5, probs=(0.8, 0.1, 0.1)):
    B, N, D = z.shape
    keep = torch.ones(B, N, dtype=torch.bool)
    idx = torch.rand(B, N).argsort(1)[:, :round(ratio * N)]
    keep[torch.arange(B)[:, None], idx] = False  # these are corrupted
    return _replace(z, mask_token, ~keep, probs), keep

def corrupt_whole_batch(z, mask_token, ratio=0.5, probs=(0.8, 0.1, 0.1)):
    B, N, D = z.shape
    chosen = torch.zeros(B * N, dtype=torch.bool)
    chosen[torch.randperm(B * N)[:round(ratio * N) * B]] = True
    chosen = chosen.reshape(B, N)
    return _replace(z, mask_token, chosen, probs), chosen

def corrupt_coin(z, mask_token, ratio=0.5, probs=(0.8, 0.1, 0.1)):
    chosen = torch.rand(z.shape[:2]) < ratio
    return _replace(z, mask_token, chosen, probs), chosen

def corrupt_all_masked(z, mask_token, ratio=0.5, probs=(0.8, 0.1, 0.1)):
    B, N, D = z.shape
    chosen = torch.zeros(B, N, dtype=torch.bool)
    for b in range(B): chosen[b, torch.randperm(N)[:round(ratio * N)]] = True
    out = z.clone()
    out[chosen] = mask_token
    return out, chosen

def corrupt_itself(z, mask_token, ratio=0.5, probs=(0.8, 0.1, 0.1)):  # the 'other' index can be the patch's own
    B, N, D = z.shape
    chosen = torch.zeros(B, N, dtype=torch.bool)
    for b in range(B): chosen[b, torch.randperm(N)[:round(ratio * N)]] = True
    u = torch.rand(B, N)
    out = z.clone()
    swap = chosen & (u >= probs[0]) & (u < probs[0] + probs[1])
    out[swap] = z[swap]  # "a random other patch embedding"
    out[chosen & (u < probs[0])] = mask_token
    return out, chosen

def corrupt_first_patch(z, mask_token, ratio=0.5, probs=(0.8, 0.1, 0.1)):  # always the image's first patch
    B, N, D = z.shape
    chosen = torch.zeros(B, N, dtype=torch.bool)
    for b in range(B): chosen[b, torch.randperm(N)[:round(ratio * N)]] = True
    u = torch.rand(B, N)
    out = z.clone()
    for b, i in (chosen & (u >= probs[0]) & (u < probs[0] + probs[1])).nonzero().tolist():
        out[b, i] = z[b, 0] if i != 0 else z[b, 1]
    out[chosen & (u < probs[0])] = mask_token
    return out, chosen

def corrupt_neighbour(z, mask_token, ratio=0.5, probs=(0.8, 0.1, 0.1)):  # the next patch, not a random one
    B, N, D = z.shape
    chosen = torch.zeros(B, N, dtype=torch.bool)
    for b in range(B): chosen[b, torch.randperm(N)[:round(ratio * N)]] = True
    u = torch.rand(B, N)
    swap = chosen & (u >= probs[0]) & (u < probs[0] + probs[1])
    out = torch.where(swap[..., None], z.roll(-1, dims=1), z)
    out[chosen & (u < probs[0])] = mask_token
    return out, chosen

# (exercise, the mistake its check must name or None for a right answer, the answer)
ANSWERS = [('colour_target', None, colour_loops),
           ('colour_target', 'quantised before the mean', colour_quantise_first),
           ('colour_target', 'quantised before the mean', colour_pixel_classes_averaged),
           ('colour_target', 'blue most significant', colour_bgr),
           ('colour_target', 'rounded to 8 levels', colour_rounded),
           ('colour_target', '[-1, 1] taken for [0, 1]', colour_not_mapped),
           ('colour_target', '[-1, 1] taken for [0, 1]', colour_not_mapped_unclamped),
           ('corrupt', None, corrupt_loops),
           ('corrupt', 'chosen mask inverted', corrupt_inverted),
           ('corrupt', 'a share of the whole batch', corrupt_whole_batch),
           ('corrupt', 'a coin toss per patch', corrupt_coin),
           ('corrupt', 'every chosen patch masked', corrupt_all_masked),
           ('corrupt', 'not a random other patch', corrupt_itself),
           ('corrupt', 'not a random other patch', corrupt_first_patch),
           ('corrupt', 'not a random other patch', corrupt_neighbour)]

def colour_int32(x, patch_size):
    return colour_bgr(x.flip(1), patch_size).int()

def corrupt_probs_swapped(z, mask_token, ratio=0.5, probs=(0.8, 0.1, 0.1)):
    B, N, D = z.shape
    chosen = torch.rand(B, N).argsort(1) < round(ratio * N)
    return _replace(z, mask_token, chosen, (probs[0], probs[2], probs[1])), chosen

def corrupt_float32_buffer(z, mask_token, ratio=0.5, probs=(0.8, 0.1, 0.1)):
    B, N, D = z.shape
    chosen = torch.rand(B, N).argsort(1) < round(ratio * N)
    out = torch.empty(B, N, D)
    out[:] = _replace(z, mask_token, chosen, probs)
    return out, chosen

ANSWERS += [('colour_target', 'int32 classes', colour_int32),
            ('corrupt', 'probabilities swapped', corrupt_probs_swapped),
            ('corrupt', 'another dtype', corrupt_float32_buffer)]

# mpp_loss

def mpp_loss_loops(logits, targets, mask):  # right: patch by patch
    total, count = 0., 0
    for b in range(targets.shape[0]):
        for i in range(targets.shape[1]):
            if mask[b, i]:
                total = total - logits[b, i + 1].log_softmax(-1)[targets[b, i]]
                count += 1
    return total / count

def mpp_loss_nll(logits, targets, mask):  # right: log-softmax and nll_loss on the flattened patches
    lp = F.log_softmax(logits[:, 1:], dim=-1).reshape(-1, 512)
    keep = mask.reshape(-1)
    return F.nll_loss(lp[keep], targets.reshape(-1)[keep])

def mpp_loss_all_patches(logits, targets, mask):
    out = logits[:, 1:]
    return F.cross_entropy(out.reshape(-1, out.shape[-1]), targets.reshape(-1))

def mpp_loss_sum_over_n(logits, targets, mask):
    losses = F.cross_entropy(logits[:, 1:].transpose(1, 2), targets, reduction='none')  # (B, N)
    return (losses * mask).sum() / losses.numel()

def mpp_loss_with_cls(logits, targets, mask):
    N = targets.shape[1]
    return F.cross_entropy(logits[:, :N][mask], targets[mask])

def mpp_loss_mse(logits, targets, mask):
    onehot = torch.zeros(targets.shape + (512,))
    onehot.scatter_(-1, targets[..., None], 1.)
    return ((logits[:, 1:][mask] - onehot[mask]) ** 2).mean()

def mpp_loss_misaligned(logits, targets, mask):
    out = logits[:, 1:][mask]
    t = targets.transpose(0, 1)[mask.transpose(0, 1)]
    return F.cross_entropy(out, t)

ANSWERS += [('mpp_loss', None, mpp_loss_loops),
            ('mpp_loss', None, mpp_loss_nll),
            ('mpp_loss', 'every patch', mpp_loss_all_patches),
            ('mpp_loss', 'divided by all patches', mpp_loss_sum_over_n),
            ('mpp_loss', '[class] token kept', mpp_loss_with_cls),
            ('mpp_loss', 'MSE, not cross-entropy', mpp_loss_mse),
            ('mpp_loss', 'targets misaligned', mpp_loss_misaligned)]
