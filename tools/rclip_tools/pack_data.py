"""A compact copy of the data folder holding what the distillation trainer reads, for a machine the
data cannot reach (the device machine: the working tree that travels there is capped at 64 MiB, the
photos are 140 MB).

The pack keeps every file name, so the split rule (data.py: sorted index i % 5 == 4) gives the same
training and evaluation files. Each file holds what the trainer decodes from it:
  training photos             load_square(…, --train-side) (the trainer's crop source, 1.5 × the teacher
                              size), JPEG quality --quality: the only lossy step, stated in the run's log
  evaluation photos           load_square(…, --eval-side) as PNG: exact, so the proxy sees the same pixels
                              (load_square of a square image at its own size is the identity)
  held-out flowers            a 16-pixel placeholder: never read, present only to keep the split's order
  Tiny-ImageNet photos (--tiny) their own 64 px, JPEG quality --tiny-quality, every --tiny-every'th photo
                              (a 64 px JPEG is ~1.6 KB even at q50, 600 bytes of it tables: all 40,400 are
                              62 MiB, and the working tree that travels is capped at 64 MiB in all)
and wordnet-data.noun: the lines of WordNet's noun file that the proxy's semantic triplets read (the
evaluation photos' synsets and their hypernyms), for a machine without Debian's wordnet-base.
Usage (from tools/):  /usr/bin/python3 -m rclip_tools.pack_data runs/gpu-pack [--tiny]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from PIL import Image

from .semantic_eval import WORDNET_NOUNS, ancestors_with_depth
from .data import DEFAULT_DATA_ROOT, list_images, load_square, split_flowers, split_imagenet_sample, tiny_imagenet_files


def write_square(src: Path, dst: Path, side: int, fmt: str, quality: int = 95) -> None:
    pixels = load_square(src, side).transpose(1, 2, 0)
    dst.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(pixels).save(dst, format=fmt, **({"quality": quality} if fmt == "JPEG" else {}))


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("out", type=Path)
    p.add_argument("--data", type=Path, default=DEFAULT_DATA_ROOT)
    p.add_argument("--train-side", type=int, default=240)
    p.add_argument("--eval-side", type=int, default=96)
    p.add_argument("--quality", type=int, default=85)
    p.add_argument("--tiny", action="store_true", help="also pack tiny-imagenet/ (for --tiny-imagenet runs)")
    p.add_argument("--tiny-quality", type=int, default=60)
    p.add_argument("--tiny-every", type=int, default=3, help="pack every K-th Tiny-ImageNet photo (by sorted path)")
    args = p.parse_args(argv)
    train, evaluation = split_imagenet_sample(args.data)
    flowers_train, flowers_held_out = split_flowers(args.data)
    for src in train + flowers_train:
        write_square(src, args.out / src.parent.name / src.name, args.train_side, "JPEG", args.quality)
    for src in evaluation:
        write_square(src, args.out / src.parent.name / src.name, args.eval_side, "PNG")
    for src in flowers_held_out:
        write_square(src, args.out / src.parent.name / src.name, 16, "JPEG")
    tiny = tiny_imagenet_files(args.data)[::args.tiny_every] if args.tiny else []
    if args.tiny and not tiny:
        raise SystemExit(f"--tiny: no photos in {args.data / 'tiny-imagenet'}")
    for src in tiny:
        write_square(src, args.out / "tiny-imagenet" / src.parent.name / src.name, 64, "JPEG", args.tiny_quality)
    synsets = set()
    for src in evaluation:
        synsets.update(ancestors_with_depth(src.name.split("_")[0][1:]))
    lines = [line for line in WORDNET_NOUNS.read_text(encoding="latin-1").splitlines()
             if not line.startswith("  ") and line.split(" ", 1)[0] in synsets]
    (args.out / "wordnet-data.noun").write_text("\n".join(lines) + "\n", encoding="latin-1")
    for folder in ("imagenet-sample", "flowers"):
        original = [q.name for q in list_images(args.data / folder)]
        packed = [q.name for q in list_images(args.out / folder)]
        assert packed == original, f"{folder}: the pack's file list differs from the data's"
    info = {"source": str(args.data), "train_side": args.train_side, "train_jpeg_quality": args.quality,
            "eval_side": args.eval_side, "train": len(train) + len(flowers_train), "evaluation": len(evaluation),
            "tiny_imagenet": len(tiny), **({"tiny_jpeg_quality": args.tiny_quality, "tiny_every": args.tiny_every} if tiny else {})}
    (args.out / "PACK.json").write_text(json.dumps(info, indent=1) + "\n")
    size = sum(q.stat().st_size for q in args.out.rglob("*") if q.is_file())
    print(f"pack: {info['train']} training photos at {args.train_side} px (JPEG q{args.quality}), "
          f"{len(evaluation)} evaluation photos at {args.eval_side} px (PNG), "
          f"{len(tiny)} Tiny-ImageNet photos (JPEG q{args.tiny_quality}), {size / 2**20:.1f} MiB in {args.out}")


if __name__ == "__main__":
    main()
