"Answers to notebook 11's exercises as students write them: one right each, and the typical mistakes the checks name."
import torch
from torch import nn
import torch.nn.functional as F

def transposed(pos_embed, old_grid, new_grid):  # right: the patch rows transposed into D channel images
    D = pos_embed.shape[-1]
    cls = pos_embed[:, 0:1, :]
    grid = pos_embed[0, 1:, :].T.reshape(1, D, old_grid[0], old_grid[1])
    grid = F.interpolate(grid, size=(new_grid[0], new_grid[1]), mode='bicubic', antialias=True)
    return torch.cat((cls, grid.reshape(D, -1).T[None]), dim=1)

def cls_dropped(pos_embed, old_grid, new_grid):
    D = pos_embed.shape[-1]
    grid = pos_embed[:, 1:].reshape(1, old_grid[0], old_grid[1], D).permute(0, 3, 1, 2)
    grid = F.interpolate(grid, size=new_grid, mode='bicubic', align_corners=False, antialias=True)
    return grid.permute(0, 2, 3, 1).reshape(1, -1, D)

def whole_sequence_1d(pos_embed, old_grid, new_grid):
    n = 1 + new_grid[0] * new_grid[1]
    return F.interpolate(pos_embed.transpose(1, 2), size=n, mode='linear').transpose(1, 2)

def straight_reshape(pos_embed, old_grid, new_grid):
    D = pos_embed.shape[-1]
    grid = pos_embed[:, 1:].reshape(1, D, *old_grid)
    grid = F.interpolate(grid, size=new_grid, mode='bicubic', align_corners=False, antialias=True)
    return torch.cat([pos_embed[:, :1], grid.reshape(1, -1, D)], dim=1)

def corners_aligned(pos_embed, old_grid, new_grid):
    D = pos_embed.shape[-1]
    grid = pos_embed[:, 1:].reshape(1, *old_grid, D).permute(0, 3, 1, 2)
    grid = F.interpolate(grid, size=new_grid, mode='bicubic', align_corners=True)
    return torch.cat([pos_embed[:, :1], grid.permute(0, 2, 3, 1).flatten(1, 2)], dim=1)

def bilinear(pos_embed, old_grid, new_grid):
    D = pos_embed.shape[-1]
    grid = pos_embed[:, 1:].reshape(1, *old_grid, D).permute(0, 3, 1, 2)
    grid = F.interpolate(grid, size=new_grid, mode='bilinear')
    return torch.cat([pos_embed[:, :1], grid.permute(0, 2, 3, 1).flatten(1, 2)], dim=1)

def not_antialiased(pos_embed, old_grid, new_grid):
    D = pos_embed.shape[-1]
    grid = pos_embed[:, 1:].reshape(1, *old_grid, D).permute(0, 3, 1, 2)
    grid = F.interpolate(grid, size=new_grid, mode='bicubic', align_corners=False)
    return torch.cat([pos_embed[:, :1], grid.permute(0, 2, 3, 1).flatten(1, 2)], dim=1)

def replace_both(model, num_classes):  # right: new layers, zeros written into them
    head = nn.Linear(model.embed_dim, num_classes)
    head.weight.data = torch.zeros(num_classes, model.embed_dim)
    head.bias.data = torch.zeros(num_classes)
    model.head = head
    model.pre_logits = nn.Identity()
    return model

def keeps_pre_logits(model, num_classes):
    model.head = nn.Linear(model.head.in_features, num_classes)
    nn.init.zeros_(model.head.weight)
    nn.init.zeros_(model.head.bias)
    return model

def transposed_head(model, num_classes):
    model.pre_logits = nn.Identity()
    model.head = nn.Linear(num_classes, model.embed_dim)
    nn.init.zeros_(model.head.weight)
    nn.init.zeros_(model.head.bias)
    return model

def default_init(model, num_classes):
    model.pre_logits = nn.Identity()
    model.head = nn.Linear(model.embed_dim, num_classes)
    return model

def weight_only(model, num_classes):
    model.pre_logits = nn.Identity()
    model.head = nn.Linear(model.embed_dim, num_classes)
    nn.init.zeros_(model.head.weight)
    return model

# (exercise, the mistake its check must name or None for a right answer, the answer)
ANSWERS = [('resize_pos_embed', None, transposed),
           ('resize_pos_embed', '[class] token dropped', cls_dropped),
           ('resize_pos_embed', '[class] token interpolated', whole_sequence_1d),
           ('resize_pos_embed', 'reshape without moving axes', straight_reshape),
           ('resize_pos_embed', 'align_corners=True', corners_aligned),
           ('resize_pos_embed', 'bilinear', bilinear),
           ('resize_pos_embed', 'no antialiasing', not_antialiased),
           ('new_head', None, replace_both),
           ('new_head', 'pre-logits layer kept', keeps_pre_logits),
           ('new_head', 'head of the wrong size', transposed_head),
           ('new_head', 'head not zero-initialised', default_init),
           ('new_head', 'bias left non-zero', weight_only)]

def cls_at_the_end(pos_embed, old_grid, new_grid):
    D = pos_embed.shape[-1]
    grid = pos_embed[:, 1:].reshape(1, *old_grid, D).permute(0, 3, 1, 2)
    grid = F.interpolate(grid, size=new_grid, mode='bicubic', align_corners=False, antialias=True)
    return torch.cat([grid.permute(0, 2, 3, 1).reshape(1, -1, D), pos_embed[:, :1]], dim=1)

ANSWERS += [('resize_pos_embed', '[class] row moved to the end', cls_at_the_end)]
