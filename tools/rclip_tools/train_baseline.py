"""Stage 1: self-supervised SimCLR (NT-Xent) training of a ConvEncoder from scratch.

The embedding used by the metric is the encoder output, before SimCLR's projection head: the head is
where the contrastive loss discards augmentation information (colour, blur), which a perceptual
distance must keep.

Example (from tools/):
  /usr/bin/python3 -m rclip_tools.train_baseline --run runs/base --steps 3000 --minutes 25 --seed 0
"""

from __future__ import annotations

import argparse
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from . import augment
from .convnet import ConvEncoder, ConvEncoderConfig
from .data import DEFAULT_DATA_ROOT, cached_images, training_files
from .trainutil import RunLog, Stopwatch, batch_indices, cosine_lr, save_atomic, step_generator


class ProjectionHead(nn.Module):
    def __init__(self, in_dim: int, hidden: int = 512, out_dim: int = 128):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(in_dim, hidden), nn.GELU(), nn.Linear(hidden, out_dim))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


def nt_xent(z1: torch.Tensor, z2: torch.Tensor, temperature: float) -> torch.Tensor:
    """SimCLR loss: each view must pick its partner among the 2N-1 other views of the batch."""
    z = F.normalize(torch.cat([z1, z2]), dim=1)
    n = z1.shape[0]
    logits = z @ z.t() / temperature
    logits.fill_diagonal_(float("-inf"))
    targets = torch.cat([torch.arange(n, 2 * n), torch.arange(0, n)])
    return F.cross_entropy(logits, targets)


def normalise(x: torch.Tensor, config: ConvEncoderConfig) -> torch.Tensor:
    mean = torch.tensor(config.mean)[None, :, None, None]
    std = torch.tensor(config.std)[None, :, None, None]
    return (x - mean) / std


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--run", type=Path, required=True, help="run folder for log, checkpoints")
    p.add_argument("--data", type=Path, default=DEFAULT_DATA_ROOT)
    p.add_argument("--cache", type=Path, default=None, help="image cache folder (default runs/cache)")
    p.add_argument("--steps", type=int, required=True, help="total optimiser steps (sets the schedule)")
    p.add_argument("--minutes", type=float, default=None, help="stop (with a checkpoint) after this much training time")
    p.add_argument("--resume", action="store_true", help="continue from <run>/last.pt")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--batch-size", type=int, default=256)
    p.add_argument("--lr", type=float, default=2e-3)
    p.add_argument("--weight-decay", type=float, default=0.05)
    p.add_argument("--warmup-steps", type=int, default=100)
    p.add_argument("--temperature", type=float, default=0.2)
    p.add_argument("--image-size", type=int, default=64)
    p.add_argument("--widths", type=int, nargs="+", default=None)
    p.add_argument("--depths", type=int, nargs="+", default=None)
    p.add_argument("--embed-dim", type=int, default=256)
    p.add_argument("--checkpoint-minutes", type=float, default=3.0)
    p.add_argument("--log-every", type=int, default=10)
    p.add_argument("--max-images", type=int, default=None, help="use only the first N training images (smoke tests)")
    p.add_argument("--threads", type=int, default=2)
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> Path:
    args = parse_args(argv)
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    args.run.mkdir(parents=True, exist_ok=True)
    log = RunLog(args.run)
    last_path, final_path = args.run / "last.pt", args.run / "final.pt"

    config_kw = dict(embed_dim=args.embed_dim, image_size=args.image_size)
    if args.widths:
        config_kw["widths"] = tuple(args.widths)
    if args.depths:
        config_kw["depths"] = tuple(args.depths)
    config = ConvEncoderConfig(**config_kw)
    state = torch.load(last_path) if args.resume and last_path.exists() else None
    if state is not None:
        config = ConvEncoderConfig.from_dict(state["config"])
    encoder = ConvEncoder(config)
    head = ProjectionHead(config.embed_dim)
    params = list(encoder.parameters()) + list(head.parameters())
    optimizer = torch.optim.AdamW(params, lr=args.lr, weight_decay=args.weight_decay)
    step = 0
    watch = Stopwatch()
    if state is not None:
        encoder.load_state_dict(state["state_dict"])
        head.load_state_dict(state["head"])
        optimizer.load_state_dict(state["optimizer"])
        step = state["step"]
        watch = Stopwatch(state["elapsed"])
        log.write(event="resume", step=step, elapsed=watch.elapsed)

    files = training_files(args.data)
    if args.max_images:
        files = files[:args.max_images]
    cache_side = round(config.image_size * 1.5)
    images = cached_images(files, cache_side, **({"cache_dir": args.cache} if args.cache else {}), tag="train")
    batch_size = min(args.batch_size, len(files))
    log.write(event="start", images=len(files), params=sum(p.numel() for p in encoder.parameters()),
              config=config.to_dict(), args={k: str(v) for k, v in vars(args).items()})

    def save(path: Path) -> None:
        save_atomic({**encoder.checkpoint(), "head": head.state_dict(), "optimizer": optimizer.state_dict(),
                     "step": step, "elapsed": watch.elapsed, "stage": "simclr",
                     "args": {k: str(v) for k, v in vars(args).items()}}, path)

    last_save = watch.session
    window_images, window_start = 0, watch.session
    encoder.train()
    while step < args.steps:
        if args.minutes is not None and watch.elapsed >= args.minutes * 60:
            log.write(event="budget", step=step, elapsed=watch.elapsed)
            break
        lr = cosine_lr(step, args.steps, args.lr, args.warmup_steps)
        for group in optimizer.param_groups:
            group["lr"] = lr
        batch = images[batch_indices(args.seed, step, batch_size, len(images))]
        g = step_generator(args.seed, step)
        v1 = augment.simclr_view(batch, config.image_size, g)
        v2 = augment.simclr_view(batch, config.image_size, g)
        z = head(encoder(normalise(torch.cat([v1, v2]), config)))
        loss = nt_xent(z[:batch_size], z[batch_size:], args.temperature)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        step += 1
        window_images += batch_size
        if step % args.log_every == 0 or step == args.steps:
            rate = window_images / max(1e-9, watch.session - window_start)
            log.write(step=step, loss=loss.item(), lr=lr, images_per_s=rate, elapsed=watch.elapsed)
            window_images, window_start = 0, watch.session
        if watch.session - last_save >= args.checkpoint_minutes * 60:
            save(last_path)
            last_save = watch.session
    save(last_path)
    if step >= args.steps:
        save_atomic({**encoder.checkpoint(), "step": step, "elapsed": watch.elapsed, "stage": "simclr",
                     "args": {k: str(v) for k, v in vars(args).items()}}, final_path)
        log.write(event="done", step=step, elapsed=watch.elapsed)
    return final_path


if __name__ == "__main__":
    main()
