"Answers to notebook 06's exercises as students write them: right ones, and the typical mistakes their checks name."
import torch
import torch.nn.functional as F

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

def head_by_cases(z, norm, head, pool):  # right: normalise every token, then pool, then the head
    z = norm(z)
    if pool == 'token':
        y = z[:, 0]
    else:
        y = z.mean(dim=1)
    return head(y)

def head_functional(z, norm, head, pool):  # right: torch.nn.functional, the sum over tokens divided by T
    z = F.layer_norm(z, norm.normalized_shape, norm.weight, norm.bias, norm.eps)
    y = z.select(1, 0) if pool == 'token' else z.sum(1) / z.shape[1]
    return F.linear(y, head.weight, head.bias)

def head_last_token(z, norm, head, pool):
    z = norm(z)
    return head(z[:, -1] if pool == 'token' else z.mean(1))

def head_always_average(z, norm, head, pool):  # the [class] token averaged with the patches
    return head(norm(z).mean(dim=1))

def head_skips_first(z, norm, head, pool):  # treats token 0 as a [class] token in 'avg' too
    z = norm(z)
    return head(z[:, 0]) if pool == 'token' else head(z[:, 1:].mean(1))

def head_always_token(z, norm, head, pool):
    return head(norm(z)[:, 0])

def head_no_norm(z, norm, head, pool):
    y = z[:, 0] if pool == 'token' else z.mean(1)
    return head(y)

def head_norm_after_pool(z, norm, head, pool):
    y = z[:, 0] if pool == 'token' else z.mean(1)
    return head(norm(y))

def head_every_token(z, norm, head, pool):
    return head(norm(z))

ANSWERS += [('head', None, head_by_cases),
            ('head', None, head_functional),
            ('head', 'last token', head_last_token),
            ('head', 'average including the [class] token', head_always_average),
            ('head', 'first patch left out of the average', head_skips_first),
            ('head', "'avg' read as the [class] token", head_always_token),
            ('head', 'final LayerNorm forgotten', head_no_norm),
            ('head', 'LayerNorm after pooling', head_norm_after_pool),
            ('head', 'head on every token', head_every_token)]

def forward_steps(x, patch_embed, cls_token, pos_embed, blocks, norm, head):  # right: eqs. (1)-(4) in order
    patches = patch_embed(x)
    cls = cls_token.expand(x.shape[0], -1, -1)
    z = torch.cat([cls, patches], dim=1) + pos_embed
    for block in blocks:
        z = block(z)
    return head(norm(z[:, 0]))  # LN works token by token: normalising the [class] row alone is the same

def forward_by_index(x, patch_embed, cls_token, pos_embed, blocks, norm, head):  # right: repeat, index loop
    B = len(x)
    z = torch.cat((cls_token.repeat(B, 1, 1), patch_embed(x)), 1)
    z = z + pos_embed.expand(B, -1, -1)
    for i in range(len(blocks)):
        z = blocks[i](z)
    return head(norm(z))[:, 0]

def forward_pos_first(x, patch_embed, cls_token, pos_embed, blocks, norm, head):
    z = patch_embed(x) + pos_embed[:, :-1]  # sliced to fit the N patches
    z = torch.cat([cls_token.expand(len(x), -1, -1), z], dim=1)
    for blk in blocks: z = blk(z)
    return head(norm(z)[:, 0])

def forward_pos_patches(x, patch_embed, cls_token, pos_embed, blocks, norm, head):
    z = patch_embed(x) + pos_embed[:, 1:]
    z = torch.cat([cls_token.expand(len(x), -1, -1), z], dim=1)
    for blk in blocks: z = blk(z)
    return head(norm(z)[:, 0])

def forward_no_pos(x, patch_embed, cls_token, pos_embed, blocks, norm, head):
    z = torch.cat([cls_token.expand(len(x), -1, -1), patch_embed(x)], dim=1)
    for blk in blocks: z = blk(z)
    return head(norm(z)[:, 0])

def forward_no_cls(x, patch_embed, cls_token, pos_embed, blocks, norm, head):  # average pooling instead
    z = patch_embed(x) + pos_embed[:, 1:]
    for blk in blocks: z = blk(z)
    return head(norm(z).mean(dim=1))

def forward_no_norm(x, patch_embed, cls_token, pos_embed, blocks, norm, head):
    z = torch.cat([cls_token.expand(len(x), -1, -1), patch_embed(x)], dim=1) + pos_embed
    for blk in blocks: z = blk(z)
    return head(z[:, 0])

def forward_reversed(x, patch_embed, cls_token, pos_embed, blocks, norm, head):
    z = torch.cat([cls_token.expand(len(x), -1, -1), patch_embed(x)], dim=1) + pos_embed
    for blk in reversed(blocks): z = blk(z)
    return head(norm(z)[:, 0])

def forward_last_block(x, patch_embed, cls_token, pos_embed, blocks, norm, head):
    z = torch.cat([cls_token.expand(len(x), -1, -1), patch_embed(x)], dim=1) + pos_embed
    z = blocks[-1](z)
    return head(norm(z)[:, 0])

def forward_cls_from_end(x, patch_embed, cls_token, pos_embed, blocks, norm, head):
    z = torch.cat([cls_token.expand(len(x), -1, -1), patch_embed(x)], dim=1) + pos_embed
    for blk in blocks: z = blk(z)
    return head(norm(z)[:, -1])

ANSWERS += [('forward', None, forward_steps),
            ('forward', None, forward_by_index),
            ('forward', 'E_pos added before the [class] token', forward_pos_first),
            ('forward', 'E_pos on the patches only', forward_pos_patches),
            ('forward', 'E_pos forgotten', forward_no_pos),
            ('forward', '[class] token not prepended', forward_no_cls),
            ('forward', 'final LayerNorm forgotten', forward_no_norm),
            ('forward', 'blocks in reverse order', forward_reversed),
            ('forward', 'only the last block', forward_last_block),
            ('forward', '[class] token read from the end', forward_cls_from_end)]
