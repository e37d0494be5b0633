"""Clean proxy figures and forward-pass cost of candidate teachers (the recipe round's teacher pilot).

For each candidate (MobileNetV2 block 10 alone, InceptionV3 mixed5 alone, their concatenation with each
part L2-normalised, and the plain concatenation), all at --size px, pooled and centred on the training
photos: the training proxy's clean semantic 2AFC and copy R@1 (semantic_eval.evaluate_suite with
attacked=0, on the first --eval-images evaluation photos), and the time of one forward pass of a batch
of --batch images with --threads threads in channels-last (the trainer's setting), median of --repeats
taken in turn over the candidates.
Prints one JSON object per candidate.

  cd tools && /usr/bin/python3 -m rclip_tools.teacher_eval            # after node tools/nsfwjs_dump.mjs {mobilenet_v2,inception_v3}
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

import torch

from .data import DEFAULT_DATA_ROOT, cached_images, evaluation_files, training_files
from .keras_mobilenet import ConcatEmbedding, PooledEmbedding, fit_centre, nsfwjs_model_folder
from .semantic_eval import evaluate_suite

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_NSFWJS = REPO_ROOT / "tools" / "runs" / "nsfwjs" / "mobilenet_v2"
MNV2, INCEPTION = ("mobilenet_v2", "block_10_expand_relu"), ("inception_v3", "mixed5")


def candidates(folder: Path, size: int, train: torch.Tensor) -> dict[str, torch.nn.Module]:
    """The candidates, each part centred on `train` once (the concatenations share the single parts)."""
    def part(spec):
        model = PooledEmbedding.from_nsfwjs(nsfwjs_model_folder(folder, spec[0]), spec[1], size).eval().channels_last()
        fit_centre(model, train)
        return model
    mnv2, inception = part(MNV2), part(INCEPTION)
    return {"mnv2_block10": mnv2, "inception_mixed5": inception,
            "concat_normalised": ConcatEmbedding([mnv2, inception], normalise=True),
            "concat_plain": ConcatEmbedding([mnv2, inception], normalise=False)}


@torch.no_grad()
def forward_ms(models: dict[str, torch.nn.Module], size: int, batch: int, repeats: int) -> dict[str, float]:
    """Median time of one forward pass per model; the repeats go round the models in turn, so that on a
    shared machine each sees the same background load (the ratios are what to read; absolute times
    depend on that load)."""
    x = torch.rand(batch, 3, size, size, generator=torch.Generator().manual_seed(0))
    for model in models.values():
        model(x)  # warm-up (oneDNN primitive creation)
    times: dict[str, list[float]] = {name: [] for name in models}
    for _ in range(repeats):
        for name, model in models.items():
            t = time.perf_counter()
            model(x)
            times[name].append(time.perf_counter() - t)
    return {name: 1000 * statistics.median(t) for name, t in times.items()}


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--nsfwjs", type=Path, default=DEFAULT_NSFWJS, help="a folder written by tools/nsfwjs_dump.mjs")
    p.add_argument("--data", type=Path, default=DEFAULT_DATA_ROOT)
    p.add_argument("--cache", type=Path, default=None)
    p.add_argument("--size", type=int, default=160)
    p.add_argument("--eval-images", type=int, default=160)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--batch", type=int, default=32)
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--only", nargs="*", default=None, help="candidate names to run (default: all)")
    p.add_argument("--train-images", type=int, default=None, help="centre on the first N training photos (smoke runs)")
    args = p.parse_args(argv)
    torch.set_num_threads(args.threads)
    cache_kw = {"cache_dir": args.cache} if args.cache else {}
    train = cached_images(training_files(args.data)[:args.train_images], args.size, **cache_kw, tag="train-centre")  # uint8
    eval_files = evaluation_files(args.data)[:args.eval_images]
    images = cached_images(eval_files, args.size, **cache_kw, tag="eval").float() / 255
    wnids = [f.name.split("_")[0] for f in eval_files]
    models = {name: model for name, model in candidates(args.nsfwjs, args.size, train).items()
              if not args.only or name in args.only}
    rows = {}
    for name, model in models.items():
        figures = evaluate_suite(model, images, wnids, attacked=0)
        rows[name] = {"teacher": name, "size": args.size, "dim": int(model(images[:1]).shape[1]),
                      "semantic_clean": figures["semantic_clean"], "triplets": figures["triplets"],
                      "copy_r1_clean": figures["copy_r1_clean"]}
    for name, ms in forward_ms(models, args.size, args.batch, args.repeats).items():
        print(json.dumps({**rows[name], "forward_ms": round(ms, 1), "batch": args.batch, "threads": args.threads,
                          "train_images": len(train), "eval_images": len(images)}), flush=True)


if __name__ == "__main__":
    main()
