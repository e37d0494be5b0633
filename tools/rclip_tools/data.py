"""Training/evaluation data: the fixed split rule and a uint8 tensor cache.

Split rule (the TypeScript CLI implements the same one): list imagenet-sample/ files with extension
jpg/jpeg/png/webp (case-insensitive), sort by file name in byte order; the file at sorted index i is
an evaluation image iff i % 5 == 4 (160 of 800). flowers/ is split by the same rule over its own sorted
list (367 of 1,835 held out: the benchmark suite's k-NN task scores them, so they must be unseen). The
rest of both folders are training images. (Runs before this rule trained on every flower photo.)
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import numpy as np
import torch
from PIL import Image

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".webp")
REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_DATA_ROOT = REPO_ROOT.parent / "shared" / "data"
DEFAULT_CACHE_DIR = REPO_ROOT / "tools" / "runs" / "cache"


def list_images(folder: Path) -> list[Path]:
    files = [p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_EXTENSIONS]
    return sorted(files, key=lambda p: os.fsencode(p.name))


def is_eval_index(i: int) -> bool:
    return i % 5 == 4


def split_imagenet_sample(data_root: Path) -> tuple[list[Path], list[Path]]:
    """(train, eval) files of imagenet-sample/ by the fixed split rule."""
    files = list_images(Path(data_root) / "imagenet-sample")
    train = [p for i, p in enumerate(files) if not is_eval_index(i)]
    evaluation = [p for i, p in enumerate(files) if is_eval_index(i)]
    return train, evaluation


def split_flowers(data_root: Path) -> tuple[list[Path], list[Path]]:
    """(train, held out) files of flowers/ by the same rule; both empty when the folder is absent."""
    flowers = Path(data_root) / "flowers"
    files = list_images(flowers) if flowers.is_dir() else []
    return ([p for i, p in enumerate(files) if not is_eval_index(i)],
            [p for i, p in enumerate(files) if is_eval_index(i)])


def training_files(data_root: Path) -> list[Path]:
    """The training splits of imagenet-sample/ and flowers/; asserts no held-out image is in them."""
    data_root = Path(data_root)
    train, evaluation = split_imagenet_sample(data_root)
    flowers_train, flowers_held_out = split_flowers(data_root)
    files = train + flowers_train
    held_out = {p.resolve() for p in evaluation + flowers_held_out}
    assert not held_out.intersection(p.resolve() for p in files), "held-out image in training set"
    return files


def tiny_imagenet_files(data_root: Path) -> list[Path]:
    """tiny-imagenet/<wnid>/*.JPEG (64 px, 40,400 photos; none a near-duplicate of an imagenet-sample photo, so
    the evaluation split stays unseen), sorted by relative path in byte order; empty when the folder is absent."""
    root = Path(data_root) / "tiny-imagenet"
    if not root.is_dir():
        return []
    files = [p for d in root.iterdir() if d.is_dir() for p in list_images(d)]
    return sorted(files, key=lambda p: os.fsencode(f"{p.parent.name}/{p.name}"))


def evaluation_files(data_root: Path) -> list[Path]:
    return split_imagenet_sample(Path(data_root))[1]


def load_square(path: Path, side: int) -> np.ndarray:
    """PIL RGB, shortest side -> `side` with BICUBIC, centre crop; uint8 [3,side,side].

    Matches the runtime preprocessing (manifest input.resize "bicubic", crop "center") so that
    evaluation images cached at the model size are what the browser feeds the model.
    """
    with Image.open(path) as im:
        im = im.convert("RGB")
        w, h = im.size
        scale = side / min(w, h)
        nw, nh = max(side, round(w * scale)), max(side, round(h * scale))
        im = im.resize((nw, nh), Image.BICUBIC)
        left, top = (nw - side) // 2, (nh - side) // 2
        im = im.crop((left, top, left + side, top + side))
        return np.asarray(im, dtype=np.uint8).transpose(2, 0, 1).copy()


def cached_images(files: list[Path], side: int, cache_dir: Path = DEFAULT_CACHE_DIR,
                  tag: str = "images") -> torch.Tensor:
    """uint8 [N,3,side,side] for `files`, decoded once and cached under cache_dir.

    The cache key hashes the file names and sizes, so a changed file list never reuses a stale cache.
    """
    key = hashlib.sha256()
    for p in files:
        key.update(os.fsencode(p.name))
        key.update(str(p.stat().st_size).encode())
    cache_path = Path(cache_dir) / f"{tag}-{side}-{key.hexdigest()[:16]}.pt"
    if cache_path.exists():
        return torch.load(cache_path)
    images = torch.from_numpy(np.stack([load_square(p, side) for p in files]))
    cache_path.parent.mkdir(parents=True, exist_ok=True)
    tmp = cache_path.with_suffix(".tmp")
    torch.save(images, tmp)
    tmp.replace(cache_path)
    return images
