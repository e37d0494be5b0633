"""Batched image augmentations, driven by an explicit CPU torch.Generator.

Per-image PIL augmentation would make training I/O- and Python-bound on 2 cores; these work on a
whole uint8 batch at once. Each step draws from its own seeded generator, so a resumed run sees the
same augmentations as an uninterrupted one. The random parameters (a few numbers per image) are drawn
on the CPU and moved to the images' device, so a GPU run draws the same augmentations as a CPU one.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torchvision.ops import roi_align

# ITU-R BT.601 luma, as torchvision's rgb_to_grayscale.
LUMA = torch.tensor([0.299, 0.587, 0.114])


def uniform(n: int, lo: float, hi: float, g: torch.Generator) -> torch.Tensor:
    return lo + (hi - lo) * torch.rand(n, generator=g)


def random_resized_crop(images: torch.Tensor, size: int, g: torch.Generator,
                        scale: tuple[float, float] = (0.2, 1.0),
                        ratio: tuple[float, float] = (3 / 4, 4 / 3)) -> torch.Tensor:
    """uint8/float [N,3,H,W] -> float [N,3,size,size] in [0,1].

    roi_align with adaptive sampling averages several samples per output pixel, which acts as an
    anti-aliasing filter when the crop is larger than the output.
    """
    n, _, h, w = images.shape
    area = uniform(n, *scale, g) * h * w
    log_r = uniform(n, math.log(ratio[0]), math.log(ratio[1]), g)
    aspect = torch.exp(log_r)
    cw = torch.sqrt(area * aspect).clamp(8, w)
    ch = torch.sqrt(area / aspect).clamp(8, h)
    x0 = torch.rand(n, generator=g) * (w - cw)
    y0 = torch.rand(n, generator=g) * (h - ch)
    boxes = torch.stack([torch.arange(n, dtype=torch.float32), x0, y0, x0 + cw, y0 + ch], dim=1).to(images.device)
    out = roi_align(images.float() / 255.0, boxes, output_size=size, sampling_ratio=-1, aligned=True)
    return out.clamp(0, 1)


def random_flip(x: torch.Tensor, g: torch.Generator, p: float = 0.5) -> torch.Tensor:
    flip = (torch.rand(x.shape[0], generator=g) < p).to(x.device)
    return torch.where(flip[:, None, None, None], x.flip(3), x)


def grayscale(x: torch.Tensor) -> torch.Tensor:
    return (x * LUMA.to(x.device)[None, :, None, None]).sum(1, keepdim=True)


def hue_rotation_matrices(angle: torch.Tensor) -> torch.Tensor:
    """[N,3,3] RGB->RGB matrices rotating chroma in YIQ space by `angle` radians (a cheap hue shift)."""
    to_yiq = torch.tensor([[0.299, 0.587, 0.114], [0.596, -0.274, -0.322], [0.211, -0.523, 0.312]])
    from_yiq = torch.linalg.inv(to_yiq)
    c, s = torch.cos(angle), torch.sin(angle)
    rot = torch.zeros(angle.shape[0], 3, 3)
    rot[:, 0, 0] = 1
    rot[:, 1, 1], rot[:, 1, 2], rot[:, 2, 1], rot[:, 2, 2] = c, -s, s, c
    return from_yiq @ rot @ to_yiq


def color_jitter(x: torch.Tensor, g: torch.Generator, brightness: float, contrast: float,
                 saturation: float, hue: float, p: float) -> torch.Tensor:
    n, device = x.shape[0], x.device
    apply = (torch.rand(n, generator=g) < p).to(device)[:, None, None, None]
    b = uniform(n, 1 - brightness, 1 + brightness, g).to(device)[:, None, None, None]
    c = uniform(n, 1 - contrast, 1 + contrast, g).to(device)[:, None, None, None]
    s = uniform(n, 1 - saturation, 1 + saturation, g).to(device)[:, None, None, None]
    h = uniform(n, -hue, hue, g) * 2 * math.pi
    y = (x * b).clamp(0, 1)
    mean = grayscale(y).mean(dim=(2, 3), keepdim=True)
    y = ((y - mean) * c + mean).clamp(0, 1)
    gray = grayscale(y)
    y = ((y - gray) * s + gray).clamp(0, 1)
    y = torch.einsum("nij,njhw->nihw", hue_rotation_matrices(h).to(device), y).clamp(0, 1)
    return torch.where(apply, y, x)


def random_grayscale(x: torch.Tensor, g: torch.Generator, p: float) -> torch.Tensor:
    apply = (torch.rand(x.shape[0], generator=g) < p)[:, None, None, None]
    return torch.where(apply, grayscale(x).expand_as(x), x)


def gaussian_blur(x: torch.Tensor, sigma: torch.Tensor, kernel_size: int) -> torch.Tensor:
    """Per-image Gaussian blur ([N] sigmas) as one grouped convolution with reflect padding."""
    n, ch, h, w = x.shape
    r = kernel_size // 2
    t = torch.arange(-r, r + 1, dtype=torch.float32)
    k1 = torch.exp(-(t[None, :] ** 2) / (2 * sigma[:, None] ** 2))
    k1 = k1 / k1.sum(1, keepdim=True)
    k2 = (k1[:, :, None] * k1[:, None, :]).repeat_interleave(ch, 0)[:, None]
    padded = F.pad(x.reshape(1, n * ch, h, w), (r, r, r, r), mode="reflect")
    return F.conv2d(padded, k2, groups=n * ch).reshape(n, ch, h, w)


def random_blur(x: torch.Tensor, g: torch.Generator, p: float,
                sigma: tuple[float, float]) -> torch.Tensor:
    n = x.shape[0]
    apply = (torch.rand(n, generator=g) < p)[:, None, None, None]
    sig = uniform(n, *sigma, g)
    kernel_size = 2 * math.ceil(2.5 * sigma[1]) + 1
    return torch.where(apply, gaussian_blur(x, sig, kernel_size), x)


def simclr_view(images: torch.Tensor, size: int, g: torch.Generator) -> torch.Tensor:
    """SimCLR's augmentation recipe (crop, flip, jitter 0.4/0.4/0.4/0.1 p=0.8, gray p=0.2, blur p=0.5)."""
    x = random_resized_crop(images, size, g, scale=(0.2, 1.0))
    x = random_flip(x, g)
    x = color_jitter(x, g, 0.4, 0.4, 0.4, 0.1, p=0.8)
    x = random_grayscale(x, g, p=0.2)
    return random_blur(x, g, p=0.5, sigma=(0.1, 1.5))


def fare_view(images: torch.Tensor, size: int, g: torch.Generator) -> torch.Tensor:
    """Mild augmentation for FARE: FARE matches f_orig on natural images, so keep them natural."""
    x = random_resized_crop(images, size, g, scale=(0.35, 1.0))
    return random_flip(x, g)
