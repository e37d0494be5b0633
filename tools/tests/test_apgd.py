"""APGD (tools/rclip_tools/apgd.py): AutoAttack's checkpoint schedule, the box-and-ball constraint, and
that it finds the maximiser of objectives whose maximiser is known."""

from __future__ import annotations

import torch

from rclip_tools.apgd import apgd_linf, checkpoints


def test_checkpoints_follow_autoattack():
    assert checkpoints(100) == [22, 41, 57, 70, 80, 87, 93, 99]
    assert checkpoints(10) == list(range(2, 11))


def test_linear_objective_reaches_the_corner_of_the_ball_inside_the_box():
    g = torch.Generator().manual_seed(0)
    x, w = torch.rand(4, 3, 8, 8, generator=g), torch.randn(4, 3, 8, 8, generator=g)
    eps = 4 / 255
    best, loss = apgd_linf(lambda z: (z * w).flatten(1).sum(1), x, eps, 20, torch.Generator().manual_seed(1))
    optimum = torch.min(torch.max(x + eps * w.sign(), x - eps), x + eps).clamp(0, 1)
    assert torch.allclose(best, optimum) and torch.allclose(loss, (optimum * w).flatten(1).sum(1))


def test_concave_objective_and_every_point_stays_feasible():
    g = torch.Generator().manual_seed(2)
    x = torch.rand(3, 2, 5, 5, generator=g)
    eps = 8 / 255
    centre = (x + (torch.rand(x.shape, generator=g) * 2 - 1) * eps / 2).clamp(0, 1)  # inside the ball
    seen = []
    def loss_of(z):
        seen.append(z.detach().clone())
        return -((z - centre) ** 2).flatten(1).sum(1)
    best, loss = apgd_linf(loss_of, x, eps, 100, torch.Generator().manual_seed(3))
    assert (best - centre).abs().max() < 1e-3  # sign steps halve down to the optimum
    for z in seen:
        assert (z - x).abs().max() <= eps + 1e-6 and z.min() >= 0 and z.max() <= 1


def test_seeded_and_reproducible():
    x = torch.rand(2, 3, 6, 6, generator=torch.Generator().manual_seed(4))
    f = lambda z: torch.sin(20 * z).flatten(1).sum(1)
    a = apgd_linf(f, x, 4 / 255, 30, torch.Generator().manual_seed(5))
    b = apgd_linf(f, x, 4 / 255, 30, torch.Generator().manual_seed(5))
    assert torch.equal(a[0], b[0]) and torch.equal(a[1], b[1])
