"The inference benchmark runs end to end and prints one table row per model and precision (a smoke test, not a timing)."
import subprocess, sys
from pathlib import Path

ROOT = Path(__file__).parents[1]

def test_inference_benchmark_prints_table():
    r = subprocess.run([sys.executable, ROOT/'benchmarks'/'inference.py', '--models', 'vit_tiny_patch16_224',
                        '--batch', '2', '--rounds', '1', '--dtypes', 'fp32', 'bf16'],
                       capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr
    rows = [l for l in r.stdout.splitlines() if l.startswith('| vit_tiny_patch16_224')]
    assert [l.split('|')[2].strip() for l in rows] == ['fp32', 'bf16 autocast']
    for l in rows:
        ours, ref, ratio = (float(c) for c in l.split('|')[4:7])
        assert ours > 0 and ref > 0 and abs(ratio / (ours / ref) - 1) < 0.02  # table values are rounded

def test_training_benchmark_prints_table():
    r = subprocess.run([sys.executable, ROOT/'benchmarks'/'training.py', '--batch', '8', '--rounds', '1', '--warmup', '1'],
                       capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr
    rows = [l.split('|') for l in r.stdout.splitlines() if l.startswith(('| fp32', '| bf16'))]
    assert [(c[1].strip(), c[2].strip(), c[3].strip()) for c in rows] == [
        ('fp32', 'fused', 'fused'), ('bf16 autocast', 'explicit', 'fused'), ('bf16 autocast', 'explicit', 'explicit')]
    for c in rows:
        ours, ref, ratio = float(c[4]), float(c[5]), float(c[6])
        assert ours > 0 and ref > 0 and abs(ratio / (ours / ref) - 1) < 0.02
