"Answers to notebook 06's exercise as students write them: one right, and the typical mistakes its check names."

def by_parts(img_size, patch_size, embed_dim, depth, num_classes, mlp_ratio=4, in_chans=3):  # right
    D = embed_dim
    N = (img_size // patch_size) ** 2
    mlp = int(mlp_ratio * D)
    patch = in_chans * patch_size * patch_size * D + D
    cls_token = D
    pos = (N + 1) * D
    attn = 3 * D * D + 3 * D + D * D + D
    ffn = D * mlp + mlp + mlp * D + D
    norms = 2 * (2 * D)
    final_norm = 2 * D
    head = D * num_classes + num_classes
    return patch + cls_token + pos + depth * (attn + ffn + norms) + final_norm + head

def no_biases(img_size, patch_size, embed_dim, depth, num_classes, mlp_ratio=4, in_chans=3):
    D = embed_dim
    N = (img_size // patch_size) ** 2
    mlp = int(mlp_ratio * D)
    per_block = 3 * D * D + D * D + D * mlp + mlp * D + 4 * D
    return in_chans * patch_size ** 2 * D + D + (N + 1) * D + depth * per_block + 2 * D + D * num_classes

def no_layernorms(img_size, patch_size, embed_dim, depth, num_classes, mlp_ratio=4, in_chans=3):
    D = embed_dim
    N = (img_size // patch_size) ** 2
    mlp = int(mlp_ratio * D)
    per_block = (3 * D * D + 3 * D) + (D * D + D) + (D * mlp + mlp) + (mlp * D + D)
    return (in_chans * patch_size ** 2 * D + D) + D + (N + 1) * D + depth * per_block + D * num_classes + num_classes

def patches_only_positions(img_size, patch_size, embed_dim, depth, num_classes, mlp_ratio=4, in_chans=3):
    D = embed_dim
    N = (img_size // patch_size) ** 2
    mlp = int(mlp_ratio * D)
    per_block = 4 * D + 4 * D * D + 4 * D + 2 * D * mlp + mlp + D
    return in_chans * patch_size ** 2 * D + D + D + N * D + depth * per_block + 2 * D + (D + 1) * num_classes

def square_mlp(img_size, patch_size, embed_dim, depth, num_classes, mlp_ratio=4, in_chans=3):
    D = embed_dim
    N = (img_size // patch_size) ** 2
    per_block = 4 * D + (4 * D * D + 4 * D) + 2 * (D * D + D)
    return in_chans * patch_size ** 2 * D + D + D + (N + 1) * D + depth * per_block + 2 * D + (D + 1) * num_classes

def table1_mlp(img_size, patch_size, embed_dim, depth, num_classes, mlp_ratio=4, in_chans=3):
    D = embed_dim
    N = (img_size // patch_size) ** 2
    H = 4 * D  # Table 1: the MLP size is 4D
    per_block = 4 * D + (4 * D * D + 4 * D) + (D * H + H) + (H * D + D)
    return in_chans * patch_size ** 2 * D + D + D + (N + 1) * D + depth * per_block + 2 * D + (D + 1) * num_classes

def no_head(img_size, patch_size, embed_dim, depth, num_classes, mlp_ratio=4, in_chans=3):
    D = embed_dim
    N = (img_size // patch_size) ** 2
    H = int(D * mlp_ratio)
    per_block = 4 * D + (4 * D * D + 4 * D) + (D * H + H) + (H * D + D)
    return in_chans * patch_size ** 2 * D + D + D + (N + 1) * D + depth * per_block + 2 * D

# (exercise, the mistake its check must name or None for a right answer, the answer)
ANSWERS = [('param_count', None, by_parts),
           ('param_count', 'biases forgotten', no_biases),
           ('param_count', 'LayerNorms forgotten', no_layernorms),
           ('param_count', 'no position for [class]', patches_only_positions),
           ('param_count', 'MLP counted as D x D', square_mlp),
           ('param_count', 'MLP size fixed at 4D', table1_mlp),
           ('param_count', 'head forgotten', no_head)]

def by_parts_numpy(img_size, patch_size, embed_dim, depth, num_classes, mlp_ratio=4, in_chans=3):  # right, numpy
    import numpy as np
    return np.int64(by_parts(img_size, patch_size, embed_dim, depth, num_classes, mlp_ratio, in_chans))

ANSWERS += [('param_count', None, by_parts_numpy)]
