"""Pieces shared by the two training stages: seeding, batching, schedule, logging, checkpoints."""

from __future__ import annotations

import argparse
import ast
import contextlib
import json
import math
import os
import time
from pathlib import Path
from typing import Any

import torch

from .data import DEFAULT_DATA_ROOT, cached_images, training_files


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


def on_cpu(obj: Any) -> Any:
    """obj with every tensor inside (dicts, lists, tuples) on the CPU: a state saved on a GPU loads anywhere."""
    if isinstance(obj, torch.Tensor):
        return obj.cpu()
    if isinstance(obj, dict):
        return type(obj)((k, on_cpu(v)) for k, v in obj.items())
    if isinstance(obj, (list, tuple)):
        return type(obj)(on_cpu(v) for v in obj)
    return obj


def save_atomic(obj: Any, path: Path) -> None:
    tmp = Path(str(path) + ".tmp")
    torch.save(on_cpu(obj), tmp)
    os.replace(tmp, path)


def load_state(path: Path) -> Any:
    """A state this project's trainers saved (a full unpickle: torch >= 2.6 defaults to weights-only), on the CPU."""
    return torch.load(path, map_location="cpu", weights_only=False)


class Stopwatch:
    """Training time that survives resume: `elapsed` = wall time of earlier sessions + this one;
    `cpu` = this process's CPU time (all threads) spent training, earlier sessions included, without
    what ran inside `excluded()` (the proxy evaluations). CPU time is the pilots' budget: on a shared
    machine wall time depends on what else runs, CPU time less — but not nothing (cache and core
    sharing inflated a PGD-2 step from ~1-2 to ~4.4 CPU-seconds under load 8-12 here)."""

    def __init__(self, previous: float = 0.0, previous_cpu: float = 0.0):
        self.previous, self.previous_cpu = previous, previous_cpu
        self.start, self.start_cpu = time.time(), time.process_time()
        self._excluded_cpu = 0.0

    @property
    def elapsed(self) -> float:
        return self.previous + time.time() - self.start

    @property
    def session(self) -> float:
        return time.time() - self.start

    @property
    def cpu(self) -> float:
        return self.previous_cpu + time.process_time() - self.start_cpu - self._excluded_cpu

    @contextlib.contextmanager
    def excluded(self):
        t = time.process_time()
        try:
            yield
        finally:
            self._excluded_cpu += time.process_time() - t


def fraction(text: str) -> float:
    """argparse type for pixel radii: "4/255" or "0.0157"."""
    if "/" in text:
        num, den = text.split("/")
        return float(num) / float(den)
    return float(text)


# Settings that describe where and how a session runs, not the recipe: a resumed run takes these
# from its own command line; everything else defaults to what the run started with. (nsfwjs is the
# folder of the dumped weights: a path on the machine that started the run, so never inherited.)
SESSION_ARGS = frozenset({"run", "data", "cache", "nsfwjs", "resume", "init", "minutes", "cpu_minutes", "threads",
                          "checkpoint_minutes", "log_every", "device"})


def add_run_args(p: argparse.ArgumentParser, *, batch_size: int, lr: float, weight_decay: float) -> None:
    """The arguments both stages share (run folder, data, schedule, budget, resume, logging)."""
    p.add_argument("--run", type=Path, required=True, help="run folder for log, checkpoints")
    p.add_argument("--data", type=Path, default=DEFAULT_DATA_ROOT)
    p.add_argument("--cache", type=Path, default=None, help="image cache folder (default runs/cache)")
    p.add_argument("--steps", type=int, required=True, help="total optimiser steps (sets the schedule)")
    p.add_argument("--minutes", type=float, default=None, help="stop (with a checkpoint) after this much training time")
    p.add_argument("--cpu-minutes", type=float, default=None,
                   help="stop (with a checkpoint) after this much training CPU time, all threads, proxies excluded")
    p.add_argument("--resume", action="store_true",
                   help="continue from <run>/last.pt with the run's own settings, except those given here")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--batch-size", type=int, default=batch_size)
    p.add_argument("--lr", type=float, default=lr)
    p.add_argument("--weight-decay", type=float, default=weight_decay)
    p.add_argument("--warmup-steps", type=int, default=100)
    p.add_argument("--checkpoint-minutes", type=float, default=3.0)
    p.add_argument("--log-every", type=int, default=10)
    p.add_argument("--max-images", type=int, default=None, help="use only the first N training images (smoke tests)")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--device", default="cpu", help="torch device of the training step and the proxy (cpu, cuda)")


def _saved_value(action: argparse.Action, text: str) -> Any:
    """Inverse of the str(value) a checkpoint keeps in its "args"."""
    if text == "None":
        return None
    if isinstance(action, (argparse._StoreTrueAction, argparse._StoreFalseAction)):
        return text == "True"
    if action.nargs in ("+", "*"):
        return [action.type(v) for v in ast.literal_eval(text)]
    return action.type(text) if action.type else text


def parse_run_args(p: argparse.ArgumentParser, argv: list[str] | None) -> tuple[argparse.Namespace, dict | None, list[str]]:
    """Parses argv; with --resume and <run>/last.pt present, also loads that checkpoint and fills every
    recipe setting not given on this command line from the run's saved args, so a resumed run keeps
    its learning rate, batch size, eps... Returns (args, checkpoint or None, names of inherited settings)."""
    args = p.parse_args(argv)
    last_path = args.run / "last.pt"
    if not (args.resume and last_path.exists()):
        return args, None, []
    state = load_state(last_path)
    defaults = {a.dest: a.default for a in p._actions}
    for action in p._actions:
        action.default = argparse.SUPPRESS
    try:
        given = set(vars(p.parse_args(argv)))
    finally:
        for action in p._actions:
            action.default = defaults[action.dest]
    inherited = []
    for action in p._actions:
        name = action.dest
        if name in state.get("args", {}) and name not in given and name not in SESSION_ARGS:
            setattr(args, name, _saved_value(action, state["args"][name]))
            inherited.append(name)
    return args, state, inherited


def load_training_images(args: argparse.Namespace, image_size: int) -> tuple[list[Path], torch.Tensor, int]:
    """The training split (or its first --max-images), decoded at 1.5x the input size for random crops,
    and the batch size that fits it."""
    files = training_files(args.data)
    if args.max_images:
        files = files[:args.max_images]
    cache_kw = {"cache_dir": args.cache} if args.cache else {}
    images = cached_images(files, round(image_size * 1.5), **cache_kw, tag="train")
    return files, images, min(args.batch_size, len(files))


def open_run(args: argparse.Namespace) -> tuple[RunLog, Path, Path]:
    """A session's prologue shared by the trainers: threads, seed, run folder; (log, last.pt, final.pt)."""
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    args.run.mkdir(parents=True, exist_ok=True)
    return RunLog(args.run), args.run / "last.pt", args.run / "final.pt"


def ramped_eps(args: argparse.Namespace, step: int) -> tuple[float, float]:
    """(eps, PGD step size) at `step`: eps ramps linearly from 0 to args.eps over args.eps_warmup_steps,
    the step size in proportion, so the trained copy is not pushed away from the original at once."""
    eps = args.eps * min(1.0, (step + 1) / max(1, args.eps_warmup_steps))
    return eps, args.pgd_step_size * eps / args.eps


def pgd_linf_random_start(loss_of, pixels: torch.Tensor, eps: float, steps: int, step_size: float,
                          g: torch.Generator) -> torch.Tensor:
    """Adversarial pixels maximising loss_of(pixels) (a scalar): uniform random start in the eps-ball,
    signed steps, projection to the ball and to [0,1]; the inner loop of the adversarial trainers."""
    delta = ((torch.rand(pixels.shape, generator=g) * 2 - 1) * eps).to(pixels.device)
    delta = (pixels + delta).clamp(0, 1) - pixels
    for _ in range(steps):
        delta.requires_grad_(True)
        grad, = torch.autograd.grad(loss_of(pixels + delta), delta)
        delta = (delta.detach() + step_size * grad.sign()).clamp(-eps, eps)
        delta = (pixels + delta).clamp(0, 1) - pixels
    return (pixels + delta).detach()


class TrainLoop:
    """The loop both stages share: the time budget, the cosine schedule, throughput logging,
    periodic checkpoints and the optional proxy evaluations (`proxy`, every args.proxy_every steps: at step 0,
    at each multiple, and at the end of the schedule). Iterating yields each step's learning rate
    (already set on the optimiser); the body calls `finish_step` once its optimiser step is done, and
    `end()` after the loop."""

    def __init__(self, args: argparse.Namespace, log: RunLog, optimizer: torch.optim.Optimizer,
                 step: int, watch: Stopwatch, save_last, proxy=None):
        self.args, self.log, self.optimizer, self.step, self.watch = args, log, optimizer, step, watch
        self.save_last, self.proxy = save_last, proxy
        # 0: no proxy evaluations (a stage without a proxy, or --proxy-every 0).
        self.proxy_every = args.proxy_every if proxy is not None else 0
        # True during the last evaluation (end of schedule or of budget), for a proxy that does more there.
        self.final = False
        self.stopped_for_budget = False
        self._last_save = watch.session
        self._window_images, self._window_start = 0, watch.session

    def __iter__(self):
        args = self.args
        if self.step == 0 and self.proxy_every and getattr(args, "proxy_at_start", True):
            self.run_proxy()
        while self.step < args.steps:
            over_wall = args.minutes is not None and self.watch.elapsed >= args.minutes * 60
            over_cpu = getattr(args, "cpu_minutes", None) is not None and self.watch.cpu >= args.cpu_minutes * 60
            if over_wall or over_cpu:
                self.log.write(event="budget", step=self.step, elapsed=self.watch.elapsed, cpu=self.watch.cpu)
                self.stopped_for_budget = True
                break
            lr = cosine_lr(self.step, args.steps, args.lr, args.warmup_steps)
            for group in self.optimizer.param_groups:
                group["lr"] = lr
            yield lr

    def finish_step(self, batch_size: int, **metrics: float) -> None:
        self.step += 1
        self._window_images += batch_size
        session = self.watch.session
        if self.step % self.args.log_every == 0 or self.step == self.args.steps:
            rate = self._window_images / max(1e-9, session - self._window_start)
            self.log.write(step=self.step, **metrics, images_per_s=rate, elapsed=self.watch.elapsed, cpu=self.watch.cpu)
            self._window_images, self._window_start = 0, session
        if session - self._last_save >= self.args.checkpoint_minutes * 60:
            self.save_last()
            self._last_save = session
        if self.proxy_every and self.step % self.proxy_every == 0:
            self.run_proxy()

    def run_proxy(self) -> None:
        self.cpu_before_proxy = self.watch.cpu  # what a proxy record logs: its own cost is not training
        with self.watch.excluded():
            self.proxy()

    def end(self) -> bool:
        """Saves last.pt; when the schedule is complete or the budget spent, also runs the final proxy
        (with `final` set; a periodic one at this very step is not repeated unless budget-stopped, where
        the final one may evaluate more). Returns whether the schedule is complete (the caller then
        writes final.pt)."""
        self.save_last()
        if self.proxy_every and (self.stopped_for_budget or (self.finished and self.step % self.proxy_every)):
            self.final = True
            self.run_proxy()
        return self.finished

    @property
    def finished(self) -> bool:
        return self.step >= self.args.steps
