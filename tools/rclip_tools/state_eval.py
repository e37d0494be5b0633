"""The training proxy (semantic_eval.evaluate_suite: semantic 2AFC, copy R@1, drift; PGD-10 and APGD at
4/255 and 2/255) for train_distill states, side by side on the same photos and attacks: the student and,
where the state keeps one, its weight EMA. For comparing runs made on different machines (a GPU run
against the CPU campaign) on more attacked photos than the in-training proxy affords.
Usage (from tools/):
  /usr/bin/python3 -m rclip_tools.state_eval checkpoints/pilot-memory-last.pt runs/gpu/last.pt --attacked 160
"""

from __future__ import annotations

import argparse
import copy
import json
import time
from pathlib import Path

import torch

from .data import DEFAULT_DATA_ROOT, cached_images, evaluation_files
from .keras_mobilenet import load_embedding
from .semantic_eval import evaluate_suite
from .train_distill import DEFAULT_NSFWJS
from .trainutil import load_state


def models_of(state: dict, nsfwjs: Path, device: torch.device) -> dict:
    """{"student": …, "ema": …} (the EMA only where the state keeps one), on `device`, in eval mode."""
    student = load_embedding(state["student"], nsfwjs).to(device).eval()
    models = {"student": student}
    if state.get("ema") is not None:
        ema = copy.deepcopy(student)
        ema.load_state_dict(state["ema"])
        models["ema"] = ema
    return models


def main(argv: list[str] | None = None) -> list[dict]:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("states", type=Path, nargs="+", help="train_distill last.pt files")
    p.add_argument("--nsfwjs", type=Path, default=DEFAULT_NSFWJS)
    p.add_argument("--data", type=Path, default=DEFAULT_DATA_ROOT)
    p.add_argument("--cache", type=Path, default=None)
    p.add_argument("--images", type=int, default=160, help="evaluation photos (gallery and triplet pool)")
    p.add_argument("--attacked", type=int, default=160, help="items attacked per task")
    p.add_argument("--apgd-iters", type=int, default=100)
    p.add_argument("--device", default="cpu")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--out", type=Path, default=None, help="also write the rows as JSON here")
    args = p.parse_args(argv)
    torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    files = evaluation_files(args.data)[:args.images]
    wnids = [f.name.split("_")[0] for f in files]
    cache_kw = {"cache_dir": args.cache} if args.cache else {}
    rows = []
    images_at: dict[int, torch.Tensor] = {}  # by input size: every state's student and EMA share one
    for path in args.states:
        state = load_state(path)
        for name, model in models_of(state, args.nsfwjs, device).items():
            size = model.image_size
            if size not in images_at:
                images_at[size] = cached_images(files, size, **cache_kw, tag="eval").to(device).float() / 255
            images = images_at[size]
            start = time.time()
            figures = evaluate_suite(model, images, wnids, attacked=args.attacked, apgd_iters=args.apgd_iters)
            row = {"state": str(path), "step": state.get("step"), "weights": name, "device": args.device,
                   "images": len(files), "attacked": args.attacked, "apgd_iters": args.apgd_iters,
                   "seconds": round(time.time() - start, 1), **figures}
            print(json.dumps(row), flush=True)
            rows.append(row)
    if args.out:
        args.out.write_text(json.dumps(rows, indent=1) + "\n")
    return rows


if __name__ == "__main__":
    main()
