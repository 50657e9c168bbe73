"The benchmarks run end to end and print their tables (smoke tests on tiny settings, not timings)."
import os, subprocess, sys
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
