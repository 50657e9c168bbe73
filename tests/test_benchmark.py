"The benchmarks run end to end and print their tables (smoke tests on tiny settings, not timings)."
import json, os, subprocess, sys
from pathlib import Path

ROOT = Path(__file__).parents[1]

def consistent(ours, ref, ratio):
    "The printed ratio (3 decimals) is ours/ref, up to the rounding of the printed images/s (1 decimal)."
    lo, hi = (ours - 0.05) / (ref + 0.05), (ours + 0.05) / max(ref - 0.05, 1e-9)
    return lo - 0.0005 <= ratio <= hi + 0.0005

def test_inference_benchmark_prints_table():
    r = subprocess.run([sys.executable, ROOT/'benchmarks'/'inference.py', '--models', 'vit_tiny_patch16_224',
                        '--batch', '2', '--rounds', '1', '--dtypes', 'fp32', 'bf16'],
                       capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr
    rows = [l for l in r.stdout.splitlines() if l.startswith('| vit_tiny_patch16_224')]
    assert [l.split('|')[2].strip() for l in rows] == ['fp32', 'bf16 autocast']
    for l in rows:
        ours, ref, ratio = (float(c) for c in l.split('|')[4:7])
        assert ours > 0 and ref > 0 and consistent(ours, ref, ratio)

def test_training_benchmark_prints_table():
    args = ['--batch', '8', '--rounds', '1', '--warmup', '1']
    r = subprocess.run([sys.executable, ROOT/'benchmarks'/'training.py', *args], capture_output=True, text=True,
                       timeout=600)
    assert r.returncode == 0, r.stderr
    rows = [l.split('|') for l in r.stdout.splitlines() if l.startswith(('| fp32', '| bf16'))]
    assert [(c[1].strip(), c[2].strip(), c[3].strip()) for c in rows] == [
        ('fp32', 'fused', 'fused'), ('bf16 autocast', 'explicit', 'fused'), ('bf16 autocast', 'explicit', 'explicit')]
    for c in rows:
        ours, ref, ratio = float(c[4]), float(c[5]), float(c[6])
        assert ours > 0 and ref > 0 and consistent(ours, ref, ratio)

def test_hybrid_benchmark_prints_table(tmp_path):
    r = subprocess.run([sys.executable, ROOT/'benchmarks'/'hybrid.py', '--data', 'synthetic', '--val-size', '0.1',
                        '--epochs', '1', '--batch-size', '64', '--out', tmp_path/'h'],
                       capture_output=True, text=True, timeout=600, env={**os.environ, 'OMP_NUM_THREADS': '1'})
    assert r.returncode == 0, r.stderr
    rows = [l.split('|') for l in r.stdout.splitlines() if l.startswith('| vit_micro')]
    assert [c[1].strip() for c in rows] == ['vit_micro_patch4_32', 'vit_micro_r_s4_32']
    for c in rows: assert 0 <= float(c[3]) <= 100 and float(c[5]) > 0 and float(c[6]) > 0

def test_self_supervision_benchmark_prints_table(tmp_path):
    r = subprocess.run([sys.executable, ROOT/'benchmarks'/'self_supervision.py', '--data', 'synthetic',
                        '--val-size', '0.1', '--labelled', '200', '--mpp-epochs', '1', '--ft-epochs', '1',
                        '--out', tmp_path/'s'],
                       capture_output=True, text=True, timeout=600, env={**os.environ, 'OMP_NUM_THREADS': '1'})
    assert r.returncode == 0, r.stderr
    rows = [l.split('|') for l in r.stdout.splitlines() if l.startswith(('| none', '| masked', '| supervised'))]
    assert len(rows) == 3 and all(0 <= float(c[3]) <= 100 for c in rows)
    assert 'held-out colour accuracy' in r.stdout

def test_pipeline_benchmark_prints_table(tmp_path):
    import numpy as np
    from PIL import Image
    for c in ('cat', 'dog'):
        (tmp_path/c).mkdir()
        for i in range(130):
            Image.fromarray(np.random.randint(0, 256, (32, 32, 3), np.uint8)).save(tmp_path/c/f'{i}.jpg')
    r = subprocess.run([sys.executable, ROOT/'benchmarks'/'pipeline.py', '--data', tmp_path, '--images', '260',
                        '--steps', '2', '--rounds', '1'], capture_output=True, text=True, timeout=600,
                       env={**os.environ, 'OMP_NUM_THREADS': '1'})
    assert r.returncode == 0, r.stderr
    assert '260 JPEG files: decoded in' in r.stdout, r.stdout
    rows = [l.split('|') for l in r.stdout.splitlines() if l.startswith(('| image by image', '| whole batches'))]
    assert len(rows) == 2, r.stdout
    for row in rows:
        data_ms, step_ms, share = float(row[2]), float(row[3]), float(row[4].strip().rstrip('%'))
        assert data_ms > 0 and step_ms > 0 and abs(share - 100 * data_ms / (data_ms + step_ms)) < 0.2

def test_recipe_ablation_quick_and_resumed(tmp_path):
    "Every row within the same FLOPs budget; token dropping buys epochs; a second call reads the finished rows back."
    cmd = [sys.executable, ROOT/'benchmarks'/'recipe.py', '--quick', '--out', tmp_path/'a']
    env = {**os.environ, 'OMP_NUM_THREADS': '1'}
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=600, env=env)
    assert r.returncode == 0, r.stderr
    res = json.loads((tmp_path/'a'/'results.json').read_text())
    rows = {x['row']: x for x in res['rows']}
    assert list(rows) == ['paper', 'mimetic', 'avg+sincos', 'ema', 'token_drop', 'all', 'all_cls']
    for x in rows.values():
        assert 0.5 * res['budget_flops'] < x['flops'] <= res['budget_flops'] and 0 <= x['val_acc'] <= 1
    assert rows['token_drop']['epochs'] > rows['paper']['epochs'] == rows['mimetic']['epochs'] == rows['ema']['epochs']
    table = [l for l in r.stdout.splitlines() if l.startswith('| ')]
    again = subprocess.run(cmd, capture_output=True, text=True, timeout=600, env=env)
    assert again.returncode == 0 and '== ' not in again.stdout  # nothing trained again
    assert [l for l in again.stdout.splitlines() if l.startswith('| ')] == table

def test_recipe_stretched_to_any_number_of_epochs():
    "A budget of one epoch trains it at full size (no low-resolution phase is left); longer ones keep the share."
    import importlib.util
    spec = importlib.util.spec_from_file_location('recipe', ROOT/'benchmarks'/'recipe.py')
    recipe = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(recipe)
    base = recipe.shipped_recipe()  # 29 epochs, 18 of them at 16 px
    one, ten = (recipe.with_epochs(base, n, base.low_res_epochs / base.epochs) for n in (1, 10))
    assert (one.epochs, one.low_res, one.low_res_epochs) == (1, 0, 0)
    assert (ten.epochs, ten.low_res, ten.low_res_epochs) == (10, base.low_res, round(10 * 18 / 29))

def test_processes_benchmark_prints_table():
    "Three ways to spend 2 cores on one run, each run once on synthetic data; the ratios are to the first row."
    r = subprocess.run([sys.executable, ROOT/'benchmarks'/'processes.py', '--quick', '--rounds', '1', '--cores', '2'],
                       capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr
    rows = [l.split('|') for l in r.stdout.splitlines() if l.startswith('| ') and 'img/s' not in l and '---' not in l]
    assert [row[1].strip() for row in rows] == ['1 process x 2 threads, batch 16',
                                                '2 processes x 1 thread, batch 8 each (DDP)',
                                                '1 process x 2 threads, batch 32'], r.stdout
    medians = [float(row[3]) for row in rows]
    assert all(m > 0 for m in medians)
    for row, m in zip(rows, medians): assert abs(float(row[4]) - m / medians[0]) < 0.002, row

def test_gpu_script_on_cpu_tiny(tmp_path):
    "The GPU script's two parts, at tiny sizes on the CPU (no GPU here): a table, and the attention distances."
    env = {**os.environ, 'OMP_NUM_THREADS': '1'}
    r = subprocess.run([sys.executable, ROOT/'benchmarks'/'gpu.py', 'throughput', '--model', 'vit_micro_patch4_32',
                        '--batch', '4', '--rounds', '1', '--warmup', '1', '--device', 'cpu', '--compile', 'off'],
                       capture_output=True, text=True, timeout=600, env=env)
    assert r.returncode == 0, r.stderr
    rows = [l.split('|') for l in r.stdout.splitlines() if l.startswith(('| vit_nbdev', '| timm'))]
    assert [c[1].strip() for c in rows] == ['vit_nbdev eager', 'timm eager']
    assert all(float(c[2]) > 0 and c[4].strip() == 'n/a' for c in rows)  # no peak FLOP/s known for a CPU
    r = subprocess.run([sys.executable, ROOT/'benchmarks'/'gpu.py', 'cifar', '--data', 'synthetic',
                        '--val-size', '0.25', '--model', 'vit_micro_patch4_32', '--patch', '8', '--epochs', '1',
                        '--batch', '32', '--out', tmp_path/'c', '--device', 'cpu'],
                       capture_output=True, text=True, timeout=600, env=env)
    assert r.returncode == 0, r.stderr
    res = json.loads((tmp_path/'c'/'attention_distance.json').read_text())
    assert res['model'] == 'vit_micro_patch8_32' and len(res['distance_per_block']) == 8
    assert all(0 < d < 32 * 1.5 for d in res['distance_per_block']) and 0 < res['uniform_attention'] < 32 * 1.5
