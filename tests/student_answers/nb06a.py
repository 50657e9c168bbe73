"Answers to the capstone (notebook 06a) as students write them: right ones written other ways, and its named mistakes."
import math
import torch
import torch.nn.functional as F
from torch import nn

# A student's own pieces, pasted from notebooks 02 to 05 and written their way

def patches(x, P):  # (B, C, H, W) -> (B, N, P*P*C), row by row, each patch (P, P, C)
    B, C, H, W = x.shape
    x = x.reshape(B, C, H // P, P, W // P, P).permute(0, 2, 4, 3, 5, 1)
    return x.reshape(B, (H // P) * (W // P), P * P * C)

def dense(x, sd, name):
    return x @ sd[name + '.weight'].t() + sd[name + '.bias']

def layer_norm(x, sd, name, eps=1e-6):
    mu = x.mean(-1, keepdim=True)
    var = ((x - mu) ** 2).mean(-1, keepdim=True)
    return (x - mu) / torch.sqrt(var + eps) * sd[name + '.weight'] + sd[name + '.bias']

def gelu(x):  # the exact one: x Phi(x)
    return 0.5 * x * (1 + torch.erf(x / math.sqrt(2)))

def embed(x, sd):  # eq. (1), x already normalised
    w = sd['patch_embed.proj.weight']
    E = w.permute(2, 3, 1, 0).reshape(-1, w.shape[0])
    tokens = patches(x, w.shape[-1]) @ E + sd['patch_embed.proj.bias']
    cls = sd['cls_token'].expand(x.shape[0], 1, -1)
    return torch.cat([cls, tokens], dim=1) + sd['pos_embed']

def heads_of(t, h):  # (B, N, D) -> (B, h, N, D/h)
    B, N, D = t.shape
    return t.reshape(B, N, h, D // h).permute(0, 2, 1, 3)

def attend(q, k, v):  # the heads' outputs side by side: (B, N, D)
    A = torch.softmax(q @ k.transpose(-1, -2) / math.sqrt(q.shape[-1]), dim=-1)
    out = A @ v
    return out.permute(0, 2, 1, 3).reshape(out.shape[0], out.shape[2], -1)

def msa(z, sd, p, h):
    q, k, v = dense(z, sd, p + 'attn.qkv').chunk(3, dim=-1)
    return dense(attend(heads_of(q, h), heads_of(k, h), heads_of(v, h)), sd, p + 'attn.proj')

def mlp(z, sd, p, act=gelu):
    return dense(act(dense(z, sd, p + 'mlp.fc1')), sd, p + 'mlp.fc2')

def n_blocks(sd):
    return 1 + max(int(k.split('.')[1]) for k in sd if k.startswith('blocks.'))

# Right answers

def assembled(images, state_dict, num_heads):  # right: the pieces above, one equation a line
    sd = state_dict
    z = embed(images.float() / 127.5 - 1, sd)
    for i in range(n_blocks(sd)):
        p = f'blocks.{i}.'
        z = z + msa(layer_norm(z, sd, p + 'norm1'), sd, p, num_heads)
        z = z + mlp(layer_norm(z, sd, p + 'norm2'), sd, p)
    return dense(layer_norm(z[:, 0], sd, 'norm'), sd, 'head')

def with_functional(images, state_dict, num_heads):  # right: torch.nn.functional's conv, attention, norms
    sd, h = state_dict, num_heads
    w = sd['patch_embed.proj.weight']
    x = (images.float() / 255 - 0.5) / 0.5
    x = F.conv2d(x, w, sd['patch_embed.proj.bias'], stride=w.shape[-1]).flatten(2).transpose(1, 2)
    z = torch.cat([sd['cls_token'].expand(len(x), -1, -1), x], dim=1) + sd['pos_embed']
    D = z.shape[-1]
    for i in range(n_blocks(sd)):
        p = f'blocks.{i}.'
        y = F.layer_norm(z, (D,), sd[p + 'norm1.weight'], sd[p + 'norm1.bias'], eps=1e-6)
        qkv = F.linear(y, sd[p + 'attn.qkv.weight'], sd[p + 'attn.qkv.bias'])
        q, k, v = qkv.unflatten(-1, (3, h, D // h)).permute(2, 0, 3, 1, 4)
        a = F.scaled_dot_product_attention(q, k, v).transpose(1, 2).flatten(2)
        z = z + F.linear(a, sd[p + 'attn.proj.weight'], sd[p + 'attn.proj.bias'])
        y = F.layer_norm(z, (D,), sd[p + 'norm2.weight'], sd[p + 'norm2.bias'], eps=1e-6)
        y = F.gelu(F.linear(y, sd[p + 'mlp.fc1.weight'], sd[p + 'mlp.fc1.bias']))
        z = z + F.linear(y, sd[p + 'mlp.fc2.weight'], sd[p + 'mlp.fc2.bias'])
    y = F.layer_norm(z[:, 0], (D,), sd['norm.weight'], sd['norm.bias'], eps=1e-6)
    return F.linear(y, sd['head.weight'], sd['head.bias'])

def torch_modules(images, state_dict, num_heads):  # right: PyTorch's own layers; nn.MultiheadAttention packs [q; k; v]
    sd = state_dict
    D = sd['cls_token'].shape[-1]
    z = embed(images.float() / 127.5 - 1, sd)
    for i in range(n_blocks(sd)):
        p = f'blocks.{i}.'
        norm1, norm2 = nn.LayerNorm(D, eps=1e-6), nn.LayerNorm(D, eps=1e-6)
        attn = nn.MultiheadAttention(D, num_heads, batch_first=True)
        fc1, fc2 = nn.Linear(D, sd[p + 'mlp.fc1.bias'].shape[0]), nn.Linear(sd[p + 'mlp.fc1.bias'].shape[0], D)
        norm1.load_state_dict({'weight': sd[p + 'norm1.weight'], 'bias': sd[p + 'norm1.bias']})
        norm2.load_state_dict({'weight': sd[p + 'norm2.weight'], 'bias': sd[p + 'norm2.bias']})
        attn.load_state_dict({'in_proj_weight': sd[p + 'attn.qkv.weight'], 'in_proj_bias': sd[p + 'attn.qkv.bias'],
                              'out_proj.weight': sd[p + 'attn.proj.weight'], 'out_proj.bias': sd[p + 'attn.proj.bias']})
        fc1.load_state_dict({'weight': sd[p + 'mlp.fc1.weight'], 'bias': sd[p + 'mlp.fc1.bias']})
        fc2.load_state_dict({'weight': sd[p + 'mlp.fc2.weight'], 'bias': sd[p + 'mlp.fc2.bias']})
        y = norm1(z)
        z = z + attn(y, y, y, need_weights=False)[0]
        z = z + fc2(nn.GELU()(fc1(norm2(z))))
    return dense(layer_norm(z[:, 0], sd, 'norm'), sd, 'head')

# The named mistakes, each as a student writes it

def default_eps(images, state_dict, num_heads):  # nn.LayerNorm's default eps
    sd = state_dict
    D = sd['cls_token'].shape[-1]
    ln = lambda x, name: F.layer_norm(x, (D,), sd[name + '.weight'], sd[name + '.bias'])
    z = embed(images.float() / 127.5 - 1, sd)
    for i in range(n_blocks(sd)):
        p = f'blocks.{i}.'
        z = z + msa(ln(z, p + 'norm1'), sd, p, num_heads)
        z = z + mlp(ln(z, p + 'norm2'), sd, p)
    return dense(ln(z[:, 0], 'norm'), sd, 'head')

def tanh_gelu(images, state_dict, num_heads):  # the GELU of BERT's code
    sd = state_dict
    act = lambda x: 0.5 * x * (1 + torch.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x ** 3)))
    z = embed(images.float() / 127.5 - 1, sd)
    for i in range(n_blocks(sd)):
        p = f'blocks.{i}.'
        z = z + msa(layer_norm(z, sd, p + 'norm1'), sd, p, num_heads)
        z = z + mlp(layer_norm(z, sd, p + 'norm2'), sd, p, act=act)
    return dense(layer_norm(z[:, 0], sd, 'norm'), sd, 'head')

def qkv_per_head(images, state_dict, num_heads):  # reads the fused qkv as (heads, 3, D_h)
    sd, h = state_dict, num_heads
    z = embed(images.float() / 127.5 - 1, sd)
    B, T, D = z.shape
    for i in range(n_blocks(sd)):
        p = f'blocks.{i}.'
        qkv = dense(layer_norm(z, sd, p + 'norm1'), sd, p + 'attn.qkv').reshape(B, T, h, 3, D // h)
        q, k, v = (qkv[:, :, :, j].transpose(1, 2) for j in range(3))
        z = z + dense(attend(q, k, v), sd, p + 'attn.proj')
        z = z + mlp(layer_norm(z, sd, p + 'norm2'), sd, p)
    return dense(layer_norm(z[:, 0], sd, 'norm'), sd, 'head')

def heads_strided(images, state_dict, num_heads):  # head j gets features j, j + h, j + 2h, ...
    sd, h = state_dict, num_heads
    z = embed(images.float() / 127.5 - 1, sd)
    B, T, D = z.shape
    split = lambda t: t.reshape(B, T, D // h, h).permute(0, 3, 1, 2)
    for i in range(n_blocks(sd)):
        p = f'blocks.{i}.'
        q, k, v = dense(layer_norm(z, sd, p + 'norm1'), sd, p + 'attn.qkv').chunk(3, dim=-1)
        z = z + dense(attend(split(q), split(k), split(v)), sd, p + 'attn.proj')
        z = z + mlp(layer_norm(z, sd, p + 'norm2'), sd, p)
    return dense(layer_norm(z[:, 0], sd, 'norm'), sd, 'head')

def no_final_norm(images, state_dict, num_heads):  # the blocks straight into the head
    sd = state_dict
    z = embed(images.float() / 127.5 - 1, sd)
    for i in range(n_blocks(sd)):
        p = f'blocks.{i}.'
        z = z + msa(layer_norm(z, sd, p + 'norm1'), sd, p, num_heads)
        z = z + mlp(layer_norm(z, sd, p + 'norm2'), sd, p)
    return dense(z[:, 0], sd, 'head')

def to_tensor_pixels(images, state_dict, num_heads):  # pixels as ToTensor gives them
    sd = state_dict
    z = embed(images.float() / 255, sd)
    for i in range(n_blocks(sd)):
        p = f'blocks.{i}.'
        z = z + msa(layer_norm(z, sd, p + 'norm1'), sd, p, num_heads)
        z = z + mlp(layer_norm(z, sd, p + 'norm2'), sd, p)
    return dense(layer_norm(z[:, 0], sd, 'norm'), sd, 'head')

def imagenet_pixels(images, state_dict, num_heads):  # timm's IMAGENET_DEFAULT_MEAN and _STD
    sd = state_dict
    mean = torch.tensor([0.485, 0.456, 0.406])[:, None, None]
    std = torch.tensor([0.229, 0.224, 0.225])[:, None, None]
    z = embed((images / 255 - mean) / std, sd)
    for i in range(n_blocks(sd)):
        p = f'blocks.{i}.'
        z = z + msa(layer_norm(z, sd, p + 'norm1'), sd, p, num_heads)
        z = z + mlp(layer_norm(z, sd, p + 'norm2'), sd, p)
    return dense(layer_norm(z[:, 0], sd, 'norm'), sd, 'head')

def mean_pooled(images, state_dict, num_heads):  # averages the patches, as in Appendix D.3
    sd = state_dict
    z = embed(images.float() / 127.5 - 1, sd)
    for i in range(n_blocks(sd)):
        p = f'blocks.{i}.'
        z = z + msa(layer_norm(z, sd, p + 'norm1'), sd, p, num_heads)
        z = z + mlp(layer_norm(z, sd, p + 'norm2'), sd, p)
    return dense(layer_norm(z[:, 1:].mean(dim=1), sd, 'norm'), sd, 'head')

def scaled_by_width(images, state_dict, num_heads):  # attention written once more, over sqrt(D)
    sd = state_dict
    D = sd['cls_token'].shape[-1]
    z = embed(images.float() / 127.5 - 1, sd)
    for i in range(n_blocks(sd)):
        p = f'blocks.{i}.'
        qkv = dense(layer_norm(z, sd, p + 'norm1'), sd, p + 'attn.qkv')
        q, k, v = (heads_of(t, num_heads) for t in qkv.chunk(3, -1))
        A = torch.softmax(q @ k.transpose(-1, -2) / math.sqrt(D), dim=-1)
        z = z + dense((A @ v).transpose(1, 2).flatten(2), sd, p + 'attn.proj')
        z = z + mlp(layer_norm(z, sd, p + 'norm2'), sd, p)
    return dense(layer_norm(z[:, 0], sd, 'norm'), sd, 'head')

def course_model(images, state_dict, num_heads):  # the course's VisionTransformer itself
    from vit_nbdev.model import VisionTransformer
    sd = state_dict
    w = sd['patch_embed.proj.weight']
    m = VisionTransformer(32, w.shape[-1], 3, len(sd['head.bias']), w.shape[0], n_blocks(sd), num_heads).eval()
    m.load_state_dict(sd)
    return m(images.float() / 127.5 - 1)

# (exercise, the mistake its check must name or None for a right answer, the answer)
ANSWERS = [('vit', None, assembled),
           ('vit', None, with_functional),
           ('vit', None, torch_modules),
           ('vit', 'LayerNorm eps 1e-5', default_eps),
           ('vit', 'GELU tanh approximation', tanh_gelu),
           ('vit', 'q, k, v interleaved per head', qkv_per_head),
           ('vit', 'heads split the wrong way', heads_strided),
           ('vit', 'final LayerNorm forgotten', no_final_norm),
           ('vit', 'pixels in [0, 1]', to_tensor_pixels),
           ('vit', 'ImageNet mean and std', imagenet_pixels),
           ('vit', 'average of the patch tokens', mean_pooled),
           ('vit', 'scores scaled by sqrt(D)', scaled_by_width),
           ('vit', "the course's own function", course_model)]
