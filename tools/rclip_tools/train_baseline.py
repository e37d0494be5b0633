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
from .trainutil import (Stopwatch, TrainLoop, add_run_args, batch_indices, load_training_images, open_run, parse_run_args,
                        save_atomic, step_generator)


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


def parse_args(argv: list[str] | None = None) -> tuple[argparse.Namespace, dict | None, list[str]]:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_run_args(p, batch_size=256, lr=2e-3, weight_decay=0.05)
    p.add_argument("--temperature", type=float, default=0.2)
    p.add_argument("--image-size", type=int, default=64)
    p.add_argument("--widths", type=int, nargs="+", default=None)
    p.add_argument("--depths", type=int, nargs="+", default=None)
    p.add_argument("--embed-dim", type=int, default=256)
    return parse_run_args(p, argv)


def main(argv: list[str] | None = None) -> Path:
    args, state, inherited = parse_args(argv)
    log, last_path, final_path = open_run(args)

    if state is not None:
        config = ConvEncoderConfig.from_dict(state["config"])
    else:
        config_kw = dict(embed_dim=args.embed_dim, image_size=args.image_size)
        if args.widths:
            config_kw["widths"] = tuple(args.widths)
        if args.depths:
            config_kw["depths"] = tuple(args.depths)
        config = ConvEncoderConfig(**config_kw)
    encoder = ConvEncoder(config)
    head = ProjectionHead(config.embed_dim)
    params = list(encoder.parameters()) + list(head.parameters())
    optimizer = torch.optim.AdamW(params, lr=args.lr, weight_decay=args.weight_decay)
    step, watch = 0, Stopwatch()
    if state is not None:
        encoder.load_state_dict(state["state_dict"])
        head.load_state_dict(state["head"])
        optimizer.load_state_dict(state["optimizer"])
        step, watch = state["step"], Stopwatch(state["elapsed"])
        log.write(event="resume", step=step, elapsed=watch.elapsed, inherited=inherited)

    files, images, batch_size = load_training_images(args, config.image_size)
    log.write(event="start", images=len(files), params=sum(p.numel() for p in encoder.parameters()),
              config=config.to_dict(), args={k: str(v) for k, v in vars(args).items()})

    def meta() -> dict:
        return {"step": loop.step, "elapsed": watch.elapsed, "stage": "simclr",
                "args": {k: str(v) for k, v in vars(args).items()}}

    def save_last() -> None:
        save_atomic({**encoder.checkpoint(), "head": head.state_dict(), "optimizer": optimizer.state_dict(), **meta()},
                    last_path)

    loop = TrainLoop(args, log, optimizer, step, watch, save_last)
    encoder.train()
    for lr in loop:
        batch = images[batch_indices(args.seed, loop.step, batch_size, len(images))]
        g = step_generator(args.seed, loop.step)
        v1 = augment.simclr_view(batch, config.image_size, g)
        v2 = augment.simclr_view(batch, config.image_size, g)
        z = head(encoder(normalise(torch.cat([v1, v2]), config)))
        loss = nt_xent(z[:batch_size], z[batch_size:], args.temperature)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        loop.finish_step(batch_size, loss=loss.item(), lr=lr)
    if loop.end():
        save_atomic({**encoder.checkpoint(), **meta()}, final_path)
        log.write(event="done", step=loop.step, elapsed=watch.elapsed)
    return final_path


if __name__ == "__main__":
    main()
