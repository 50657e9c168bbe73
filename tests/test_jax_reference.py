"""The original JAX code as the oracle: tiny models that google-research/vision_transformer built, perturbed, wrote
and ran itself (tests/fixtures/jax-reference: README.md and manifest.json say how). Every file loads through
`from_pretrained` and gives the reference's logits within 1e-5, under the published names, today's Flax names and
(hybrids) (1, 1, 1, C) GroupNorm; three also at a higher resolution, as the reference's `load_pretrained` resizes."""
import json
from pathlib import Path
import numpy as np, pytest, torch
from vit_nbdev.published import from_pretrained, save_pretrained
from vit_nbdev.formats import reference_numerics

FIX = Path(__file__).parent/'fixtures'/'jax-reference'
MANIFEST = {k: v for k, v in json.loads((FIX/'manifest.json').read_text()).items() if not k.startswith('_')}
CASES = [(tag, f, None) for tag, m in MANIFEST.items() for f in m['files']]
CASES += [(tag, m['files'][0], m['higher']) for tag, m in MANIFEST.items() if 'higher' in m]
PYTORCH = {'gelu_approx': 'none', 'ws_eps': 1e-8, 'ws_form': 'var', 'gn_eps': 1e-5}  # our defaults
quiet = lambda *a: None

def batch(name): return torch.from_numpy(np.load(FIX/name)).permute(0, 3, 1, 2)  # NHWC -> NCHW

def max_diff(file, inputs, logits, **kw):
    with torch.no_grad(): return (from_pretrained(FIX/file, log=quiet, **kw)(batch(inputs)) -
                                  torch.from_numpy(np.load(FIX/logits))).abs().max().item()

def test_fifteen_cases():
    assert len(CASES) == 15

@pytest.mark.parametrize('tag,file,higher', CASES, ids=[f"{f}{'@' + str(h['img_size']) if h else ''}"
                                                         for _, f, h in CASES])
def test_logits_match_the_reference(tag, file, higher):
    m, h = MANIFEST[tag], higher or {}
    kw = {'img_size': h['img_size']} if h else {}
    d = max_diff(file, h.get('input', m['input']), h.get('logits', m['logits']), **kw)
    print(f"{file} at {h.get('img_size', m['img_size'])}: max |logit difference| {d:.1e} (reference numerics)")
    assert d < 1e-5
    if not h:  # PyTorch's numerics give other logits: the options are what makes them agree
        pt = {k: v for k, v in PYTORCH.items() if k in reference_numerics({'arch': 'hybrid' if m['resnet'] else 'vit'})}
        assert max_diff(file, m['input'], m['logits'], **pt) > 1e-5

@pytest.mark.parametrize('tag', MANIFEST)
def test_architecture_read_from_the_file(tag):
    m = MANIFEST[tag]
    c = from_pretrained(FIX/m['files'][0], log=quiet).config
    want = dict(embed_dim=m['hidden'], num_heads=m['heads'], depth=m['layers'], num_classes=m['num_classes'],
                mlp_ratio=m['mlp'] / m['hidden'], img_size=m['img_size'], representation_size=m['representation_size'],
                global_pool={'token': 'token', 'gap': 'avg'}[m['classifier']], gelu_approx='tanh')
    if m['resnet']:
        want.update(backbone_layers=tuple(m['resnet']['num_layers']), ws_form='std', ws_eps=1e-5, gn_eps=1e-6,
                    backbone_width=int(64 * m['resnet']['width_factor']))
    assert {k: c[k] for k in want} == want

@pytest.mark.parametrize('tag', MANIFEST)
def test_save_pretrained_writes_the_reference_names(tag, tmp_path):
    m = MANIFEST[tag]
    published = dict(np.load(FIX/m['files'][0]))
    model = from_pretrained(FIX/m['files'][-1], log=quiet)  # the last: today's names, or (1, 1, 1, C) GroupNorm
    save_pretrained(model, tmp_path/'w.npz', 'npz', log=quiet)
    written = dict(np.load(tmp_path/'w.npz'))
    assert {k: v.shape for k, v in written.items()} == {k: v.reshape(-1).shape if 'gn' in k else v.shape
                                                         for k, v in published.items()}
    assert all(np.array_equal(written[k], published[k].reshape(written[k].shape)) for k in published)

def test_num_heads_override_is_honoured():
    c = from_pretrained(FIX/'vit_token.npz', log=quiet, num_heads=4).config
    assert c['num_heads'] == 4

def refused(tmp_path, arrays, contains):
    np.savez(tmp_path/'bad.npz', **arrays)
    with pytest.raises(ValueError) as e: from_pretrained(tmp_path/'bad.npz', log=quiet)
    assert contains in str(e.value), str(e.value)
    return str(e.value)

def test_refusals_name_the_files_own_key(tmp_path):
    w = dict(np.load(FIX/'vit_token.npz'))
    q = 'Transformer/encoderblock_0/MultiHeadDotProductAttention_1/query/kernel'
    msg = refused(tmp_path, {k: v for k, v in w.items() if k != q}, f"no {q}")
    assert '/key/' not in msg and '/value/' not in msg
    fc1 = 'Transformer/encoderblock_0/MlpBlock_3/Dense_0/kernel'
    msg = refused(tmp_path, {**w, fc1: w[fc1][:, :60]}, f"{fc1} (32, 60) (not (32, 64))")
    assert 'encoderblock_1' not in msg
    refused(tmp_path, {k: v for k, v in w.items() if k != fc1}, f"no {fc1}")
    nan = w['Transformer/encoder_norm/scale'].copy()
    nan[3] = np.nan
    refused(tmp_path, {**w, 'Transformer/encoder_norm/scale': nan},
            "NaN or infinite values in ['Transformer/encoder_norm/scale']")
