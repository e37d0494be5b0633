"""Proxy 2AFC benchmark in PyTorch, for watching training and for when `rclip eval` is unavailable.

These are the project's own proxy figures, NOT the official ones (the TypeScript `rclip eval` is the
reference). On evaluation images at model size: for each distortion family the reference must be
closer to the mild than to the strong version; for "augmented" it must be closer to an augmented
copy of itself than to another photo. Under attack, PGD (L-inf, on the reference, pixel space)
maximises d(ref', mild) - d(ref', strong); a triplet counts as correct only if no PGD iterate flips it.

Usage (from tools/):
  /usr/bin/python3 -m rclip_tools.proxy_eval runs/base/final.pt runs/fare/final.pt
"""

from __future__ import annotations

import argparse
import io
import json
import math
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image
from torch import nn

from . import augment
from .convnet import ConvEncoder
from .data import DEFAULT_DATA_ROOT, cached_images, evaluation_files

TASKS = ("blur", "jpeg", "noise", "colour", "geometric", "augmented")


class PixelEncoder(nn.Module):
    """ConvEncoder on [0,1] pixels: applies the manifest normalisation, as the runtime does."""

    def __init__(self, encoder: ConvEncoder):
        super().__init__()
        self.encoder = encoder
        self.register_buffer("mean", torch.tensor(encoder.config.mean)[None, :, None, None])
        self.register_buffer("std", torch.tensor(encoder.config.std)[None, :, None, None])

    def forward(self, pixels: torch.Tensor) -> torch.Tensor:
        return self.encoder((pixels - self.mean) / self.std)


def cosine_distance(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    return 1 - F.cosine_similarity(a, b, dim=1)


def jpeg(x: torch.Tensor, quality: int) -> torch.Tensor:
    out = []
    for img in x:
        arr = (img.clamp(0, 1) * 255).round().byte().permute(1, 2, 0).numpy()
        buf = io.BytesIO()
        Image.fromarray(arr).save(buf, format="JPEG", quality=quality)
        buf.seek(0)
        out.append(torch.from_numpy(np.asarray(Image.open(buf).convert("RGB"), dtype=np.float32) / 255).permute(2, 0, 1))
    return torch.stack(out)


def rotate(x: torch.Tensor, degrees: float) -> torch.Tensor:
    a = math.radians(degrees)
    theta = torch.tensor([[math.cos(a), -math.sin(a), 0.0], [math.sin(a), math.cos(a), 0.0]])
    grid = F.affine_grid(theta.expand(x.shape[0], 2, 3), list(x.shape), align_corners=False)
    return F.grid_sample(x, grid, mode="bilinear", padding_mode="reflection", align_corners=False)


def hue_shift(x: torch.Tensor, turns: float) -> torch.Tensor:
    m = augment.hue_rotation_matrices(torch.full((x.shape[0],), turns * 2 * math.pi))
    return torch.einsum("nij,njhw->nihw", m, x).clamp(0, 1)


def make_triplets(refs: torch.Tensor, seed: int = 0) -> dict[str, tuple[torch.Tensor, torch.Tensor]]:
    """{task: (closer, farther)} for reference images [N,3,S,S] in [0,1]."""
    g = torch.Generator().manual_seed(seed)
    n = refs.shape[0]
    noise = torch.randn(refs.shape, generator=g)
    sigma = lambda s: torch.full((n,), s)
    size = refs.shape[-1]
    copy = augment.random_resized_crop(refs * 255, size, g, scale=(0.6, 0.9))
    copy = augment.random_flip(copy, g)
    copy = augment.color_jitter(copy, g, 0.15, 0.15, 0.15, 0.02, p=1.0)
    return {
        "blur": (augment.gaussian_blur(refs, sigma(0.7), 7), augment.gaussian_blur(refs, sigma(1.6), 11)),
        "jpeg": (jpeg(refs, 50), jpeg(refs, 10)),
        "noise": ((refs + 0.04 * noise).clamp(0, 1), (refs + 0.12 * noise).clamp(0, 1)),
        "colour": (hue_shift(refs, 0.04), hue_shift(refs, 0.15)),
        "geometric": (rotate(refs, 4), rotate(refs, 15)),
        "augmented": (copy, refs.roll(1, dims=0)),
    }


def pgd_flip_attack(model: nn.Module, refs: torch.Tensor, closer: torch.Tensor, farther: torch.Tensor,
                    eps: float, steps: int, step_size: float) -> torch.Tensor:
    """Bool [N]: triplet still correct at every PGD iterate (and at the clean start)."""
    with torch.no_grad():
        e_close, e_far = model(closer), model(farther)
    delta = torch.zeros_like(refs)
    correct = torch.ones(refs.shape[0], dtype=torch.bool)
    for i in range(steps + 1):
        delta.requires_grad_(True)
        e = model((refs + delta).clamp(0, 1))
        margin = cosine_distance(e, e_close) - cosine_distance(e, e_far)
        correct &= (margin < 0).detach()
        if i == steps:
            break
        grad, = torch.autograd.grad(margin.sum(), delta)
        delta = (delta.detach() + step_size * grad.sign()).clamp(-eps, eps)
        delta = (refs + delta).clamp(0, 1) - refs
    return correct


def push_apart_drift(model: nn.Module, refs: torch.Tensor, eps: float, steps: int,
                     step_size: float) -> torch.Tensor:
    """Mean cosine distance between f(x) and f(x+delta) after PGD maximising that distance."""
    with torch.no_grad():
        clean = model(refs)
    delta = torch.zeros_like(refs)
    for _ in range(steps):
        delta.requires_grad_(True)
        d = cosine_distance(model((refs + delta).clamp(0, 1)), clean)
        grad, = torch.autograd.grad(d.sum(), delta)
        delta = (delta.detach() + step_size * grad.sign()).clamp(-eps, eps)
        delta = (refs + delta).clamp(0, 1) - refs
    with torch.no_grad():
        return cosine_distance(model((refs + delta).clamp(0, 1)), clean).mean()


def evaluate(model: nn.Module, refs: torch.Tensor, triplets: dict, eps: float = 4 / 255,
             steps: int = 10, step_size: float = 1 / 255) -> dict:
    model.eval()
    result: dict = {"images": refs.shape[0], "attack": f"PGD-{steps} linf eps={eps:.6f} step={step_size:.6f}",
                    "tasks": {}}
    clean_all, adv_all = [], []
    for task, (closer, farther) in triplets.items():
        with torch.no_grad():
            e_ref, e_c, e_f = model(refs), model(closer), model(farther)
            d_c, d_f = cosine_distance(e_ref, e_c), cosine_distance(e_ref, e_f)
        clean = d_c < d_f
        adv = pgd_flip_attack(model, refs, closer, farther, eps, steps, step_size)
        clean_all.append(clean)
        adv_all.append(adv)
        result["tasks"][task] = {"clean": clean.float().mean().item(), "pgd": adv.float().mean().item(),
                                 "d_closer": d_c.mean().item(), "d_farther": d_f.mean().item()}
    result["clean"] = torch.cat(clean_all).float().mean().item()
    result["pgd"] = torch.cat(adv_all).float().mean().item()
    result["push_apart_drift"] = push_apart_drift(model, refs, eps, steps, step_size).item()
    return result


def load_eval_images(data_root: Path, size: int, cache_dir: Path | None = None) -> torch.Tensor:
    cache_kw = {"cache_dir": cache_dir} if cache_dir else {}
    return cached_images(evaluation_files(data_root), size, **cache_kw, tag="eval").float() / 255


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("checkpoints", type=Path, nargs="+")
    p.add_argument("--data", type=Path, default=DEFAULT_DATA_ROOT)
    p.add_argument("--images", type=int, default=None, help="first N evaluation images only")
    p.add_argument("--out", type=Path, default=None, help="write results as JSON here")
    p.add_argument("--threads", type=int, default=2)
    args = p.parse_args(argv)
    torch.set_num_threads(args.threads)
    results = {}
    for path in args.checkpoints:
        model = PixelEncoder(ConvEncoder.from_checkpoint(str(path)))
        refs = load_eval_images(args.data, model.encoder.config.image_size)[:args.images]
        results[str(path)] = evaluate(model, refs, make_triplets(refs))
        print(json.dumps({str(path): results[str(path)]}, indent=1), flush=True)
    if args.out:
        args.out.write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
