"Answers to notebook 05's exercise as students write them: one right, and the typical mistakes its check names."

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
