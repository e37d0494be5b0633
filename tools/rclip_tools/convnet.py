"""Small convolutional image encoder for the project-trained default models.

Only plain ops (Conv2d, GroupNorm, GELU, add, mean pool, Linear) so that the exporter can trace the
gradient graph with functorch's make_fx; no BatchNorm, because a FARE copy must behave identically
in train and eval mode and a single-image attack graph must not depend on batch statistics.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Mapping

import torch
from torch import nn

CLIP_MEAN = (0.48145466, 0.4578275, 0.40821073)
CLIP_STD = (0.26862954, 0.26130258, 0.27577711)


@dataclass
class ConvEncoderConfig:
    """Everything needed to rebuild a ConvEncoder; stored in checkpoints as a plain dict."""

    widths: tuple[int, ...] = (32, 64, 128, 160)
    depths: tuple[int, ...] = (1, 1, 2, 1)
    embed_dim: int = 256
    image_size: int = 64
    groups: int = 8
    mean: tuple[float, float, float] = field(default=CLIP_MEAN)
    std: tuple[float, float, float] = field(default=CLIP_STD)

    def to_dict(self) -> dict[str, Any]:
        return {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(self).items()}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> "ConvEncoderConfig":
        return cls(**{k: tuple(v) if isinstance(v, list) else v for k, v in d.items()})


class ResidualBlock(nn.Module):
    """Pre-norm residual block: x + conv(gelu(gn(conv(gelu(gn(x))))))."""

    def __init__(self, channels: int, groups: int):
        super().__init__()
        self.norm1 = nn.GroupNorm(groups, channels)
        self.conv1 = nn.Conv2d(channels, channels, 3, padding=1)
        self.norm2 = nn.GroupNorm(groups, channels)
        self.conv2 = nn.Conv2d(channels, channels, 3, padding=1)
        self.act = nn.GELU()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.conv1(self.act(self.norm1(x)))
        h = self.conv2(self.act(self.norm2(h)))
        return x + h


class ConvEncoder(nn.Module):
    """Normalised image [N,3,S,S] -> embedding [N,D] (not unit length).

    A stride-2 stem halves the resolution; every later stage but the first halves it again with a
    stride-2 convolution, so a 64x64 input ends at 4x4 before global average pooling.
    """

    def __init__(self, config: ConvEncoderConfig):
        super().__init__()
        self._config = config
        c = config
        self.stem = nn.Conv2d(3, c.widths[0], 3, stride=2, padding=1)
        stages: list[nn.Module] = []
        in_ch = c.widths[0]
        for i, (width, depth) in enumerate(zip(c.widths, c.depths)):
            layers: list[nn.Module] = []
            if i > 0:
                layers += [nn.GroupNorm(c.groups, in_ch), nn.GELU(),
                           nn.Conv2d(in_ch, width, 3, stride=2, padding=1)]
            layers += [ResidualBlock(width, c.groups) for _ in range(depth)]
            stages.append(nn.Sequential(*layers))
            in_ch = width
        self.stages = nn.Sequential(*stages)
        self.head_norm = nn.GroupNorm(c.groups, in_ch)
        self.head_act = nn.GELU()
        self.proj = nn.Linear(in_ch, c.embed_dim)

    @property
    def config(self) -> ConvEncoderConfig:
        return self._config

    @classmethod
    def from_config(cls, config: ConvEncoderConfig | Mapping[str, Any]) -> "ConvEncoder":
        if not isinstance(config, ConvEncoderConfig):
            config = ConvEncoderConfig.from_dict(config)
        return cls(config)

    @classmethod
    def from_checkpoint(cls, checkpoint: Mapping[str, Any] | str) -> "ConvEncoder":
        """Rebuild from {"config": dict, "state_dict": ...} or a path to such a torch.save file."""
        if isinstance(checkpoint, str):
            checkpoint = torch.load(checkpoint, map_location="cpu")
        model = cls.from_config(checkpoint["config"])
        model.load_state_dict(checkpoint["state_dict"])
        return model

    def checkpoint(self) -> dict[str, Any]:
        return {"config": self._config.to_dict(), "state_dict": self.state_dict()}

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.stages(self.stem(x))
        h = self.head_act(self.head_norm(h))
        return self.proj(h.mean(dim=(2, 3)))


def count_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())
