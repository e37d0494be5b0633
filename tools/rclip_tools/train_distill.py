"""Robust distillation of the frozen MobileNetV2 baseline into a lower-resolution copy of itself.

Teacher t: the pretrained network (nsfwjs MobileNetV2, ImageNet blocks 0-10) at the teacher size
(224), pooled block_10_expand_relu minus its centre: the non-robust baseline.
Student s: the same layers, initialised from the same weights, fed the same view resized to the
student size (default 128: about a third of the cost per pass, which is what makes adversarial
training affordable on 2 CPU cores). Per step, for views x (teacher) and x' (student):

    delta  = PGD-K, L-inf eps, maximising 1 - cos(s(x' + delta), t(x))   (random start)
    loss   = mean_i [1 - cos(s(x'_i + delta_i), t(x_i))]                 (FARE, on the cosine)
           + w_nce * InfoNCE(s(x' + delta), t(x), tau)                   (anti-collapse)
           + w_clean * mean_i [1 - cos(s(x'_i), t(x_i))]

This is FARE's objective (match the original embedding under the worst perturbation in the ball)
with the original replaced by the full-resolution teacher, measured as the metric is (cosine); the
InfoNCE term (each adversarial student embedding must be closer to its own teacher embedding than
to the other images' in the batch) rules out the collapse that plain FARE showed on this network
(a constant output beats the identity when the attack moves features further than the spread of
clean features). eps ramps linearly from 0 over --eps-warmup-steps.

The inner maximisation (--inner), the recipes the pilots compare (public/models/README.md):
  pgd     PGD-K with a uniform random start in the ball (--pgd-steps, --pgd-step-size); K=1 is FGSM-RS.
  nfgsm   N-FGSM (de Jorge et al., NeurIPS 2022): noise uniform in +-2 eps, one signed step of eps, no
          projection back to the eps-ball (only to [0,1]); one gradient per step, no catastrophic overfitting.
  memory  a perturbation memory (ATTA, Zheng et al., CVPR 2020): each training photo keeps one view (crop,
          flip, jitter) with its teacher target and its delta for --memory-age visits; each visit takes one
          signed step (--pgd-step-size) from the stored delta and stores the result, so a delta accumulates
          the steps of many epochs at one gradient per step. The view stays fixed while its delta lives (the
          delta is in the view's own pixels, so nothing needs inverse augmentation), then is redrawn with a
          fresh random delta. The teacher runs only on redrawn views.
--teacher mnv2+inception (the recipe round's teacher pilot): the teacher is MobileNetV2 block 10 ⊕ InceptionV3 mixed5
(keras_mobilenet.ConcatEmbedding, 1,152-d, each part centred and L2-normalised), the student MobileNetV2 with
a linear projection 384 -> 1,152 (ProjectedEmbedding) fitted by least squares on the training photos before
step 0; with --init the student's convolutions and centre come from that state, the projection is fitted
fresh and the teacher is built from nsfwjs (its dumps of both models side by side: tools/nsfwjs_dump.mjs).
--ema DECAY keeps an exponential moving average of the student's weights; the last proxy evaluation of a
session (end of schedule or of --cpu-minutes/--minutes) evaluates it too.
--init STATE starts a new run (step 0, new optimiser and schedule) from another run's last.pt.

Resumable (seeded per step, checkpoint every --checkpoint-minutes), like the other trainers.
Example (from tools/, after `node tools/nsfwjs_dump.mjs` in the repository root):
  /usr/bin/python3 -m rclip_tools.train_distill --run runs/distill --steps 6000 --minutes 100
"""

from __future__ import annotations

import argparse
import copy
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from . import augment
from .data import DEFAULT_DATA_ROOT, cached_images, evaluation_files, tiny_imagenet_files, training_files
from .keras_mobilenet import (TEACHER_PARTS, ConcatEmbedding, PooledEmbedding, ProjectedEmbedding, fit_centre,
                              fit_projection, load_embedding, nsfwjs_model_folder)
from .semantic_eval import evaluate_suite
from .trainutil import (Stopwatch, TrainLoop, add_run_args, batch_indices, fraction, load_state, load_training_images,
                        open_run, parse_run_args, pgd_linf_random_start, ramped_eps, save_atomic, step_generator)

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_NSFWJS = REPO_ROOT / "tools" / "runs" / "nsfwjs" / "mobilenet_v2"


def cosine_loss(student: torch.Tensor, teacher: torch.Tensor) -> torch.Tensor:
    return 1 - F.cosine_similarity(student, teacher, dim=1)


def info_nce(student: torch.Tensor, teacher: torch.Tensor, tau: float) -> torch.Tensor:
    logits = F.normalize(student, dim=1) @ F.normalize(teacher, dim=1).T / tau
    return F.cross_entropy(logits, torch.arange(len(student), device=logits.device))


# Crop area of a training view: a photo of ~240 px keeps detail at a quarter of its area; a 64 px Tiny-ImageNet
# photo, upsampled to the teacher's size anyway, would be a blur of a few pixels, so its crops keep half or more.
PHOTO_CROP_SCALE = (0.25, 1.0)
TINY_CROP_SCALE = (0.5, 1.0)


class TrainingSet:
    """The training photos (uint8, 1.5x the teacher size) followed by the Tiny-ImageNet photos (uint8, their own
    64 px; --tiny-imagenet): index i < len(photos) is a photo, the rest are tiny. Views of both come out at the
    teacher's size, so a batch mixes them freely; `tiny_share` of each batch is tiny."""

    def __init__(self, photos: torch.Tensor, tiny: torch.Tensor | None = None, tiny_share: float = 0.5):
        self.photos, self.tiny, self.tiny_share = photos, tiny, tiny_share

    def __len__(self) -> int:
        return len(self.photos) + (len(self.tiny) if self.tiny is not None else 0)

    def to(self, device) -> "TrainingSet":
        return TrainingSet(self.photos.to(device), self.tiny.to(device) if self.tiny is not None else None, self.tiny_share)

    def batch(self, seed: int, step: int, batch_size: int) -> torch.Tensor:
        """Indices of step's batch: photos first, then tiny ones, each part an epoch-seeded permutation of its own.
        Drawn uniformly from all 42,508 images a batch would be 95 % blurry 64 px photos, and the student's
        robustness did not carry over to the sharp evaluation photos (the first capacity pilots, MobileNetV2 at
        ~400 steps: copy R@1 0.65 clean and push-apart drift 0.88 of the median pair distance, against 0.94 and
        0.25 trained on the photos alone)."""
        if self.tiny is None:
            return batch_indices(seed, step, batch_size, len(self.photos))
        k = round(batch_size * self.tiny_share)
        if not 0 < k < batch_size:
            raise SystemExit(f"--tiny-share {self.tiny_share} leaves no photos or no tiny photos in a batch of {batch_size}")
        photos = batch_indices(seed, step, batch_size - k, len(self.photos))
        tiny = batch_indices(seed + 1, step, k, len(self.tiny)) + len(self.photos)
        return torch.cat([photos, tiny])

    def views(self, idx: torch.Tensor, teacher_size: int, student_size: int, g: torch.Generator):
        """(teacher view, student view) of items idx (CPU indices), in idx's order: one crop each, flipped and
        jittered, the student's resized from the teacher's with antialiasing, as the runtime's bicubic resize of a
        large photo would."""
        is_photo = idx < len(self.photos)
        x = torch.empty(len(idx), 3, teacher_size, teacher_size, device=self.photos.device)
        parts = [(is_photo, self.photos, idx, PHOTO_CROP_SCALE)]
        if self.tiny is not None:
            parts.append((~is_photo, self.tiny, idx - len(self.photos), TINY_CROP_SCALE))
        for mask, source, at, scale in parts:
            if mask.any():
                picked = source[at[mask].to(source.device)]
                x[mask.to(x.device)] = augment.random_resized_crop(picked, teacher_size, g, scale=scale)
        x = augment.random_flip(x, g)
        x = augment.color_jitter(x, g, 0.2, 0.2, 0.2, 0.02, p=0.5)
        xs = F.interpolate(x, size=(student_size, student_size), mode="bicubic", antialias=True, align_corners=False)
        return x, xs.clamp(0, 1)


def parse_args(argv: list[str] | None = None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--nsfwjs", type=Path, default=DEFAULT_NSFWJS, help="folder written by tools/nsfwjs_dump.mjs")
    add_run_args(p, batch_size=32, lr=1e-4, weight_decay=1e-4)
    p.add_argument("--layer", default="block_10_expand_relu")
    p.add_argument("--teacher-size", type=int, default=224)
    p.add_argument("--student-size", type=int, default=128)
    p.add_argument("--eps", type=fraction, default=4 / 255)
    p.add_argument("--pgd-steps", type=int, default=2)
    p.add_argument("--pgd-step-size", type=fraction, default=3 / 255, help="at full eps; scaled with the ramp")
    p.add_argument("--eps-warmup-steps", type=int, default=1500)
    p.add_argument("--w-nce", type=float, default=0.5)
    p.add_argument("--w-clean", type=float, default=0.5)
    p.add_argument("--tau", type=float, default=0.1)
    p.add_argument("--proxy-every", type=int, default=400, help="steps between proxy evaluations (0: never)")
    p.add_argument("--proxy-images", type=int, default=160)
    p.add_argument("--proxy-attacked", type=int, default=32)
    p.add_argument("--proxy-apgd-iters", type=int, default=100, help="APGD iterations of the proxy (0: PGD-10 only)")
    p.add_argument("--no-proxy-at-start", dest="proxy_at_start", action="store_false",
                   help="skip the step-0 evaluation (pilots from one start evaluate it once)")
    p.add_argument("--inner", choices=("pgd", "nfgsm", "memory"), default="pgd", help="inner maximisation (see above)")
    p.add_argument("--memory-age", type=int, default=10, help="visits a view and its delta live (--inner memory)")
    p.add_argument("--tiny-imagenet", action="store_true",
                   help="also train on ../shared/data/tiny-imagenet (40,400 photos at 64 px, crops of half or more)")
    p.add_argument("--tiny-share", type=float, default=0.5,
                   help="with --tiny-imagenet: the share of each batch drawn from it (the rest: the photos)")
    p.add_argument("--student", default=None, metavar="MODEL:LAYER",
                   help="a fresh student from the pretrained nsfwjs weights, e.g. inception_v3:mixed2 (default: "
                        "MobileNetV2 --layer, or --init's student); projected to the teacher's dimension when it differs")
    p.add_argument("--ema", type=float, default=0.0, help="weight EMA decay (0: none)")
    p.add_argument("--init", type=Path, default=None,
                   help="start from this train_distill state's student (and its teacher, with --teacher mnv2)")
    p.add_argument("--teacher", choices=("mnv2", "mnv2+inception", "mnv2+inception-plain"), default="mnv2",
                   help="mnv2: MobileNetV2 --layer (the baseline). mnv2+inception: MobileNetV2 block 10 ⊕ InceptionV3 "
                        "mixed5 (nsfwjs, both at --teacher-size, each centred and L2-normalised; -plain: not normalised), "
                        "1,152-d; the student then gets a linear projection 384 -> 1,152, fitted by least squares "
                        "(keras_mobilenet.ProjectedEmbedding)")
    return parse_run_args(p, argv)


def _centre_images(args, size: int) -> torch.Tensor:
    """uint8 centre crops of the training photos at `size` (centres and the projection's fit)."""
    files = training_files(args.data)[:args.max_images]
    cache_kw = {"cache_dir": args.cache} if args.cache else {}
    return cached_images(files, size, **cache_kw, tag="train-centre")


def build_teacher(args) -> PooledEmbedding | ConcatEmbedding:
    """The frozen teacher of --teacher from the pretrained weights, centred on the training photos."""
    if args.teacher == "mnv2":
        teacher = PooledEmbedding.from_nsfwjs(args.nsfwjs, args.layer, args.teacher_size)
    else:
        teacher = ConcatEmbedding.from_nsfwjs(args.nsfwjs, TEACHER_PARTS["mnv2+inception"], args.teacher_size,
                                              normalise=not args.teacher.endswith("-plain"))
    fit_centre(teacher.channels_last(), _centre_images(args, args.teacher_size))
    return teacher.requires_grad_(False).eval()


def fit_student_head(args, student, teacher, log=None):
    """The student as is when its embedding has the teacher's dimension; otherwise (a wider teacher) the
    student with a linear projection to the teacher's dimension, fitted by least squares from its
    features to the teacher's on the training photos' centre crops."""
    if student.embedding_dim == teacher.embedding_dim:
        return student
    if isinstance(student, ProjectedEmbedding):
        raise ValueError(f"student projects to {student.embedding_dim}-d, the teacher is {teacher.embedding_dim}-d")
    student = ProjectedEmbedding(student, teacher.embedding_dim)
    with torch.no_grad():
        targets = torch.cat([teacher(x) for x in _batches(_centre_images(args, args.teacher_size))])
    fit = fit_projection(student, _centre_images(args, args.student_size), targets)
    if log is not None:
        log.write(event="projection", dim_in=student.base.embedding_dim, dim_out=student.embedding_dim,
                  fit_cosine=fit, images=len(targets))
    return student


def _batches(images: torch.Tensor, batch: int = 64):
    for i in range(0, len(images), batch):
        yield images[i:i + batch].float() / 255


def build_models(args, log=None) -> tuple[nn.Module, nn.Module]:
    """(frozen teacher with its centre fitted, student with its own centre fitted), both from the
    pretrained weights; centres are means over the training images at each model's size."""
    teacher = build_teacher(args)
    return teacher, fit_student_head(args, build_student(args), teacher, log)


def build_student(args) -> PooledEmbedding:
    """A student from the pretrained weights (--student, else MobileNetV2 --layer), its centre fitted on the
    training photos at the student size."""
    model, layer = (args.student or f"mobilenet_v2:{args.layer}").split(":")
    student = PooledEmbedding.from_nsfwjs(nsfwjs_model_folder(args.nsfwjs, model), layer, args.student_size)
    fit_centre(student.channels_last(), _centre_images(args, args.student_size))
    return student


def padded(x: torch.Tensor, multiple: int = 32) -> torch.Tensor:
    """x on a GPU padded (by repeating its first image) to a multiple of `multiple` images: the memory's
    stale views come in every count from 1 to the batch size, and the GPU run's first ~550 steps ran at a
    fifth of its later rate, which fits a one-time cost per new batch shape of the teacher's convolutions
    (a guess, not timed apart). On the CPU x as is: a padded image there costs a whole pass."""
    if not x.is_cuda or len(x) % multiple == 0:
        return x
    return torch.cat([x, x[:1].expand(multiple - len(x) % multiple, *x.shape[1:])])


MEMORY_SAVE_LIMIT = 1 << 30


class PerturbationMemory:
    """--inner memory: per training photo one student view, its teacher target, its delta and its age."""

    def __init__(self, n: int, size: int, dim: int, device: torch.device):
        self.device = device
        self.views = torch.zeros(n, 3, size, size, dtype=torch.float16, device=device)
        self.delta = torch.zeros(n, 3, size, size, dtype=torch.float16, device=device)
        self.targets = torch.zeros(n, dim, device=device)
        self.age = torch.zeros(n, dtype=torch.long)  # on the CPU, as the batch indices: 0, no view yet

    def batch(self, idx, images, args, teacher, eps: float, g: torch.Generator):
        """(student views, teacher targets, deltas) of photos idx, redrawing the views that are new or
        have lived --memory-age visits (their delta restarts uniform in the ball)."""
        stale = idx[(self.age[idx] == 0) | (self.age[idx] >= args.memory_age)]
        if len(stale):
            xt, xs = images.views(stale, args.teacher_size, args.student_size, g)
            at = stale.to(self.device)
            with torch.no_grad():
                self.targets[at] = teacher(padded(xt))[:len(stale)]
            self.views[at] = xs.half()
            self.delta[at] = ((torch.rand(xs.shape, generator=g) * 2 - 1) * eps).to(self.device).half()
            self.age[stale] = 0
        self.age[idx] += 1
        at = idx.to(self.device)
        return self.views[at].float(), self.targets[at], self.delta[at].float()

    def nbytes(self) -> int:
        return sum(t.numel() * t.element_size() for t in (self.views, self.delta, self.targets))

    def store(self, idx, delta: torch.Tensor) -> None:
        self.delta[idx.to(self.device)] = delta.half()

    def state(self) -> dict:
        return {"views": self.views, "delta": self.delta, "targets": self.targets, "age": self.age}

    def load(self, state: dict) -> None:
        self.views, self.delta, self.targets = (state[k].to(self.device) for k in ("views", "delta", "targets"))
        self.age = state["age"]


def inner_max(args, student, xs, target, eps: float, step_size: float, g: torch.Generator, delta=None):
    """Adversarial student pixels for the batch, by the recipe's inner maximisation."""
    loss_of = lambda x: cosine_loss(student(x), target).sum()
    if args.inner == "pgd":
        return pgd_linf_random_start(loss_of, xs, eps, args.pgd_steps, step_size, g)
    if args.inner == "nfgsm":
        noise = ((torch.rand(xs.shape, generator=g) * 2 - 1) * 2 * eps).to(xs.device)
        x0 = (xs + noise).clamp(0, 1).requires_grad_(True)
        grad, = torch.autograd.grad(loss_of(x0), x0)
        return (x0.detach() + eps * grad.sign()).clamp(0, 1)
    x0 = (xs + delta).clamp(0, 1).requires_grad_(True)
    grad, = torch.autograd.grad(loss_of(x0), x0)
    d = (x0.detach() - xs + step_size * grad.sign()).clamp(-eps, eps)
    return (xs + d).clamp(0, 1)


def main(argv: list[str] | None = None) -> Path:
    args, state, inherited = parse_args(argv)
    log, last_path, final_path = open_run(args)

    if state is None and args.init is not None:
        init = load_state(args.init)
        if args.teacher == "mnv2":
            teacher = load_embedding(init["teacher"], args.nsfwjs).requires_grad_(False).eval()
        else:  # a new teacher, built from nsfwjs
            teacher = build_teacher(args)
        student = build_student(args) if args.student else load_embedding(init["student"], args.nsfwjs)
        if student.image_size != args.student_size:
            # The convolutions work at any size; the centre is a mean feature at the old one.
            student.image_size = args.student_size
            base = student.base if isinstance(student, ProjectedEmbedding) else student
            fit_centre(base, _centre_images(args, args.student_size))
        student = fit_student_head(args, student, teacher.channels_last(), log)
        save_atomic(teacher.checkpoint(), args.run / "teacher.pt")
        log.write(event="init", source=str(args.init), source_step=init.get("step"), student_size=args.student_size)
    elif state is not None:
        teacher = load_embedding(state["teacher"], args.nsfwjs).requires_grad_(False).eval()
        student = load_embedding(state["student"], args.nsfwjs)
    else:
        teacher, student = build_models(args, log)
        save_atomic(teacher.checkpoint(), args.run / "teacher.pt")
    device = torch.device(args.device)
    teacher.to(device).channels_last()
    student.to(device).channels_last()
    ema = copy.deepcopy(student).requires_grad_(False) if args.ema else None
    optimizer = torch.optim.AdamW(student.parameters(), lr=args.lr, weight_decay=args.weight_decay)
    step, watch = 0, Stopwatch()
    if state is not None:
        optimizer.load_state_dict(state["optimizer"])
        step, watch = state["step"], Stopwatch(state["elapsed"], state.get("cpu", 0.0))
        if ema is not None and state.get("ema") is not None:
            ema.load_state_dict(state["ema"])
        log.write(event="resume", step=step, elapsed=watch.elapsed, cpu=watch.cpu, inherited=inherited)

    with watch.excluded():  # decoding (or reading the cache) is not the recipe's work
        files, photos, batch_size = load_training_images(args, args.teacher_size)
        tiny = None
        if args.tiny_imagenet:
            tiny_files = tiny_imagenet_files(args.data)[:args.max_images]
            if not tiny_files:
                raise SystemExit(f"--tiny-imagenet: no photos in {args.data / 'tiny-imagenet'}")
            tiny = cached_images(tiny_files, 64, **({"cache_dir": args.cache} if args.cache else {}), tag="tiny")
            files = files + tiny_files
        images = TrainingSet(photos, tiny, args.tiny_share)
        eval_files = evaluation_files(args.data)[:args.proxy_images]
        wnids = [p.name.split("_")[0] for p in eval_files]
        cache_kw = {"cache_dir": args.cache} if args.cache else {}
        eval_images = cached_images(eval_files, args.student_size, **cache_kw, tag="eval").to(device).float() / 255
        images = images.to(device)
    memory = memory_path = None
    if args.inner == "memory":
        memory = PerturbationMemory(len(images), args.student_size, teacher.embedding_dim, device)
        # The memory (views and deltas: ~100 MB for 2,108 photos, ~4.7 GB with Tiny-ImageNet) is kept beside
        # last.pt for resuming on this machine while it is small enough to write every few minutes, and never
        # committed; a run resumed without it redraws every view on its next visit.
        memory_path = args.run / "memory.pt"
        if state is not None and memory_path.exists():
            memory.load(load_state(memory_path))
    log.write(event="start", images=len(files), args={k: str(v) for k, v in vars(args).items()})

    def save_last() -> None:
        save_atomic({"student": student.checkpoint(), "teacher": teacher.checkpoint(),
                     "ema": ema.state_dict() if ema is not None else None,
                     "optimizer": optimizer.state_dict(), "step": loop.step, "elapsed": watch.elapsed, "cpu": watch.cpu,
                     "args": {k: str(v) for k, v in vars(args).items()}}, last_path)
        if memory is not None and memory.nbytes() <= MEMORY_SAVE_LIMIT:
            save_atomic(memory.state(), memory_path)

    def proxy() -> None:
        # APGD is most of the proxy's cost (~10 CPU-minutes here): it runs at a run's first and a session's last
        # evaluation; the ones between give the clean and PGD-10 columns, for the curve's shape.
        apgd_iters = args.proxy_apgd_iters if loop.final or loop.step == 0 else 0
        figures = evaluate_suite(student, eval_images, wnids, attacked=args.proxy_attacked, apgd_iters=apgd_iters)
        if ema is not None and loop.final:
            # The EMA is evaluated at the last evaluation only: the proxy's APGD is most of its cost.
            ema_figures = evaluate_suite(ema, eval_images, wnids, attacked=args.proxy_attacked, apgd_iters=apgd_iters)
            figures.update({f"ema_{k}": v for k, v in ema_figures.items()})
        student.train()
        log.write(event="proxy", step=loop.step, images_seen=loop.step * batch_size, elapsed=watch.elapsed, cpu=loop.cpu_before_proxy, **figures)

    loop = TrainLoop(args, log, optimizer, step, watch, save_last, proxy)
    for lr in loop:
        eps, step_size = ramped_eps(args, loop.step)
        g = step_generator(args.seed, loop.step, stream=1)
        idx = images.batch(args.seed, loop.step, batch_size)
        if memory is not None:
            xs, target, delta = memory.batch(idx, images, args, teacher, eps, g)
        else:
            xt, xs = images.views(idx, args.teacher_size, args.student_size, g)
            delta = None
            with torch.no_grad():
                target = teacher(xt)
        adversarial = inner_max(args, student, xs, target, eps, step_size, g, delta)
        if memory is not None:
            memory.store(idx, adversarial - xs)
        e_adv, e_clean = student(adversarial), student(xs)
        fare = cosine_loss(e_adv, target).mean()
        nce = info_nce(e_adv, target, args.tau)
        clean = cosine_loss(e_clean, target).mean()
        loss = fare + args.w_nce * nce + args.w_clean * clean
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        if ema is not None:
            with torch.no_grad():
                pairs = list(zip(ema.state_dict().values(), student.state_dict().values()))
                averaged = [(e, w) for e, w in pairs if e.is_floating_point()]
                # One kernel per list rather than two per tensor: fewer launches on a GPU.
                torch._foreach_mul_([e for e, _ in averaged], args.ema)
                torch._foreach_add_([e for e, _ in averaged], [w for _, w in averaged], alpha=1 - args.ema)
                for e, w in pairs:
                    if not e.is_floating_point():
                        e.copy_(w)
        loop.finish_step(batch_size, loss=loss.item(), fare=fare.item(), nce=nce.item(), clean=clean.item(),
                         eps=eps * 255, lr=lr)
    if loop.end():
        save_atomic(student.checkpoint(), final_path)
        log.write(event="done", step=loop.step, elapsed=watch.elapsed, cpu=watch.cpu)
    return final_path


if __name__ == "__main__":
    main()
