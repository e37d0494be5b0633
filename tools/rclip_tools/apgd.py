"""APGD (Croce & Hein, ICML 2020: "Reliable evaluation of adversarial robustness with an ensemble of
diverse parameter-free attacks"), the white-box attack of AutoAttack, for L-inf, batched in PyTorch.

Follows AutoAttack's `autopgd_base.py` (fra31/auto-attack): random start in the ball, step size 2*eps,
momentum 0.75 (none on the first step), checkpoints at p_0 = 0, p_1 = 0.22, p_{j+1} = p_j +
max(p_j - p_{j-1} - 0.03, 0.06) of the iterations; at a checkpoint the step size of an input is halved
and it restarts from its best point when fewer than 75 % of the steps since the last checkpoint
increased its loss, or when neither its step size was reduced at the last checkpoint nor its best loss
improved since. It maximises any per-input loss (a margin, a distance), not only cross-entropy.

The training proxy (semantic_eval) uses it so that its attacked columns mean what the TypeScript
suite's APGD columns mean (src/core; the same schedule).
"""

from __future__ import annotations

from typing import Callable

import torch

RHO = 0.75
MOMENTUM = 0.75


def checkpoints(n_iter: int) -> list[int]:
    """Iterations after which the step size is checked. AutoAttack counts them in whole iterations:
    the first interval is 22 % of n_iter, each next one 3 % shorter, never under 6 % (22, 41, 57, 70,
    80, 87, 93, 99 for 100 iterations: p_j of the paper)."""
    k, decrease, minimum = max(int(0.22 * n_iter), 1), max(int(0.03 * n_iter), 1), max(int(0.06 * n_iter), 1)
    marks, at = [], k
    while at <= n_iter:
        marks.append(at)
        k = max(k - decrease, minimum)
        at += k
    return marks


def apgd_linf(loss_of: Callable[[torch.Tensor], torch.Tensor], x: torch.Tensor, eps: float, n_iter: int = 100,
              g: torch.Generator | None = None, on_iterate: Callable[[torch.Tensor], None] | None = None
              ) -> tuple[torch.Tensor, torch.Tensor]:
    """Maximises loss_of(pixels) -> [N] over {|delta|_inf <= eps} ∩ [0,1]. Returns (best pixels, best loss).

    on_iterate(loss) sees the loss of every evaluated point (the start and each iterate), so a caller can
    count an input as broken if any point broke it (as the margins' "flipped at some iterate")."""
    n = x.shape[0]
    view = (-1,) + (1,) * (x.dim() - 1)
    marks = set(checkpoints(n_iter))

    def evaluate(z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        z = z.detach().requires_grad_(True)
        loss = loss_of(z)
        grad, = torch.autograd.grad(loss.sum(), z)
        if on_iterate is not None:
            on_iterate(loss.detach())
        return loss.detach(), grad.detach()

    def project(z: torch.Tensor) -> torch.Tensor:
        return torch.min(torch.max(z, x - eps), x + eps).clamp(0, 1)

    # AutoAttack's start: uniform noise scaled so that its largest coordinate is on the ball's surface.
    start = (torch.rand(x.shape, generator=g) * 2 - 1).to(x.device)  # drawn on the CPU: the same start on any device
    start = start / start.flatten(1).abs().max(1).values.view(view)
    x_adv = project(x + eps * start)
    loss, grad = evaluate(x_adv)
    x_best, loss_best, grad_best = x_adv.clone(), loss.clone(), grad.clone()
    step = torch.full((n,), 2 * eps, device=x.device)
    x_prev = x_adv.clone()
    increased = torch.zeros(n, device=x.device)
    reduced_last = torch.ones(n, dtype=torch.bool, device=x.device)
    loss_best_last = loss_best.clone()
    last_mark, prev_loss = 0, loss.clone()
    for i in range(n_iter):
        a = MOMENTUM if i > 0 else 1.0
        s = step.view(view)
        z = project(x_adv + s * grad.sign())
        x_next = project(x_adv + a * (z - x_adv) + (1 - a) * (x_adv - x_prev))
        x_prev, x_adv = x_adv, x_next
        loss, grad = evaluate(x_adv)
        increased += (loss > prev_loss).float()
        prev_loss = loss.clone()
        better = loss > loss_best
        x_best[better], grad_best[better], loss_best[better] = x_adv[better], grad[better], loss[better]
        if i + 1 in marks:
            since = i + 1 - last_mark
            oscillating = increased <= since * RHO
            stalled = ~reduced_last & (loss_best_last >= loss_best)
            reduce = oscillating | stalled
            reduced_last, loss_best_last = reduce.clone(), loss_best.clone()
            step[reduce] /= 2
            # As AutoAttack: the iterate jumps back to the best point; x_prev stays the last iterate, so the
            # first step after the jump keeps momentum from it (src/core/attack.ts does the same).
            x_adv[reduce], grad[reduce] = x_best[reduce], grad_best[reduce]
            increased.zero_()
            last_mark = i + 1
    return x_best.detach(), loss_best
