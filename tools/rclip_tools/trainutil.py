"""Pieces shared by the two training stages: seeding, batching, schedule, logging, checkpoints."""

from __future__ import annotations

import json
import math
import os
import time
from pathlib import Path
from typing import Any

import torch


def step_generator(seed: int, step: int, stream: int = 0) -> torch.Generator:
    """A generator that depends only on (seed, step, stream), so resuming replays the same randomness."""
    return torch.Generator().manual_seed((seed * 1_000_003 + step) * 7 + stream)


def batch_indices(seed: int, step: int, batch_size: int, n: int) -> torch.Tensor:
    """Indices of step's batch: epochs are seeded permutations, the last partial batch is dropped."""
    steps_per_epoch = max(1, n // batch_size)
    epoch, j = divmod(step, steps_per_epoch)
    perm = torch.randperm(n, generator=torch.Generator().manual_seed(seed * 9_176 + epoch))
    return perm[j * batch_size:(j + 1) * batch_size]


def cosine_lr(step: int, total_steps: int, base_lr: float, warmup_steps: int,
              final_fraction: float = 0.01) -> float:
    if step < warmup_steps:
        return base_lr * (step + 1) / warmup_steps
    t = min(1.0, (step - warmup_steps) / max(1, total_steps - warmup_steps))
    return base_lr * (final_fraction + (1 - final_fraction) * 0.5 * (1 + math.cos(math.pi * t)))


class RunLog:
    """Human-readable lines to stdout and one JSON object per line to <run>/metrics.jsonl."""

    def __init__(self, run_dir: Path):
        self.path = Path(run_dir) / "metrics.jsonl"

    def write(self, **record: Any) -> None:
        text = " ".join(f"{k}={v:.5g}" if isinstance(v, float) else f"{k}={v}" for k, v in record.items())
        print(text, flush=True)
        with open(self.path, "a") as f:
            f.write(json.dumps(record) + "\n")


def save_atomic(obj: Any, path: Path) -> None:
    tmp = Path(str(path) + ".tmp")
    torch.save(obj, tmp)
    os.replace(tmp, path)


class Stopwatch:
    """Training time that survives resume: `elapsed` = time of earlier sessions + this one."""

    def __init__(self, previous: float = 0.0):
        self.previous = previous
        self.start = time.time()

    @property
    def elapsed(self) -> float:
        return self.previous + time.time() - self.start

    @property
    def session(self) -> float:
        return time.time() - self.start


def fraction(text: str) -> float:
    """argparse type for pixel radii: "4/255" or "0.0157"."""
    if "/" in text:
        num, den = text.split("/")
        return float(num) / float(den)
    return float(text)
