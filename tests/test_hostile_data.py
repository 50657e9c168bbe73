"""Hostile data, read as the user meant (issue 28, part 3): hidden entries, links, empty and one-image classes,
duplicates, Unicode and non-UTF-8 names, EXIF orientation, multi-frame images, folders named like built-in data sets,
an empty name, data keys, the stratified split and the decode cache. Each case builds its tiny data in `tmp_path` with
real image files, checks the message, and for refusals that every file is as it was. In-process, no training."""
import hashlib, itertools, os, unicodedata
from collections import Counter
from pathlib import Path
import numpy as np
import pytest
import torch
from PIL import Image
from vit_nbdev.data import (DATASETS, ImageDataset, image_folder, load_dataset, data_key, split, fingerprint,
                            data_changes, synthetic, printable)
from vit_nbdev.batches import decode_cache

def picture(path, colour=(0, 0, 0), size=(4, 4), **kw) -> Path:
    "A small image file of one colour at `path` (its format from the extension), its folders made."
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new('RGB', size, colour).save(path, **kw)
    return path

_colours = itertools.count(1)

def folder(root:Path, classes=('cat', 'dog'), n:int=2) -> Path:
    "An ImageFolder of `n` PNGs per class, each of another colour (no duplicates, no one-image class: no notes)."
    for c in classes:
        for i in range(n): picture(root/c/f'{i}.png', (*divmod(next(_colours), 250), 7))
    return root

def snapshot(root:Path) -> dict:
    "Every file under root with the hash of its bytes."
    return {p: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(Path(root).rglob('*')) if p.is_file()}

def notes_of(capsys, f, *args, **kw):
    "Call `f`; return its result and its stderr lines, each a note (no traceback, nothing on stdout)."
    res = f(*args, **kw)
    out, err = capsys.readouterr()
    lines = err.splitlines()
    assert all(l.startswith('note: ') for l in lines), lines
    assert 'Traceback' not in err and out == ''
    return res, lines

def refused(root:Path, f, exc, *says) -> str:
    "`f()` must raise `exc` with every one of `says` in its message, and leave every file under root as it was."
    before = snapshot(root)
    with pytest.raises(exc) as e: f()
    msg = str(e.value)
    for s in says: assert s in msg, f"{s!r} not in {msg!r}"
    assert 'Traceback' not in msg and '\n' not in msg
    assert snapshot(root) == before, 'a file changed or went away'
    return msg

# --- hidden files and folders ---------------------------------------------------------------------------------------

def _checkpoints(d): picture(d/'cat'/'.ipynb_checkpoints'/'0-checkpoint.png', (1, 2, 3))
def _macosx(d): (d/'__MACOSX'/'cat').mkdir(parents=True); (d/'__MACOSX'/'cat'/'._0.png').write_bytes(b'\0\5\26\7')
def _appledouble(d): (d/'cat'/'._0.png').write_bytes(b'\x00\x05\x16\x07\x00\x02\x00\x00Mac OS X')
def _dot_folder(d): picture(d/'.cache'/'x'/'0.png', (4, 5, 6))
def _dot_file(d): (d/'dog'/'.DS_Store').write_bytes(b'Bud1\0\0')

@pytest.mark.parametrize('make, shown', [(_checkpoints, "'cat/.ipynb_checkpoints'"), (_macosx, "'__MACOSX'"),
                                         (_appledouble, "'cat/._0.png'"), (_dot_folder, "'.cache'"),
                                         (_dot_file, "'dog/.DS_Store'")])
def test_hidden_entry_skipped_and_counted(tmp_path, capsys, make, shown):
    make(folder(tmp_path/'data'))
    ds, lines = notes_of(capsys, image_folder, tmp_path/'data')
    assert (ds.classes, len(ds)) == (['cat', 'dog'], 4)
    assert len(lines) == 1 and 'hidden files and folders skipped: 1 (' in lines[0] and shown in lines[0], lines
    assert all(ds[i][0].shape == (3, 4, 4) for i in range(len(ds)))  # nothing that fails mid-epoch

def test_hidden_entries_counted_in_one_line(tmp_path, capsys):
    d = folder(tmp_path/'data')
    for make in (_checkpoints, _macosx, _appledouble, _dot_folder, _dot_file): make(d)
    ds, lines = notes_of(capsys, image_folder, d)
    assert len(ds) == 4 and len(lines) == 1 and 'hidden files and folders skipped: 5 (' in lines[0], lines

# --- links ----------------------------------------------------------------------------------------------------------

def test_linked_sub_folder_read_like_a_real_one(tmp_path, capsys):
    d = folder(tmp_path/'data')
    picture(tmp_path/'more'/'x.png', (99, 0, 0)), picture(tmp_path/'more'/'deeper'/'y.png', (98, 0, 0))
    os.symlink(tmp_path/'more', d/'cat'/'more')
    ds, lines = notes_of(capsys, image_folder, d)
    assert lines == []
    assert Counter(ds.labels) == {0: 4, 1: 2}
    assert d/'cat'/'more'/'deeper'/'y.png' in ds.items

def test_linked_class_folder_read(tmp_path, capsys):
    d = folder(tmp_path/'data')
    folder(tmp_path/'elsewhere', classes=('owl',))
    os.symlink(tmp_path/'elsewhere'/'owl', d/'owl')
    ds, lines = notes_of(capsys, image_folder, d)
    assert (ds.classes, len(ds), lines) == (['cat', 'dog', 'owl'], 6, [])

@pytest.mark.parametrize('where', ['cat/gone.png', 'owl'])
def test_dangling_link_counted(tmp_path, capsys, where):
    d = folder(tmp_path/'data')
    os.symlink(tmp_path/'nowhere', d/where)
    ds, lines = notes_of(capsys, image_folder, d)
    assert (ds.classes, len(ds)) == (['cat', 'dog'], 4)
    assert len(lines) == 1 and f"links that lead nowhere, not read: 1 ('{where}' -> " in lines[0], lines
    assert 'nowhere' in lines[0] and 'restore' in lines[0]

def test_link_loop_not_followed(tmp_path, capsys):
    d = folder(tmp_path/'data')
    os.symlink(d, d/'cat'/'up')
    ds, lines = notes_of(capsys, image_folder, d)
    assert len(ds) == 4 and len(lines) == 1
    assert "links back to a folder above them, not followed: 1 ('cat/up'" in lines[0]

def test_unreadable_folder_counted(tmp_path, capsys, monkeypatch):
    d = folder(tmp_path/'data')
    picture(d/'cat'/'private'/'x.png', (250, 250, 250))
    scandir = os.scandir
    def refuse(p): raise PermissionError(13, 'Permission denied', str(p))
    monkeypatch.setattr(os, 'scandir', lambda p='.': refuse(p) if str(p).endswith('private') else scandir(p))
    ds, lines = notes_of(capsys, image_folder, d)
    assert len(ds) == 4 and len(lines) == 1
    assert "folders that cannot be read, skipped: 1 ('cat/private'): check their permissions" in lines[0]

# --- classes --------------------------------------------------------------------------------------------------------

def test_empty_class_named(tmp_path, capsys):
    d = folder(tmp_path/'data')
    (d/'empty').mkdir()
    ds, lines = notes_of(capsys, image_folder, d)
    assert ds.classes == ['cat', 'dog', 'empty']
    assert lines == ["note: class folders with no images: 1 ('empty'): a class never seen cannot be learnt; add images,"
                     " or remove the folders."]

def test_one_image_class_named(tmp_path, capsys):
    d = folder(tmp_path/'data')
    picture(d/'owl'/'0.png', (200, 0, 0))
    ds, lines = notes_of(capsys, image_folder, d)
    assert len(lines) == 1 and lines[0].startswith("note: classes with a single image: 1 ('owl'): ") and \
        'add images' in lines[0]

def test_files_outside_classes_and_not_images_noted(tmp_path, capsys):
    d = folder(tmp_path/'data')
    (d/'labels.csv').write_text('x')
    (d/'cat'/'notes.txt').write_text('x')
    ds, lines = notes_of(capsys, image_folder, d)
    assert len(ds) == 4 and len(lines) == 2
    assert "files in no class folder (directly in the data folder), not read: 1 ('labels.csv')" in lines[0]
    assert "files that are not images by their extension, skipped: 1 ('cat/notes.txt')" in lines[1]

# --- the same image in two classes ----------------------------------------------------------------------------------

def test_same_image_in_two_classes_named(tmp_path, capsys):
    d = folder(tmp_path/'data')
    (d/'dog'/'copy.png').write_bytes((d/'cat'/'1.png').read_bytes())
    ds, lines = notes_of(capsys, image_folder, d)
    assert len(lines) == 1
    assert "images in two classes or more (the same bytes): 1 ('cat/1.png' = 'dog/copy.png')" in lines[0]
    assert 'keep each in one class' in lines[0]

def test_same_image_twice_in_one_class_not_named(tmp_path, capsys):
    d = folder(tmp_path/'data')
    (d/'dog'/'copy.png').write_bytes((d/'dog'/'1.png').read_bytes())
    assert notes_of(capsys, image_folder, d)[1] == []

def test_large_files_alike_at_first_are_not_duplicates(tmp_path, capsys):
    big = np.random.default_rng(0).integers(0, 256, (200, 200, 3), np.uint8)  # 120 kB: more than the first 64 KiB
    other = big.copy(); other[-1, -1] += 1
    for c, a in [('cat', big), ('dog', other)]:
        (tmp_path/'data'/c).mkdir(parents=True)
        for i in range(2): Image.fromarray(a).save(tmp_path/'data'/c/f'{i}.bmp')
    assert (tmp_path/'data'/'cat'/'0.bmp').stat().st_size == (tmp_path/'data'/'dog'/'0.bmp').stat().st_size
    assert notes_of(capsys, image_folder, tmp_path/'data')[1] == []

# --- names ----------------------------------------------------------------------------------------------------------

def test_nfd_folder_is_an_nfc_class(tmp_path, capsys):
    d = folder(tmp_path/'data', classes=(unicodedata.normalize('NFD', 'café'), 'thé'))
    ds, lines = notes_of(capsys, image_folder, d)
    assert ds.classes == [unicodedata.normalize('NFC', 'café'), 'thé'] and lines == []

def test_two_forms_of_one_name_refused(tmp_path):
    folder(tmp_path/'data', classes=(unicodedata.normalize('NFD', 'café'), unicodedata.normalize('NFC', 'café')))
    msg = refused(tmp_path, lambda: image_folder(tmp_path/'data'), ValueError, "'cafe\\u0301' and 'caf\\xe9'",
                  'NFC and NFD', 'merge them into one folder')
    assert msg.startswith('Class folders ')

@pytest.mark.parametrize('bad, shown', [(b'caf\xe9/0.png', "'caf\\udce9'"),
                                        (b'cat/\xe9t\xe9.png', "'cat/\\udce9t\\udce9.png'"),
                                        (b'cat/sub\xff/0.png', "'cat/sub\\udcff'")])
def test_name_not_utf8_refused(tmp_path, bad, shown):
    d = folder(tmp_path/'data')
    picture(os.fsdecode(os.fsencode(d) + b'/' + bad), (50, 50, 50))
    refused(tmp_path, lambda: image_folder(d), ValueError, 'not UTF-8: 1 (', shown, 'Rename them to UTF-8 names')

@pytest.mark.parametrize('name', ['a\nb', 'a\rnote: fine', 'a\x1b[31mred', 'a\u202eb'])
def test_class_name_printed_escaped(tmp_path, capsys, name):
    d = folder(tmp_path/'data')
    picture(d/name/'0.png', (200, 0, 0))  # one image: the class is named in a note
    ds, lines = notes_of(capsys, image_folder, d)
    assert name in ds.classes
    assert len(lines) == 1 and repr(name) in lines[0] and name not in lines[0]

def test_data_changes_escapes_class_names():
    saved = {'images': 2, 'per_class': {'a\nb': 2}, 'sha256': 'x'}
    now = {'images': 1, 'per_class': {'a\nb': 1}, 'sha256': 'y'}
    assert data_changes(saved, now) == "2 -> 1 images ('a\\nb' 2 -> 1)"
    assert printable('red') == 'red'

# --- decoding: EXIF orientation and frames --------------------------------------------------------------------------

@pytest.mark.parametrize('orientation, turn', [(1, lambda a: a), (3, lambda a: np.rot90(a, 2)),
                                               (6, lambda a: np.rot90(a, -1)), (8, lambda a: np.rot90(a, 1))])
def test_exif_orientation_applied(tmp_path, orientation, turn):
    a = np.arange(2 * 3 * 3, dtype=np.uint8).reshape(2, 3, 3) * 10  # 2 high, 3 wide, every pixel different
    exif = Image.Exif()
    exif[0x0112] = orientation
    Image.fromarray(a).save(tmp_path/'x.png', exif=exif)
    x, _ = ImageDataset([tmp_path/'x.png'], [0], ['a'])[0]
    assert np.array_equal(x.permute(1, 2, 0).numpy(), turn(a))

def test_exif_orientation_applied_in_decode_cache(tmp_path):
    exif = Image.Exif()
    exif[0x0112] = 6
    for c in ('cat', 'dog'):
        for i in range(2):
            picture(tmp_path/'data'/c/f'{i}.jpg', (60 * i, 80, 9 if c == 'cat' else 99), (8, 4), exif=exif)
    ds = decode_cache(image_folder(tmp_path/'data'), tmp_path/'cache')
    assert {tuple(x.shape) for x in ds.items} == {(3, 8, 4)}  # stored 4 high, 8 wide: upright 8 high, 4 wide

@pytest.mark.parametrize('ext', ['gif', 'tiff'])
def test_image_of_several_frames_noted_once(tmp_path, capsys, ext):
    frames = [Image.new('RGB', (4, 4), c) for c in [(255, 0, 0), (0, 0, 255), (0, 255, 0)]]
    for i in range(2): frames[0].save(tmp_path/f'{i}.{ext}', save_all=True, append_images=frames[1:])
    ds = ImageDataset([tmp_path/f'0.{ext}', tmp_path/f'1.{ext}'], [0, 0], ['a'])
    (x, _), lines = notes_of(capsys, lambda: [ds[0], ds[1]][0])
    assert x[:, 0, 0].tolist() == [255, 0, 0]  # the first frame
    assert len(lines) == 1 and '0.' + ext in lines[0] and 'has 3 frames' in lines[0] and 'first frame' in lines[0]

# --- names of data sets ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize('name', ['synthetic', 'cifar10'])
def test_folder_named_like_a_data_set_is_read(tmp_path, capsys, monkeypatch, name):
    monkeypatch.chdir(tmp_path)
    folder(tmp_path/name)
    ds, lines = notes_of(capsys, load_dataset, name)
    assert (ds.classes, len(ds)) == (['cat', 'dog'], 4)
    assert len(lines) == 1 and f"./{name} is a folder of images in class folders: it is read" in lines[0]
    assert data_key(name) == str(tmp_path.resolve()/name)
    assert notes_of(capsys, load_dataset, f'./{name}')[1] == []

def test_folder_named_like_a_data_set_without_images_is_not(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path/'synthetic'/'cifar-10-batches-py').mkdir(parents=True)  # e.g. a --data-root
    (tmp_path/'synthetic'/'cifar-10-batches-py'/'data_batch_1').write_bytes(b'x')
    ds, lines = notes_of(capsys, load_dataset, 'synthetic')
    assert (len(ds), lines, data_key('synthetic')) == (512, [], 'synthetic')

@pytest.mark.parametrize('call', [load_dataset, data_key])
def test_empty_data_name_refused(tmp_path, monkeypatch, call):
    monkeypatch.chdir(tmp_path)
    folder(tmp_path)  # the working folder holds class folders: '' must not read them
    refused(tmp_path, lambda: call(''), ValueError, "The data is ''", 'unset shell variable',
            "for the working folder, pass '.'")

def test_missing_folder_named(tmp_path):
    refused(tmp_path, lambda: load_dataset(str(tmp_path/'nope')), FileNotFoundError, 'does not exist',
            '<class>/<image>.jpg')

def test_data_key_same_folder_same_key(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    folder(tmp_path/'d3')
    keys = {data_key(n) for n in ['d3', 'd3/', './d3', 'd3//', str(tmp_path/'d3'), Path('d3')]}
    assert keys == {str(tmp_path.resolve()/'d3')}

def test_data_key_found_from_another_working_folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    key = data_key(folder(tmp_path/'d3').relative_to(tmp_path))
    (tmp_path/'elsewhere').mkdir()
    monkeypatch.chdir(tmp_path/'elsewhere')
    assert image_folder(key).classes == ['cat', 'dog'] and data_key(key) == key

@pytest.mark.parametrize('name', DATASETS)
def test_data_key_of_a_data_set_is_its_name(tmp_path, monkeypatch, name):
    monkeypatch.chdir(tmp_path)
    assert data_key(name) == name

# --- the stratified split -------------------------------------------------------------------------------------------

def toy(counts:list) -> ImageDataset:
    "Items 0..n-1 with `counts[c]` items of class c, classes interleaved."
    labels = [c for c, m in enumerate(counts) for _ in range(m)]
    order = np.random.default_rng(1).permutation(len(labels)).tolist()
    return ImageDataset(order, [labels[i] for i in order], [f'c{c}' for c in range(len(counts))])

@pytest.mark.parametrize('counts, size, want', [([120, 32], 0.25, {0: 30, 1: 8}), ([150, 2], 0.5, {0: 75, 1: 1}),
                                                ([40, 40, 20], 10, {0: 4, 1: 4, 2: 2})])
def test_stratified_same_share_of_each_class(counts, size, want):
    ds = toy(counts)
    tr, va = split(ds, size, seed=3, stratified=True)
    assert Counter(va.labels) == want and len(tr) + len(va) == len(ds)
    assert sorted(tr.items + va.items) == sorted(ds.items)

def test_stratified_decided_by_the_seed():
    ds = toy([50, 30])
    a, b, c = (split(ds, 0.2, seed=s, stratified=True)[1].items for s in (7, 7, 8))
    assert a == b and a != c

def test_default_split_unchanged():
    ds = synthetic(100)
    perm = torch.randperm(100, generator=torch.Generator().manual_seed(5)).tolist()  # the split as it always was
    tr, va = split(ds, 0.2, 5)
    assert [id(x) for x in va.items] == [id(ds.items[i]) for i in perm[:20]]
    assert [id(x) for x in tr.items] == [id(ds.items[i]) for i in perm[20:]]

@pytest.mark.parametrize('counts, named', [([40, 1], "c1 (0 of 1 to validation)"),
                                           ([150, 2], "c1 (0 of 2 to validation)")])
def test_stratified_class_too_small_named(capsys, counts, named):
    (tr, va), lines = notes_of(capsys, split, toy(counts), 0.1, 0, '--val-size', stratified=True)
    assert set(va.labels) == {0} and Counter(tr.labels)[1] == counts[1]
    assert len(lines) == 1 and 'stratified --val-size: classes too small to split, kept whole in training: 1' in \
        lines[0] and named in lines[0] and 'add images' in lines[0]

def test_stratified_nothing_left_to_validate_refused():
    with pytest.raises(ValueError, match='no class can give an image to validation.*take a larger val_size'):
        split(toy([1, 1, 1]), 1, stratified=True)

# --- the decode cache and the fingerprint ---------------------------------------------------------------------------

def test_decode_cache_sees_a_file_replaced_with_the_same_size_and_time(tmp_path):
    for c, v in [('cat', 10), ('dog', 90)]:
        for i in range(2): picture(tmp_path/'data'/c/f'{i}.bmp', (v + i,) * 3)
    ds = image_folder(tmp_path/'data')
    assert decode_cache(ds, tmp_path/'cache').items[0].max() == 10
    f = tmp_path/'data'/'cat'/'0.bmp'
    st = f.stat()
    picture(f, (255, 255, 255))
    os.utime(f, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert (f.stat().st_size, f.stat().st_mtime_ns) == (st.st_size, st.st_mtime_ns)
    assert decode_cache(ds, tmp_path/'cache').items[0].min() == 255

def test_decode_cache_read_back_when_nothing_changed(tmp_path, monkeypatch):
    ds = image_folder(folder(tmp_path/'data'))
    first = decode_cache(ds, tmp_path/'cache')
    monkeypatch.setattr(ImageDataset, '__getitem__', lambda self, i: pytest.fail('decoded again'))
    again = decode_cache(ds, tmp_path/'cache')
    assert all(torch.equal(a, b) for a, b in zip(first.items, again.items))
    assert len(list((tmp_path/'cache').iterdir())) == 1

def test_fingerprint_of_an_ordinary_folder_unchanged(tmp_path):
    "Resumed runs compare the fingerprint they saved: for a folder with nothing hidden, it is what it always was."
    for p, b in [('cat/0.png', b'x' * 10), ('cat/1.jpg', b'y' * 20), ('dog/a.png', b'z' * 30),
                 ('dog/sub/b.gif', b'w' * 7)]:
        (tmp_path/p).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path/p).write_bytes(b)
    assert fingerprint(image_folder(tmp_path)) == {
        'images': 4, 'per_class': {'cat': 2, 'dog': 2},
        'sha256': '2720717be81fd27e306838759656891ff82670f796d1593486e38a91631b7ef0'}  # computed before issue 28
