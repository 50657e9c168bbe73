"Answers to notebook 10's exercise as students write them: right ones, and the typical mistakes its check names."
import math
import torch
import torch.nn.functional as F
from torch import nn

def _warmup_cosine(step, total_steps, warmup, base_lr):
    if step < warmup: return base_lr * (step + 1) / warmup
    return base_lr * 0.5 * (1 + math.cos(math.pi * (step - warmup) / (total_steps - warmup)))

def clip_by_hand(model, optimizer, x, y, step, total_steps, warmup, base_lr):  # right: the global norm by hand
    lr = _warmup_cosine(step, total_steps, warmup, base_lr)
    for g in optimizer.param_groups: g['lr'] = lr
    for p in model.parameters(): p.grad = None
    loss = nn.CrossEntropyLoss()(model(x), y)
    loss.backward()
    grads = [p.grad for p in model.parameters()]
    norm = torch.sqrt(sum((g ** 2).sum() for g in grads))
    scale = min(1., 1. / (norm.item() + 1e-6))
    for g in grads: g.mul_(scale)
    optimizer.step()
    return loss.item()

def min_warmup(model, optimizer, x, y, step, total_steps, warmup, base_lr):  # right: warmup as a min, decay clamped
    t = max(0., (step - warmup) / (total_steps - warmup))
    lr = base_lr * min(1., (step + 1) / warmup) * (1 + math.cos(math.pi * t)) / 2
    for g in optimizer.param_groups: g['lr'] = lr
    optimizer.zero_grad()
    loss = F.cross_entropy(model(x), y)
    loss.backward()
    torch.nn.utils.clip_grad_norm_(list(model.parameters()), max_norm=1.0)
    optimizer.step()
    return loss

def no_zero_grad(model, optimizer, x, y, step, total_steps, warmup, base_lr):
    for g in optimizer.param_groups: g['lr'] = _warmup_cosine(step, total_steps, warmup, base_lr)
    loss = F.cross_entropy(model(x), y)
    loss.backward()
    nn.utils.clip_grad_norm_(model.parameters(), 1.)
    optimizer.step()
    return loss

def no_clip(model, optimizer, x, y, step, total_steps, warmup, base_lr):
    for g in optimizer.param_groups: g['lr'] = _warmup_cosine(step, total_steps, warmup, base_lr)
    optimizer.zero_grad()
    loss = F.cross_entropy(model(x), y)
    loss.backward()
    optimizer.step()
    return loss

def clip_late(model, optimizer, x, y, step, total_steps, warmup, base_lr):
    for g in optimizer.param_groups: g['lr'] = _warmup_cosine(step, total_steps, warmup, base_lr)
    optimizer.zero_grad()
    loss = F.cross_entropy(model(x), y)
    loss.backward()
    optimizer.step()
    nn.utils.clip_grad_norm_(model.parameters(), 1.)
    return loss

def clip_each(model, optimizer, x, y, step, total_steps, warmup, base_lr):
    for g in optimizer.param_groups: g['lr'] = _warmup_cosine(step, total_steps, warmup, base_lr)
    optimizer.zero_grad()
    loss = F.cross_entropy(model(x), y)
    loss.backward()
    for p in model.parameters():
        n = p.grad.norm()
        if n > 1: p.grad /= n
    optimizer.step()
    return loss

def _step_with_lr(model, optimizer, x, y, lr):
    for g in optimizer.param_groups: g['lr'] = lr
    optimizer.zero_grad()
    loss = F.cross_entropy(model(x), y)
    loss.backward()
    nn.utils.clip_grad_norm_(model.parameters(), 1.)
    optimizer.step()
    return loss

def cosine_only(model, optimizer, x, y, step, total_steps, warmup, base_lr):  # forgot the warmup
    lr = base_lr * 0.5 * (1 + math.cos(math.pi * step / total_steps))
    return _step_with_lr(model, optimizer, x, y, lr)

def warmup_from_zero(model, optimizer, x, y, step, total_steps, warmup, base_lr):
    if step < warmup: lr = base_lr * step / warmup
    else: lr = base_lr * 0.5 * (1 + math.cos(math.pi * (step - warmup) / (total_steps - warmup)))
    return _step_with_lr(model, optimizer, x, y, lr)

def decay_from_start(model, optimizer, x, y, step, total_steps, warmup, base_lr):
    if step < warmup: lr = base_lr * (step + 1) / warmup
    else: lr = base_lr * 0.5 * (1 + math.cos(math.pi * step / total_steps))
    return _step_with_lr(model, optimizer, x, y, lr)

# (exercise, the mistake its check must name or None for a right answer, the answer)
ANSWERS = [('train_step', None, clip_by_hand),
           ('train_step', None, min_warmup),
           ('train_step', 'gradients not zeroed', no_zero_grad),
           ('train_step', 'clipping forgotten', no_clip),
           ('train_step', 'clipping after the optimizer step', clip_late),
           ('train_step', 'each parameter clipped on its own', clip_each),
           ('train_step', 'no warmup', cosine_only),
           ('train_step', 'warmup off by one', warmup_from_zero),
           ('train_step', 'decay not starting where warmup ends', decay_from_start)]
