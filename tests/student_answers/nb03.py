"Answers to notebook 03's exercises as students write them: one right each, and the typical mistakes the checks name."
import torch
import torch.nn.functional as F
from vit_nbdev.patches import patchify

# embed: the conv's weight as the matrix E of eq. (1)
def embed_unfold(x, weight, bias, patch_size):  # right: unfold flattens patches in (C, P, P) order, like the weight
    cols = F.unfold(x, patch_size, stride=patch_size)  # (B, C*P*P, N)
    return (weight.reshape(weight.shape[0], -1) @ cols).transpose(1, 2) + bias

def embed_conv_order(x, weight, bias, patch_size):
    D = weight.shape[0]
    E = weight.reshape(D, -1).T
    return patchify(x, patch_size) @ E + bias

def embed_no_bias(x, weight, bias, patch_size):
    D = weight.shape[0]
    E = weight.permute(0, 2, 3, 1).reshape(D, -1).T
    return patchify(x, patch_size) @ E

def embed_d_by_n(x, weight, bias, patch_size):
    W = weight.permute(0, 2, 3, 1).flatten(1)  # (D, P*P*C)
    return W @ patchify(x, patch_size).transpose(1, 2) + bias[:, None]

def embed_no_transpose(x, weight, bias, patch_size):
    E = weight.permute(0, 2, 3, 1).reshape(weight.shape[0], -1)
    return patchify(x, patch_size) @ E + bias

# tokens: z_0 = [x_class; x_p E] + E_pos
def tokens_per_image(patch_embeddings, cls_token, pos_embed):  # right: one image at a time
    return torch.stack([torch.cat([cls_token[0], z]) for z in patch_embeddings]) + pos_embed

def tokens_appended(patch_embeddings, cls_token, pos_embed):
    B = patch_embeddings.shape[0]
    return torch.cat([patch_embeddings, cls_token.expand(B, -1, -1)], dim=1) + pos_embed

def tokens_cls_pos_twice(patch_embeddings, cls_token, pos_embed):
    B = patch_embeddings.shape[0]
    cls = cls_token + pos_embed[:, :1]
    z = torch.cat([cls.repeat(B, 1, 1), patch_embeddings], dim=1)
    return z + pos_embed

def tokens_no_pos(patch_embeddings, cls_token, pos_embed):
    B = patch_embeddings.shape[0]
    return torch.cat([cls_token.repeat(B, 1, 1), patch_embeddings], dim=1)

def tokens_cls_no_pos(patch_embeddings, cls_token, pos_embed):
    B = patch_embeddings.shape[0]
    z = patch_embeddings + pos_embed[:, 1:]
    return torch.cat([cls_token.repeat(B, 1, 1), z], dim=1)

def tokens_pos_first_rows(patch_embeddings, cls_token, pos_embed):  # "the patches take E_pos's first N rows"
    B, N, D = patch_embeddings.shape
    z = patch_embeddings + pos_embed[:, :N]
    return torch.cat([cls_token.expand(B, 1, D), z], dim=1)

def tokens_not_expanded(patch_embeddings, cls_token, pos_embed):
    return torch.cat([cls_token, patch_embeddings], dim=1) + pos_embed

# (exercise, the mistake its check must name or None for a right answer, the answer)
ANSWERS = [('embed', None, embed_unfold),
           ('embed', 'weight in (C, P, P) order', embed_conv_order),
           ('embed', 'bias forgotten', embed_no_bias),
           ('embed', 'result transposed (B, D, N)', embed_d_by_n),
           ('embed', 'weight not transposed', embed_no_transpose),
           ('tokens', None, tokens_per_image),
           ('tokens', 'class token appended', tokens_appended),
           ('tokens', 'class position added twice', tokens_cls_pos_twice),
           ('tokens', 'position embeddings forgotten', tokens_no_pos),
           ('tokens', 'class token without its position', tokens_cls_no_pos),
           ('tokens', 'E_pos rows off by one', tokens_pos_first_rows),
           ('tokens', 'class token not expanded', tokens_not_expanded)]

def tokens_in_place(patch_embeddings, cls_token, pos_embed):  # changes the caller's tensor
    patch_embeddings += pos_embed[:, 1:]
    cls = (cls_token + pos_embed[:, :1]).expand(len(patch_embeddings), -1, -1)
    return torch.cat([cls, patch_embeddings], 1)

ANSWERS += [('tokens', 'input changed in place', tokens_in_place)]
