"""Copy one image per class from the shipped CIFAR-10 model's own validation split into the package.

The shipped run held out 5,000 of the 50,000 training images (`--val-size 5000`, seed 0, one random pool: runs made
before stratified splits). Its model never trained on them, so they are fair pictures to show its predictions on.
Run from the folder that holds `data/train` (the CIFAR-10 training images as JPEG files in ImageFolder layout):

    python tools/cifar10_examples.py [--per-class 1]
"""
import argparse, json, shutil
from pathlib import Path
from vit_nbdev.checkpoint import pretrained
from vit_nbdev.config import saved_settings
from vit_nbdev.data import load_dataset, split

OUT = Path(__file__).parents[1]/'vit_nbdev'/'static'/'cifar10_val'

def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--per-class', type=int, default=1)
    a = p.parse_args()
    meta = pretrained('cifar10')[1]
    t = saved_settings(meta)  # the run's own data, split size, seed and kind of split
    full = load_dataset(t['data'], t['data_root'])
    assert full.classes == meta['classes'], (full.classes, meta['classes'])
    val = split(full, t['val_size'], t['seed'], stratified=t['val_split'] == 'stratified')[1]
    OUT.mkdir(parents=True, exist_ok=True)
    taken, index = {}, {}
    for path, y in zip(val.items, val.labels):  # the split's own order: the first images of each class
        c = val.classes[y]
        if taken.get(c, 0) < a.per_class:
            taken[c] = taken.get(c, 0) + 1
            name = f'{c}.jpg' if a.per_class == 1 else f'{c}_{taken[c]}.jpg'
            shutil.copy(path, OUT/name)  # the file's own bytes
            index[name] = {'class': c, 'source': Path(path).relative_to(Path(t['data'])).as_posix()}
    (OUT/'index.json').write_text(json.dumps(index, indent=1) + '\n')
    print(f"{len(index)} validation images -> {OUT}")

if __name__ == '__main__': main()
