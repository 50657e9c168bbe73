"Answers to notebook 12's exercises as students write them: one right each, and the typical mistakes the checks name."
import math
import torch

# rollout

def rollout_loops(attns):  # right: block by block, with matmul and an explicit normalisation
    B, _, T, _ = attns[0].shape
    R = None
    for A in attns:
        heads = A.shape[1]
        M = sum(A[:, h] for h in range(heads)) / heads
        M = 0.5 * M + 0.5 * torch.eye(T)
        M = M / M.sum(dim=2, keepdim=True)
        R = M if R is None else torch.matmul(M, R)
    return R

def rollout_per_head(attns):
    T = attns[0].shape[-1]
    R = torch.eye(T)
    for A in attns:
        M = 0.5 * A + 0.5 * torch.eye(T)
        R = M @ R
    return R

def rollout_no_identity(attns):
    R = attns[0].mean(1)
    for A in attns[1:]:
        R = A.mean(1) @ R
    return R

def rollout_wrong_order(attns):
    T = attns[0].shape[-1]
    R = torch.eye(T)
    for A in attns:
        M = (A.mean(1) + torch.eye(T)) / 2
        M = M / M.sum(-1, keepdim=True)
        R = R @ M
    return R

def rollout_heads_summed(attns):
    T = attns[0].shape[-1]
    R = torch.eye(T)
    for A in attns:
        R = (0.5 * A.sum(1) + 0.5 * torch.eye(T)) @ R
    return R

# attention_distance

def distance_loops(attns, grid, patch_size):  # right: the distance table with math.dist, a loop over blocks
    rows, cols = grid
    centres = [(r * patch_size, c * patch_size) for r in range(rows) for c in range(cols)]
    dist = torch.tensor([[math.dist(a, b) for b in centres] for a in centres])
    result = []
    for A in attns:
        w = A[:, :, 1:, 1:]
        w = w / w.sum(dim=3, keepdim=True)
        per_query = (w * dist).sum(dim=3)  # (B, heads, N)
        result.append(per_query.mean(dim=2).mean(dim=0))
    return torch.stack(result)

def _dist_table(grid, scale):
    rows, cols = grid
    centres = [(r * scale, c * scale) for r in range(rows) for c in range(cols)]
    return torch.tensor([[math.dist(a, b) for b in centres] for a in centres])

def distance_with_cls(attns, grid, patch_size):  # forgets the [class] token: the shapes do not match
    dist = _dist_table(grid, patch_size)
    return torch.stack([(A * dist).sum(-1).mean((0, 2)) for A in attns])

def distance_cls_padded(attns, grid, patch_size):  # gives the [class] token distance 0 to make the shapes match
    dist = torch.zeros(attns[0].shape[-1], attns[0].shape[-1])
    dist[1:, 1:] = _dist_table(grid, patch_size)
    return torch.stack([(A * dist).sum(-1).mean((0, 2)) for A in attns])

def distance_in_patches(attns, grid, patch_size):
    dist = _dist_table(grid, 1)
    out = []
    for A in attns:
        w = A[:, :, 1:, 1:] / A[:, :, 1:, 1:].sum(-1, keepdim=True)
        out.append((w * dist).sum(-1).mean((0, 2)))
    return torch.stack(out)

def distance_all_heads(attns, grid, patch_size):
    dist = _dist_table(grid, patch_size)
    out = []
    for A in attns:
        w = A[:, :, 1:, 1:] / A[:, :, 1:, 1:].sum(-1, keepdim=True)
        out.append((w * dist).sum(-1).mean())
    return torch.stack(out)

def distance_not_renormalised(attns, grid, patch_size):
    dist = _dist_table(grid, patch_size)
    return torch.stack([(A[:, :, 1:, 1:] * dist).sum(-1).mean((0, 2)) for A in attns])

# (exercise, the mistake its check must name or None for a right answer, the answer)
ANSWERS = [('rollout', None, rollout_loops),
           ('rollout', 'heads not averaged', rollout_per_head),
           ('rollout', 'no residual identity', rollout_no_identity),
           ('rollout', 'blocks multiplied in the wrong order', rollout_wrong_order),
           ('rollout', 'heads summed, rows not renormalised', rollout_heads_summed),
           ('attention_distance', None, distance_loops),
           ('attention_distance', '[class] token included', distance_with_cls),
           ('attention_distance', '[class] token included', distance_cls_padded),
           ('attention_distance', 'distance in patches', distance_in_patches),
           ('attention_distance', 'averaged over the heads too', distance_all_heads),
           ('attention_distance', 'not renormalised without [class]', distance_not_renormalised)]

def distance_cls_query_kept(attns, grid, patch_size):  # [class] dropped as a key, kept as a query at distance 0
    rows, cols = grid
    pos = torch.tensor([[r, c] for r in range(rows) for c in range(cols)], dtype=torch.float) * patch_size
    dist = torch.cdist(pos, pos)
    dist = torch.cat([torch.zeros(1, len(pos)), dist])  # the [class] query: no place, distance 0
    out = []
    for A in attns:
        a = A[..., 1:]
        a = a / a.sum(-1, keepdim=True).clamp_min(1e-12)
        out.append((a * dist).sum(-1).mean((0, 2)))
    return torch.stack(out)

ANSWERS += [('attention_distance', '[class] kept as a query', distance_cls_query_kept)]
