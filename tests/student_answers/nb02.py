"Answers to notebook 02's exercise as students write them: one right, and the typical mistakes its check names."
import torch

def loops(x, patch_size):  # right: tile by tile, row by row
    B, C, H, W = x.shape
    P = patch_size
    tiles = [x[:, :, i:i + P, j:j + P] for i in range(0, H, P) for j in range(0, W, P)]
    return torch.stack([t.permute(0, 2, 3, 1).reshape(B, -1) for t in tiles], dim=1)

def column_major(x, patch_size):
    B, C, H, W = x.shape
    P = patch_size
    tiles = [x[:, :, i:i + P, j:j + P] for j in range(0, W, P) for i in range(0, H, P)]
    return torch.stack([t.permute(0, 2, 3, 1).reshape(B, -1) for t in tiles], dim=1)

def channels_first(x, patch_size):
    B, C, H, W = x.shape
    P = patch_size
    tiles = [x[:, :, i:i + P, j:j + P] for i in range(0, H, P) for j in range(0, W, P)]
    return torch.stack([t.reshape(B, -1) for t in tiles], dim=1)

def straight_reshape(x, patch_size):
    B, C, H, W = x.shape
    return x.reshape(B, H * W // patch_size ** 2, -1)

def pixels_by_column(x, patch_size):
    B, C, H, W = x.shape
    P = patch_size
    tiles = [x[:, :, i:i + P, j:j + P] for i in range(0, H, P) for j in range(0, W, P)]
    return torch.stack([t.permute(0, 3, 2, 1).reshape(B, -1) for t in tiles], dim=1)

# (exercise, the mistake its check must name or None for a right answer, the answer)
ANSWERS = [('patchify', None, loops),
           ('patchify', 'column-major grid', column_major),
           ('patchify', 'channels first in a patch', channels_first),
           ('patchify', 'reshape without moving axes', straight_reshape),
           ('patchify', 'pixels column by column', pixels_by_column)]

# the course's own function, called or handed in, is recognised
from vit_nbdev.patches import patchify as course_patchify

def calls_the_course(x, patch_size): return course_patchify(x, patch_size)

ANSWERS += [('patchify', "the course's own function", calls_the_course),
            ('patchify', "the course's own function", course_patchify)]
