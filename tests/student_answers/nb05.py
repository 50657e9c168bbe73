"Answers to notebook 05's exercises as students write them: right ones, and the typical mistakes the checks name."
import math
import torch
import torch.nn.functional as F
from torch import nn

def two_steps(z, norm1, attn, norm2, mlp):  # right: eq. (2), then eq. (3), spelled out
    z_mid = attn(norm1(z)) + z
    z_out = mlp(norm2(z_mid)) + z_mid
    return z_out

def post_norm(z, norm1, attn, norm2, mlp):  # the original Transformer's order
    h = norm1(z + attn(z))
    return norm2(h + mlp(h))

def no_mlp_residual(z, norm1, attn, norm2, mlp):
    z_mid = z + attn(norm1(z))
    return mlp(norm2(z_mid))

def residual_after_norm(z, norm1, attn, norm2, mlp):
    x = norm1(z)
    x = x + attn(x)
    y = norm2(x)
    return y + mlp(y)

def norm1_twice(z, norm1, attn, norm2, mlp):
    z = z + attn(norm1(z))
    return z + mlp(norm1(z))

# (exercise, the mistake its check must name or None for a right answer, the answer)
ANSWERS = [('block', None, two_steps),
           ('block', 'post-norm', post_norm),
           ('block', 'MLP residual forgotten', no_mlp_residual),
           ('block', 'residual from the normalised input', residual_after_norm),
           ('block', 'the first LayerNorm used twice', norm1_twice)]

def no_attention_residual(z, norm1, attn, norm2, mlp):
    z_mid = attn(norm1(z))
    return mlp(norm2(z_mid)) + z_mid

def parallel(z, norm1, attn, norm2, mlp):  # both sub-layers read z
    return z + attn(norm1(z)) + mlp(norm2(z))

def residual_in_place(z, norm1, attn, norm2, mlp):  # right values, but z is the caller's tensor
    z += attn(norm1(z))
    z += mlp(norm2(z))
    return z

ANSWERS += [('block', 'attention residual forgotten', no_attention_residual),
            ('block', 'parallel block', parallel),
            ('block', 'input changed in place', residual_in_place)]

# layernorm: each token over its D features, then gamma and beta
def layernorm_var_mean(x, weight, bias, eps):  # right: torch.var_mean with the biased variance
    var, mu = torch.var_mean(x, dim=-1, keepdim=True, unbiased=False)
    return (x - mu) * torch.rsqrt(var + eps) * weight + bias

def layernorm_no_affine(x, weight, bias, eps):
    mu = x.mean(-1, keepdim=True)
    var = x.var(-1, unbiased=False, keepdim=True)
    return (x - mu) / torch.sqrt(var + eps)

def layernorm_over_batch(x, weight, bias, eps):  # BatchNorm's axis
    mu = x.mean(0, keepdim=True)
    var = ((x - mu) ** 2).mean(0, keepdim=True)
    return weight * (x - mu) / torch.sqrt(var + eps) + bias

def layernorm_over_tokens(x, weight, bias, eps):
    mu = x.mean(-2, keepdim=True)
    var = ((x - mu) ** 2).mean(-2, keepdim=True)
    return weight * (x - mu) / torch.sqrt(var + eps) + bias

def layernorm_std(x, weight, bias, eps):  # torch.std divides by D - 1
    return weight * (x - x.mean(-1, keepdim=True)) / torch.sqrt(x.std(-1, keepdim=True) ** 2 + eps) + bias

def layernorm_eps_outside(x, weight, bias, eps):
    mu = x.mean(-1, keepdim=True)
    sd = x.std(-1, unbiased=False, keepdim=True)
    return weight * (x - mu) / (sd + eps) + bias

def layernorm_no_eps(x, weight, bias, eps):
    mu = x.mean(-1, keepdim=True)
    return weight * (x - mu) / x.std(-1, unbiased=False, keepdim=True) + bias

# mlp: Linear, GELU, Linear
def mlp_f_gelu(x, fc1, fc2):  # right: torch's GELU
    return fc2(F.gelu(fc1(x)))

def mlp_module(x, fc1, fc2):  # right: as an nn.Sequential of the given layers
    return nn.Sequential(fc1, nn.GELU(), fc2)(x)

def mlp_relu(x, fc1, fc2):
    return fc2(torch.relu(fc1(x)))

def mlp_gelu_last(x, fc1, fc2):
    return F.gelu(fc2(fc1(x)))

def mlp_gelu_twice(x, fc1, fc2):
    return F.gelu(fc2(F.gelu(fc1(x))))

def mlp_relu_on_output(x, fc1, fc2):  # the MLP's output through a ReLU
    return torch.relu(fc2(F.gelu(fc1(x))))

def mlp_tanh(x, fc1, fc2):
    h = fc1(x)
    return fc2(0.5 * h * (1 + torch.tanh(math.sqrt(2 / math.pi) * (h + 0.044715 * h ** 3))))

def mlp_linear(x, fc1, fc2):
    return fc2(fc1(x))

def mlp_with_residual(x, fc1, fc2):
    return x + fc2(F.gelu(fc1(x)))

ANSWERS += [('layernorm', None, layernorm_var_mean),
            ('layernorm', 'learned parameters ignored', layernorm_no_affine),
            ('layernorm', 'wrong axis', layernorm_over_batch),
            ('layernorm', 'wrong axis', layernorm_over_tokens),
            ('layernorm', 'unbiased variance', layernorm_std),
            ('layernorm', 'eps outside the square root', layernorm_eps_outside),
            ('layernorm', 'eps forgotten', layernorm_no_eps),
            ('mlp', None, mlp_f_gelu),
            ('mlp', None, mlp_module),
            ('mlp', 'ReLU instead of GELU', mlp_relu),
            ('mlp', 'activation after fc2', mlp_gelu_last),
            ('mlp', 'activation after fc2', mlp_gelu_twice),
            ('mlp', 'activation after fc2', mlp_relu_on_output),
            ('mlp', 'tanh GELU', mlp_tanh),
            ('mlp', 'no activation', mlp_linear),
            ('mlp', 'residual inside the MLP', mlp_with_residual)]
