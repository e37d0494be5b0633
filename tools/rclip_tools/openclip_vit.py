"""open_clip's VisionTransformer image tower, re-implemented with open_clip's exact state-dict layout.

The module tree mirrors open_clip (``src/open_clip/transformer.py``: ``VisionTransformer`` →
``Transformer`` → ``ResidualAttentionBlock`` with an ``nn.MultiheadAttention``) for the default
CLIP settings (class-token pooling, learnable positional embedding, ln_pre, no layer scale, no
attentional pooler), so checkpoints load without renaming. Attention is written out by hand with
the parameter names of ``nn.MultiheadAttention`` (``in_proj_weight``, ``in_proj_bias``,
``out_proj``): tracing then yields plain matmul/softmax ops, which both the ONNX exporter and the
gradient-graph tracer (``gradgraph.py``) handle, instead of the fused MHA kernel.

Activation: open_clip builds towers with ``nn.GELU`` (exact, erf) unless the config says
``quick_gelu``; OpenAI-initialised weights were trained with QuickGELU. See ``tools/README.md`` for
which chs20 release needs which.
"""

from __future__ import annotations

import json
from collections import OrderedDict
from dataclasses import asdict, dataclass
from pathlib import Path

import torch
from torch import nn
import torch.nn.functional as F

from .checkpoints import CheckpointError, check_state_dict, read_checkpoint

# OpenAI CLIP's preprocessing statistics (open_clip constants OPENAI_DATASET_MEAN/STD); the
# chs20 releases' open_clip_config.json use the same values.
OPENAI_CLIP_MEAN = (0.48145466, 0.4578275, 0.40821073)
OPENAI_CLIP_STD = (0.26862954, 0.26130258, 0.27577711)

ACTIVATIONS = ("gelu", "quickgelu")


@dataclass(frozen=True)
class VisionTowerConfig:
    image_size: int
    patch_size: int
    width: int
    layers: int
    heads: int
    embed_dim: int
    mlp_ratio: float = 4.0
    activation: str = "gelu"

    def __post_init__(self):
        if self.activation not in ACTIVATIONS:
            raise ValueError(f"activation must be one of {ACTIVATIONS}, got {self.activation!r}")
        if self.image_size % self.patch_size:
            raise ValueError(f"image_size {self.image_size} is not a multiple of patch_size {self.patch_size}")
        if self.width % self.heads:
            raise ValueError(f"width {self.width} is not divisible by heads {self.heads}")

    @property
    def grid(self) -> int:
        return self.image_size // self.patch_size

    def to_dict(self) -> dict:
        return asdict(self)


# open_clip model_configs/{ViT-B-32,ViT-B-16,ViT-L-14}.json vision_cfg + embed_dim; heads =
# width // head_width with open_clip's default head_width 64.
ARCHITECTURES = {
    "ViT-B-32": VisionTowerConfig(image_size=224, patch_size=32, width=768, layers=12, heads=12, embed_dim=512),
    "ViT-B-16": VisionTowerConfig(image_size=224, patch_size=16, width=768, layers=12, heads=12, embed_dim=512),
    "ViT-L-14": VisionTowerConfig(image_size=224, patch_size=14, width=1024, layers=24, heads=16, embed_dim=768),
}


def architecture(name: str, activation: str) -> VisionTowerConfig:
    try:
        base = ARCHITECTURES[name]
    except KeyError:
        raise ValueError(f"unknown architecture {name!r}; known: {', '.join(ARCHITECTURES)}") from None
    return VisionTowerConfig(**{**base.to_dict(), "activation": activation})


class QuickGELU(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * torch.sigmoid(1.702 * x)


class SelfAttention(nn.Module):
    """Multi-head self-attention with ``nn.MultiheadAttention``'s parameter names, batch-first."""

    def __init__(self, width: int, heads: int):
        super().__init__()
        self.heads = heads
        self.in_proj_weight = nn.Parameter(torch.empty(3 * width, width))
        self.in_proj_bias = nn.Parameter(torch.zeros(3 * width))
        self.out_proj = nn.Linear(width, width)
        nn.init.xavier_uniform_(self.in_proj_weight)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n, length, width = x.shape
        head_dim = width // self.heads
        qkv = F.linear(x, self.in_proj_weight, self.in_proj_bias)
        qkv = qkv.reshape(n, length, 3, self.heads, head_dim).permute(2, 0, 3, 1, 4)  # 3,N,H,L,hd
        q, k, v = qkv[0], qkv[1], qkv[2]
        scores = torch.matmul(q * head_dim ** -0.5, k.transpose(-2, -1))
        out = torch.matmul(scores.softmax(dim=-1), v)  # N,H,L,hd
        return self.out_proj(out.transpose(1, 2).reshape(n, length, width))


class ResidualAttentionBlock(nn.Module):
    def __init__(self, width: int, heads: int, mlp_ratio: float, activation: str):
        super().__init__()
        self.ln_1 = nn.LayerNorm(width)
        self.attn = SelfAttention(width, heads)
        self.ln_2 = nn.LayerNorm(width)
        mlp_width = int(width * mlp_ratio)
        self.mlp = nn.Sequential(OrderedDict([
            ("c_fc", nn.Linear(width, mlp_width)),
            ("gelu", QuickGELU() if activation == "quickgelu" else nn.GELU()),
            ("c_proj", nn.Linear(mlp_width, width)),
        ]))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.attn(self.ln_1(x))
        return x + self.mlp(self.ln_2(x))


class Transformer(nn.Module):
    def __init__(self, width: int, layers: int, heads: int, mlp_ratio: float, activation: str):
        super().__init__()
        self.resblocks = nn.ModuleList(
            [ResidualAttentionBlock(width, heads, mlp_ratio, activation) for _ in range(layers)])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for block in self.resblocks:
            x = block(x)
        return x


class VisionTransformer(nn.Module):
    """Normalised image [N,3,S,S] → image embedding [N,embed_dim] (not unit length), as open_clip's
    ``model.visual`` / ``encode_image(normalize=False)``."""

    def __init__(self, config: VisionTowerConfig):
        super().__init__()
        self.config = config
        width, scale = config.width, config.width ** -0.5
        self.conv1 = nn.Conv2d(3, width, kernel_size=config.patch_size, stride=config.patch_size, bias=False)
        self.class_embedding = nn.Parameter(scale * torch.randn(width))
        self.positional_embedding = nn.Parameter(scale * torch.randn(config.grid ** 2 + 1, width))
        self.ln_pre = nn.LayerNorm(width)
        self.transformer = Transformer(width, config.layers, config.heads, config.mlp_ratio, config.activation)
        self.ln_post = nn.LayerNorm(width)
        self.proj = nn.Parameter(scale * torch.randn(width, config.embed_dim))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.conv1(x).flatten(2).transpose(1, 2)  # N, grid², width
        cls = self.class_embedding.reshape(1, 1, -1).expand(x.shape[0], 1, -1)
        x = torch.cat([cls, x], dim=1) + self.positional_embedding
        x = self.transformer(self.ln_pre(x))
        return self.ln_post(x[:, 0]) @ self.proj


# Vision-tower options of open_clip's CLIPVisionCfg that this module implements only at their
# default value (a config that changes them describes a different tower).
_DEFAULT_ONLY_VISION_OPTIONS = {
    "ls_init_value": None, "attentional_pool": False, "no_ln_pre": False, "pos_embed_type": "learnable",
    "pool_type": "tok", "final_ln_after_pool": False, "global_average_pool": False,
    "input_patchnorm": False, "timm_model_name": None, "output_tokens": False,
}
# Options that only matter in training.
_IGNORED_VISION_OPTIONS = {"patch_dropout"}


def config_from_open_clip_json(path: str | Path, activation: str | None = None):
    """(VisionTowerConfig, mean, std) from an open_clip config: a hub ``open_clip_config.json``
    ({"model_cfg": ..., "preprocess_cfg": ...}) or a ``model_configs/*.json``. The activation is
    QuickGELU when the config says ``quick_gelu``, unless ``activation`` overrides it."""
    data = json.loads(Path(path).read_text())
    model_cfg = data.get("model_cfg", data)
    vision = dict(model_cfg.get("vision_cfg", {}))
    if not vision or "embed_dim" not in model_cfg:
        raise ValueError(f"{path}: no model_cfg.vision_cfg / embed_dim: not an open_clip model config")
    for key, default in _DEFAULT_ONLY_VISION_OPTIONS.items():
        if vision.get(key, default) != default:
            raise ValueError(f"{path}: vision_cfg.{key}={vision[key]!r} is not supported (only {default!r})")
    known = {"image_size", "layers", "width", "patch_size", "head_width", "mlp_ratio"}
    unknown = set(vision) - known - set(_DEFAULT_ONLY_VISION_OPTIONS) - _IGNORED_VISION_OPTIONS
    if unknown:
        raise ValueError(f"{path}: unsupported vision_cfg options {sorted(unknown)}")
    if not isinstance(vision.get("layers"), int):
        raise ValueError(f"{path}: vision_cfg.layers={vision.get('layers')!r}: not a ViT tower")
    image_size = vision.get("image_size", 224)
    if isinstance(image_size, list):
        if len(set(image_size)) != 1:
            raise ValueError(f"{path}: non-square image_size {image_size}")
        image_size = image_size[0]
    width = vision.get("width", 768)
    config = VisionTowerConfig(
        image_size=image_size, patch_size=vision.get("patch_size", 16), width=width, layers=vision["layers"],
        heads=width // vision.get("head_width", 64), embed_dim=model_cfg["embed_dim"],
        mlp_ratio=vision.get("mlp_ratio", 4.0),
        activation=activation or ("quickgelu" if model_cfg.get("quick_gelu") else "gelu"))
    preprocess = data.get("preprocess_cfg", {})
    return config, tuple(preprocess.get("mean", OPENAI_CLIP_MEAN)), tuple(preprocess.get("std", OPENAI_CLIP_STD))


def visual_state_dict(state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """The image tower's entries: strips DataParallel's ``module.``; from a full CLIP state dict
    (text tower, logit_scale, ...) keeps only ``visual.*`` without the prefix; a bare tower dict
    passes through."""
    state = {k[len("module."):] if k.startswith("module.") else k: v for k, v in state.items()}
    if any(k.startswith("visual.") for k in state):
        return {k[len("visual."):]: v for k, v in state.items() if k.startswith("visual.")}
    return state


def load_vision_tower(path: str | Path, config: VisionTowerConfig, trust_pickle: bool = False) -> VisionTransformer:
    """Build the tower for ``config`` and load the checkpoint strictly (fp32, eval mode)."""
    state = visual_state_dict(read_checkpoint(path, trust_pickle))
    model = VisionTransformer(config)
    try:
        check_state_dict(model, state)
    except CheckpointError as err:
        raise CheckpointError(f"{path}: {err}") from None
    model.load_state_dict({k: v.float() for k, v in state.items()}, strict=True)
    return model.eval()
