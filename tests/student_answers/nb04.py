"Answers to notebook 04's exercises as students write them: one right each, and the typical mistakes the checks name."
import math
import torch
import torch.nn.functional as F

# attention: A = softmax(q k^T / sqrt(D_h)), SA = A v
def attention_by_hand(q, k, v):  # right: the softmax written out
    s = q @ k.mT / math.sqrt(q.size(-1))
    e = torch.exp(s - s.max(dim=-1, keepdim=True).values)
    A = e / e.sum(dim=-1, keepdim=True)
    return A @ v, A

def attention_unscaled(q, k, v):
    A = F.softmax(q @ k.transpose(-2, -1), dim=-1)
    return A @ v, A

def attention_softmax_queries(q, k, v):
    scores = q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1])
    A = scores.softmax(dim=-2)
    return A @ v, A

def attention_over_dh(q, k, v):
    d = q.shape[-1]
    A = torch.softmax(q @ k.transpose(-1, -2) / d, dim=-1)
    return A @ v, A

def attention_times_sqrt(q, k, v):
    d = q.shape[-1]
    A = torch.softmax(q @ k.transpose(-1, -2) * math.sqrt(d), dim=-1)
    return A @ v, A

# split_heads: (B, N, 3D) -> q, k, v, each (B, heads, N, D_h)
def split_by_slices(qkv, num_heads):  # right: slice out each head of q, k and v
    B, N, D3 = qkv.shape
    D = D3 // 3
    Dh = D // num_heads
    return tuple(torch.stack([qkv[:, :, i * D + h * Dh: i * D + (h + 1) * Dh] for h in range(num_heads)], dim=1)
                 for i in range(3))

def split_heads_first(qkv, num_heads):
    B, N, D3 = qkv.shape
    Dh = D3 // 3 // num_heads
    q, k, v = qkv.reshape(B, N, num_heads, 3, Dh).permute(3, 0, 2, 1, 4)
    return q, k, v

def split_straight_reshape(qkv, num_heads):
    B, N, D3 = qkv.shape
    q, k, v = qkv.chunk(3, dim=-1)
    Dh = q.shape[-1] // num_heads
    return q.reshape(B, num_heads, N, Dh), k.reshape(B, num_heads, N, Dh), v.reshape(B, num_heads, N, Dh)

def split_no_transpose(qkv, num_heads):
    B, N, D3 = qkv.shape
    Dh = D3 // 3 // num_heads
    x = qkv.reshape(B, N, 3, num_heads, Dh)
    return x[:, :, 0], x[:, :, 1], x[:, :, 2]

def split_interleaved(qkv, num_heads):
    B, N, D3 = qkv.shape
    out = []
    for t in qkv.chunk(3, dim=-1):
        out.append(t.reshape(B, N, -1, num_heads).permute(0, 3, 1, 2))
    return tuple(out)

# (exercise, the mistake its check must name or None for a right answer, the answer)
ANSWERS = [('attention', None, attention_by_hand),
           ('attention', 'no 1/sqrt(D_h) scaling', attention_unscaled),
           ('attention', 'softmax over the queries', attention_softmax_queries),
           ('attention', 'scaled by 1/D_h', attention_over_dh),
           ('attention', 'scaled by sqrt(D_h)', attention_times_sqrt),
           ('split_heads', None, split_by_slices),
           ('split_heads', 'heads before q, k, v', split_heads_first),
           ('split_heads', 'reshape without moving axes', split_straight_reshape),
           ('split_heads', 'tokens and heads not swapped', split_no_transpose),
           ('split_heads', 'heads interleaved', split_interleaved)]

def attention_over_sqrt_n(q, k, v):
    A = torch.softmax(q @ k.transpose(-2, -1) / math.sqrt(k.shape[-2]), dim=-1)
    return A @ v, A

def attention_scales_q_in_place(q, k, v):  # right values, but the caller's q is divided
    q /= math.sqrt(q.shape[-1])
    A = torch.softmax(q @ k.transpose(-2, -1), dim=-1)
    return A @ v, A

def attention_half(q, k, v):
    A = torch.softmax(q.half() @ k.half().transpose(-2, -1) / math.sqrt(q.shape[-1]), dim=-1)
    return A @ v.half(), A

def attention_double(q, k, v):
    A = torch.softmax(q.double() @ k.double().transpose(-2, -1) / math.sqrt(q.shape[-1]), dim=-1)
    return A @ v.double(), A

ANSWERS += [('attention', 'scaled by sqrt(N)', attention_over_sqrt_n),
            ('attention', 'input changed in place', attention_scales_q_in_place),
            ('attention', 'float16 result', attention_half),
            ('attention', 'float64 result', attention_double)]

# merge_heads: (B, heads, Q, D_h) -> (B, Q, D), then the output projection
def merge_by_permute(x, weight, bias):  # right: move the heads next to D_h, flatten, then F.linear
    B, H, Q, Dh = x.shape
    return F.linear(x.permute(0, 2, 1, 3).reshape(B, Q, H * Dh), weight, bias)

def merge_with_einsum(x, weight, bias):  # right: the projection as a sum over heads of each head's slice of U_msa
    B, H, Q, Dh = x.shape
    U = weight.T.reshape(H, Dh, -1)  # rows of U_msa, head by head
    return torch.einsum('bhqd,hde->bqe', x, U) + bias

def merge_straight_reshape(x, weight, bias):
    B, H, Q, Dh = x.shape
    return x.reshape(B, Q, H * Dh) @ weight.T + bias

def merge_interleaved(x, weight, bias):
    B, H, Q, Dh = x.shape
    return torch.stack(x.unbind(1), dim=-1).reshape(B, Q, H * Dh) @ weight.T + bias

def merge_no_projection(x, weight, bias):
    return x.transpose(1, 2).flatten(2)

def merge_weight_as_given(x, weight, bias):
    return x.transpose(1, 2).flatten(2) @ weight + bias

def merge_no_bias(x, weight, bias):
    return x.transpose(1, 2).flatten(2) @ weight.T

ANSWERS += [('merge_heads', None, merge_by_permute),
            ('merge_heads', None, merge_with_einsum),
            ('merge_heads', 'heads reshaped without transpose', merge_straight_reshape),
            ('merge_heads', 'features interleaved', merge_interleaved),
            ('merge_heads', 'projection forgotten', merge_no_projection),
            ('merge_heads', 'weight untransposed', merge_weight_as_given),
            ('merge_heads', 'bias forgotten', merge_no_bias)]
