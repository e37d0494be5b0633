"""Stage 2: FARE (Schlarmann et al. 2024) unsupervised adversarial fine-tuning of a stage-1 encoder.

A trainable copy f of the frozen stage-1 encoder f_orig minimises
    max_{||delta||_inf <= eps} ||f(x + delta) - f_orig(x)||_2^2
on the raw (unnormalised) embeddings, as in the paper. delta lives in pixel space [0,1]; the
normalisation is applied inside PixelEncoder, so the threat model is the one the runtime attacks.

The paper's inner loop is PGD-10 with step 1/255 at eps 4/255. On 2 CPU cores that costs 11
forward/backward passes per image, so this default is PGD-3 with step 2/255 from a uniform random
start: three steps of eps/2 still reach any point of the eps-ball, at ~40% of the cost.

Example (from tools/):
  /usr/bin/python3 -m rclip_tools.train_fare --init runs/base/final.pt --run runs/fare --steps 4000 --minutes 80 --seed 0
"""

from __future__ import annotations

import argparse
import copy
from pathlib import Path

import torch

from . import augment
from .convnet import ConvEncoder
from .proxy_eval import (PixelEncoder, cosine_distance, load_eval_images, make_triplets, pgd_flip_attack,
                         push_apart_drift)
from .trainutil import (Stopwatch, TrainLoop, add_run_args, batch_indices, fraction, load_training_images, open_run,
                        pgd_linf_random_start, ramped_eps,
                        parse_run_args, save_atomic, step_generator)


def fare_loss(model: PixelEncoder, target: torch.Tensor, pixels: torch.Tensor) -> torch.Tensor:
    """Mean over the batch of the squared L2 distance to the frozen embeddings."""
    return ((model(pixels) - target) ** 2).sum(1).mean()


def robustness_proxy(model: PixelEncoder, original: PixelEncoder, refs: torch.Tensor,
                     triplets: dict) -> dict:
    """Cheap progress signal on a few evaluation images: PGD-10 4/255 push-apart drift of the
    trained copy, its clean drift from f_orig, and proxy 2AFC accuracy (clean and under PGD-10).
    The frozen model's own drift is logged once at the start, for comparison."""
    model.eval()
    eps, steps, step_size = 4 / 255, 10, 1 / 255
    with torch.no_grad():
        clean_drift = cosine_distance(model(refs), original(refs)).mean().item()
    pgd_correct, clean_correct = [], []
    for closer, farther in triplets.values():
        pgd_correct.append(pgd_flip_attack(model, refs, closer, farther, eps, steps, step_size))
        with torch.no_grad():
            e = model(refs)
            clean_correct.append(cosine_distance(e, model(closer)) < cosine_distance(e, model(farther)))
    return {"drift_pgd10": push_apart_drift(model, refs, eps, steps, step_size).item(),
            "clean_drift_from_orig": clean_drift,
            "proxy_2afc_clean": torch.cat(clean_correct).float().mean().item(),
            "proxy_2afc_pgd10": torch.cat(pgd_correct).float().mean().item()}


def parse_args(argv: list[str] | None = None) -> tuple[argparse.Namespace, dict | None, list[str]]:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--init", type=Path, help="stage-1 checkpoint (f_orig and the starting point); not needed with --resume")
    add_run_args(p, batch_size=128, lr=5e-4, weight_decay=1e-4)
    p.add_argument("--eps", type=fraction, default=4 / 255, help="L-inf radius in [0,1] pixels, e.g. 4/255")
    p.add_argument("--pgd-steps", type=int, default=3)
    p.add_argument("--pgd-step-size", type=fraction, default=2 / 255)
    p.add_argument("--eps-warmup-steps", type=int, default=200,
                   help="ramp eps linearly from 0 over this many steps, so the copy is not pushed away from f_orig at once")
    p.add_argument("--proxy-every", type=int, default=250, help="steps between robustness proxy evaluations (0: never)")
    p.add_argument("--proxy-images", type=int, default=24)
    return parse_run_args(p, argv)


def main(argv: list[str] | None = None) -> Path:
    args, state, inherited = parse_args(argv)
    log, last_path, final_path = open_run(args)

    if state is not None:
        original_encoder = ConvEncoder.from_checkpoint({"config": state["config"], "state_dict": state["original"]})
    elif args.init is not None:
        original_encoder = ConvEncoder.from_checkpoint(str(args.init))
    else:
        raise SystemExit("--init is required unless --resume finds <run>/last.pt")
    original = PixelEncoder(original_encoder).requires_grad_(False).eval()
    model = PixelEncoder(copy.deepcopy(original_encoder)).requires_grad_(True)
    optimizer = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=args.weight_decay)
    step, watch = 0, Stopwatch()
    if state is not None:
        model.encoder.load_state_dict(state["state_dict"])
        optimizer.load_state_dict(state["optimizer"])
        step, watch = state["step"], Stopwatch(state["elapsed"])
        log.write(event="resume", step=step, elapsed=watch.elapsed, inherited=inherited)

    config = original_encoder.config
    files, images, batch_size = load_training_images(args, config.image_size)
    proxy_refs = load_eval_images(args.data, config.image_size, args.cache)[:args.proxy_images]
    proxy_triplets = make_triplets(proxy_refs)
    log.write(event="start", images=len(files), init=str(args.init), config=config.to_dict(),
              args={k: str(v) for k, v in vars(args).items()})
    if args.proxy_every:
        log.write(event="frozen_proxy", drift_pgd10_orig=push_apart_drift(original, proxy_refs, 4 / 255, 10, 1 / 255).item())

    def meta() -> dict:
        return {"step": loop.step, "elapsed": watch.elapsed, "stage": "fare",
                "robustness": {"method": "FARE", "norm": "linf", "eps": args.eps},
                "args": {k: str(v) for k, v in vars(args).items()}}

    def save_last() -> None:
        save_atomic({**model.encoder.checkpoint(), "original": original.encoder.state_dict(),
                     "optimizer": optimizer.state_dict(), **meta()}, last_path)

    def proxy() -> None:
        log.write(step=loop.step, elapsed=watch.elapsed, **robustness_proxy(model, original, proxy_refs, proxy_triplets))

    loop = TrainLoop(args, log, optimizer, step, watch, save_last, proxy)
    for lr in loop:
        eps, step_size = ramped_eps(args, loop.step)
        g = step_generator(args.seed, loop.step, stream=1)
        pixels = augment.fare_view(images[batch_indices(args.seed, loop.step, batch_size, len(images))],
                                   config.image_size, g)
        with torch.no_grad():
            target = original(pixels)
        model.eval()
        adversarial = pgd_linf_random_start(lambda x: fare_loss(model, target, x), pixels, eps, args.pgd_steps, step_size, g)
        model.train()
        loss = fare_loss(model, target, adversarial)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        loop.finish_step(batch_size, loss=loss.item(), eps=eps, lr=lr)
    if loop.end():
        save_atomic({**model.encoder.checkpoint(), **meta()}, final_path)
        log.write(event="done", step=loop.step, elapsed=watch.elapsed)
    return final_path


if __name__ == "__main__":
    main()
