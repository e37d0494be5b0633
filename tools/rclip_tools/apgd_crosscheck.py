"""Checks that the training proxy's APGD (apgd.py, PyTorch) and the suite's (src/core, through `rclip attack`,
onnxruntime-node) measure the same thing: push-apart APGD-100 L-inf on the shipped robust default, on the
same evaluation photos, each with its own seeded start. Per photo the two final distances should agree within
the spread that different random starts give (the script reports both runs' per-photo values and the ratio).

  /usr/bin/python3 -m rclip_tools.apgd_crosscheck --photos 8 --out ../bench/results/apgd-crosscheck.json   (from tools/)
"""

from __future__ import annotations

import argparse
import json
import subprocess
import tempfile
from pathlib import Path

import torch
import torch.nn.functional as F

from .apgd import apgd_linf
from .data import DEFAULT_DATA_ROOT, evaluation_files, load_square
from .keras_mobilenet import PooledEmbedding

REPO = Path(__file__).resolve().parents[2]


def python_apgd(model, path: Path, eps: float, iters: int, seed: int) -> float:
    x = torch.from_numpy(load_square(path, model.image_size)).float()[None] / 255
    with torch.no_grad():
        clean = model(x)
    _, loss = apgd_linf(lambda z: 1 - F.cosine_similarity(model(z), clean, dim=1), x, eps, iters,
                        torch.Generator().manual_seed(seed))
    return loss.item()


def cli_apgd(path: Path, eps: float, iters: int, seed: int, model_id: str) -> float:
    with tempfile.TemporaryDirectory() as tmp:
        out = subprocess.run(["node", "bin/rclip.mjs", "attack", str(path), "--out", f"{tmp}/adv.png", "--method", "apgd",
                              "--eps", f"{eps * 255:g}/255", "--steps", str(iters), "--seed", str(seed), "--model", model_id,
                              "--json"], cwd=REPO, check=True, capture_output=True, text=True).stdout
    return json.loads(out)["attacked"]["after"]


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--state", type=Path, default=REPO / "tools/checkpoints/distill96-pgd2-last.pt",
                   help="the training state whose student is the shipped model")
    p.add_argument("--model", default="rclip-mnv2-robust", help="the same model as shipped (public/models id)")
    p.add_argument("--nsfwjs", type=Path, default=REPO / "tools/runs/nsfwjs/mobilenet_v2")
    p.add_argument("--photos", type=int, default=8)
    p.add_argument("--eps", type=float, default=4 / 255)
    p.add_argument("--iters", type=int, default=100)
    p.add_argument("--out", type=Path, default=None)
    args = p.parse_args(argv)
    torch.set_num_threads(2)
    model = PooledEmbedding.from_checkpoint(torch.load(args.state)["student"], args.nsfwjs).eval()
    rows = []
    for i, path in enumerate(evaluation_files(DEFAULT_DATA_ROOT)[:args.photos]):
        py, ts = python_apgd(model, path, args.eps, args.iters, i), cli_apgd(path, args.eps, args.iters, i, args.model)
        rows.append({"photo": path.name, "python": py, "typescript": ts})
        print(f"{path.name:40s} python {py:.4f}  typescript {ts:.4f}  ratio {py / ts:.3f}", flush=True)
    mean = lambda k: sum(r[k] for r in rows) / len(rows)
    summary = {"attack": f"APGD-{args.iters} push-apart L-inf {args.eps * 255:g}/255", "model": args.model, "rows": rows,
               "mean_python": mean("python"), "mean_typescript": mean("typescript")}
    print(f"mean python {summary['mean_python']:.4f}  typescript {summary['mean_typescript']:.4f}")
    if args.out:
        args.out.write_text(json.dumps(summary, indent=1) + "\n")


if __name__ == "__main__":
    main()
