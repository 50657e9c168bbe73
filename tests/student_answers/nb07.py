"Answers to notebook 07's exercise as students write them: right ones, and the typical mistakes its check names."
import torch
import torch.nn.functional as F


def tokens_loops(fmap, proj):  # right: position by position, row by row
    B, C, H, W = fmap.shape
    w, b = proj.weight[:, :, 0, 0], proj.bias
    rows = [torch.stack([fmap[:, :, i, j] @ w.T + b for j in range(W)], 1) for i in range(H)]
    return torch.cat(rows, 1)

def tokens_einsum(fmap, proj):  # right: the projection as an einsum, then the grid flattened
    x = torch.einsum('bchw,dc->bhwd', fmap, proj.weight[:, :, 0, 0]) + proj.bias
    return x.flatten(1, 2)

def tokens_conv_then_flatten(fmap, proj):  # right: as HybridEmbed, with permute
    return proj(fmap).permute(0, 2, 3, 1).flatten(1, 2)

def tokens_column_major(fmap, proj):
    x = proj(fmap).permute(0, 3, 2, 1)  # (B, W', H', D)
    return x.reshape(x.shape[0], -1, x.shape[-1])

def tokens_channels(fmap, proj):
    x = proj(fmap)
    return x.reshape(x.shape[0], x.shape[1], -1)

def tokens_reshaped(fmap, proj):
    x = proj(fmap)
    B, D, H, W = x.shape
    return x.reshape(B, H * W, D)

def tokens_no_projection(fmap, proj):
    return fmap.flatten(2).transpose(1, 2)

def tokens_no_bias(fmap, proj):
    x = fmap.flatten(2).transpose(1, 2)
    return x @ proj.weight.flatten(1).T

ANSWERS = [('hybrid_tokens', None, tokens_loops),
           ('hybrid_tokens', None, tokens_einsum),
           ('hybrid_tokens', None, tokens_conv_then_flatten),
           ('hybrid_tokens', 'column-major', tokens_column_major),
           ('hybrid_tokens', 'channels as tokens', tokens_channels),
           ('hybrid_tokens', 'reshape, not transpose', tokens_reshaped),
           ('hybrid_tokens', 'projection forgotten', tokens_no_projection),
           ('hybrid_tokens', 'bias forgotten', tokens_no_bias)]
