"""Loading by Hub name through huggingface_hub's cache, offline: a cache filled here in the Hub's own layout, and an
empty one. Each in a subprocess with its own HF_HOME (huggingface_hub reads its variables when it is imported)."""
import os, subprocess, sys
import torch
from vit_nbdev.model import create_model
from vit_nbdev.published import save_pretrained

def fill_cache(hf_home, repo:str, folder):
    "Put a checkpoint folder into a Hugging Face cache as a download would: refs/main -> snapshots/<commit>/."
    commit = 'a' * 40
    root = hf_home/'hub'/f"models--{repo.replace('/', '--')}"
    (root/'refs').mkdir(parents=True)
    (root/'refs'/'main').write_text(commit)
    (root/'snapshots'/commit).mkdir(parents=True)
    for f in folder.iterdir(): (root/'snapshots'/commit/f.name).write_bytes(f.read_bytes())

LOAD = """
import sys, torch
from vit_nbdev.published import from_pretrained
from vit_nbdev.checkpoint import load_state
m = from_pretrained(sys.argv[1])
want = load_state(sys.argv[2])
print('same weights' if all(torch.equal(m.state_dict()[k], v) for k, v in want.items()) else 'different weights')
"""

def run(code, *args, hf_home):
    env = {**os.environ, 'HF_HOME': str(hf_home), 'HF_HUB_OFFLINE': '1', 'OMP_NUM_THREADS': '1'}
    return subprocess.run([sys.executable, '-c', code, *map(str, args)], capture_output=True, text=True, env=env,
                          timeout=300)

def test_hub_names_load_offline_from_the_cache(tmp_path):
    torch.manual_seed(0)
    model = create_model('vit_tiny_patch4_32', depth=2)
    with torch.no_grad():
        for p in model.parameters(): p.add_(torch.randn_like(p) * 0.05)
    save_pretrained(model, tmp_path/'timm', 'timm')
    save_pretrained(model, tmp_path/'hf', 'hf')
    torch.save(model.state_dict(), tmp_path/'ours.pth')
    fill_cache(tmp_path/'home', 'timm/vit_tiny_patch4_32.test', tmp_path/'timm')
    fill_cache(tmp_path/'home', 'someone/vit-tiny-test', tmp_path/'hf')
    for repo in ('timm/vit_tiny_patch4_32.test', 'someone/vit-tiny-test'):
        r = run(LOAD, repo, tmp_path/'ours.pth', hf_home=tmp_path/'home')
        assert r.returncode == 0 and r.stdout.strip() == 'same weights', (repo, r.stdout, r.stderr)
    r = run(LOAD, 'google/vit-base-patch16-224', tmp_path/'ours.pth', hf_home=tmp_path/'empty')  # nothing cached
    assert r.returncode != 0
    last = r.stderr.strip().splitlines()[-1]
    assert 'is not in the Hugging Face cache' in last and 'run this once with internet' in last, last
    assert 'pass the path of a local file or folder' in last

def test_the_api_is_where_users_import_it():
    "The formats live in vit_nbdev.formats (notebook 14b); what a user calls stays in vit_nbdev.published."
    import vit_nbdev.formats as formats, vit_nbdev.published as published
    for name in ('from_pretrained', 'save_pretrained', 'imagenet_classes', 'locate', 'resize_pos_embed', 'hub_folder'):
        assert name in published.__all__, name
    for name in ('Format', 'Source', 'FORMATS', 'detect_format', 'OURS', 'TIMM', 'HF', 'NPZ', 'config_from_state'):
        assert name in formats.__all__, name
    assert published.FORMATS is formats.FORMATS  # save_pretrained writes what the table holds
