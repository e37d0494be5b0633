"""Checks exported graphs in onnxruntime-node against the PyTorch module they came from."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn

from .gradgraph import autograd_reference
from .ort import run_onnx


@dataclass
class Figures:
    forward_max_abs_diff: float          # encoder.onnx vs module, over a batch
    embedding_max_abs: float             # scale of the embeddings compared
    distance_abs_diff: float | None = None   # attack.onnx distance vs autograd's forward
    grad_max_abs_diff: float | None = None   # attack.onnx grad vs torch.autograd.grad
    grad_max_abs: float | None = None
    grad_rel_diff: float | None = None       # grad_max_abs_diff / grad_max_abs

    def to_dict(self) -> dict:
        return {k: v for k, v in asdict(self).items() if v is not None}

    def problems(self, forward_tol: float = 1e-4, grad_rel_tol: float = 1e-3) -> list[str]:
        """Tolerances: forward relative to max(1, embedding scale); gradient relative to its scale."""
        found = []
        if not self.forward_max_abs_diff <= forward_tol * max(1.0, self.embedding_max_abs):
            found.append(f"encoder.onnx differs from PyTorch by {self.forward_max_abs_diff:.3g}")
        if self.grad_rel_diff is not None:
            if not self.distance_abs_diff <= forward_tol:
                found.append(f"attack.onnx distance differs from PyTorch by {self.distance_abs_diff:.3g}")
            if not self.grad_rel_diff <= grad_rel_tol:
                found.append(f"attack.onnx grad differs from autograd by {self.grad_rel_diff:.3g} (relative)")
        return found

    def summary(self) -> str:
        text = (f"forward: max |onnx - torch| = {self.forward_max_abs_diff:.3g} "
                f"(embeddings up to {self.embedding_max_abs:.3g})")
        if self.grad_rel_diff is not None:
            text += (f"; attack: |distance diff| = {self.distance_abs_diff:.3g}, max |grad diff| = "
                     f"{self.grad_max_abs_diff:.3g} of max |grad| {self.grad_max_abs:.3g} "
                     f"(relative {self.grad_rel_diff:.3g})")
        return text


def random_inputs(n: int, size: int, mean, std, generator: torch.Generator) -> torch.Tensor:
    """Uniform pixels in [0,1], normalised as the runtime does."""
    pixels = torch.rand(n, 3, size, size, generator=generator)
    return (pixels - torch.tensor(mean).view(1, 3, 1, 1)) / torch.tensor(std).view(1, 3, 1, 1)


def verify_export(encoder: nn.Module, encoder_path: Path, attack_path: Path | None, size: int, mean, std,
                  seed: int = 0) -> Figures:
    generator = torch.Generator().manual_seed(seed)
    encoder.eval()
    # Batch 3: differs from the export's example batch, so this also checks that N is dynamic.
    batch = random_inputs(3, size, mean, std, generator)
    with torch.no_grad():
        reference = encoder(batch)
    onnx_embedding = run_onnx(encoder_path, {"input": batch.numpy()})["embedding"]
    figures = Figures(forward_max_abs_diff=float(np.abs(onnx_embedding - reference.numpy()).max()),
                      embedding_max_abs=float(reference.abs().max()))
    if attack_path is not None:
        image, other = random_inputs(2, size, mean, std, generator).split(1)
        with torch.no_grad():
            target = torch.nn.functional.normalize(encoder(other), dim=-1)
        distance, grad = autograd_reference(encoder, image, target)
        out = run_onnx(attack_path, {"input": image.numpy(), "target": target.numpy()})
        grad_diff = float(np.abs(out["grad"] - grad.numpy()).max())
        grad_scale = float(grad.abs().max())
        figures.distance_abs_diff = float(np.abs(out["distance"] - distance.numpy()).max())
        figures.grad_max_abs_diff = grad_diff
        figures.grad_max_abs = grad_scale
        figures.grad_rel_diff = grad_diff / grad_scale if grad_scale > 0 else float("inf")
    return figures
