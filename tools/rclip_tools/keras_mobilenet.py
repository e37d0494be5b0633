"""nsfwjs's TensorFlow.js MobileNetV2 and InceptionV3 (Keras 2.2.4 layers models) as PyTorch modules.

`tools/nsfwjs_dump.mjs [mobilenet_v2|inception_v3]` writes the package's model as topology.json + weights.json + weights.bin;
`load_keras_model` dequantises the weights (uint8 per tensor: value = min + scale * q) and
`KerasConvNet` interprets the Keras graph up to one layer, in NCHW. What tfjs computes is
reproduced exactly where it matters: ZeroPadding2D's asymmetric (0, 1) padding before stride-2
convolutions, BatchNorm with its own epsilon (1e-3), ReLU6, the depthwise kernel layout
[kh, kw, in, multiplier]; for InceptionV3 (up to `mixed5` checked) also bias-free convolutions with
BatchNorm scale=False, Activation('relu'), max pooling, Keras 'same' average pooling (the average over
the cells inside the image) and Concatenate on channels. BatchNorm is folded into the convolution before
it (an exact reparametrisation of inference), so the module has only Conv2d, pad, clamp/relu, pooling,
cat and add: the same in train and eval mode, and traceable by the exporter's gradient-graph builder
(gradgraph.py has the pooling backward ops).

`PooledEmbedding` turns a truncated network into an image encoder: pixels in [0, 1] (nsfwjs feeds
pixels / 255), global average pool of the chosen layer, minus a fixed centre computed on training
photos (ReLU features are all positive; without centring every cosine distance is compressed
towards 0). `ConcatEmbedding` concatenates several (e.g. MobileNetV2 block 10 ⊕ InceptionV3 mixed5, the
teacher of train_distill --teacher mnv2+inception); `ProjectedEmbedding` is a PooledEmbedding with a
learned linear map to another dimension (the student of such a teacher).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Mapping

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

SUPPORTED = {"InputLayer", "ZeroPadding2D", "Conv2D", "DepthwiseConv2D", "BatchNormalization", "ReLU", "Add",
             "Activation", "MaxPooling2D", "AveragePooling2D", "Concatenate"}


def load_keras_model(folder: Path) -> tuple[list[dict], dict[str, np.ndarray], dict]:
    """(layers of the Keras topology, dequantised float32 weights by name, provenance) from a
    folder written by nsfwjs_dump.mjs."""
    folder = Path(folder)
    if not (folder / "weights.bin").exists():
        raise FileNotFoundError(f"{folder}: no weights.bin; run `node tools/nsfwjs_dump.mjs {folder.name}` from the "
                                "repository root")
    topology = json.loads((folder / "topology.json").read_text())
    meta = json.loads((folder / "weights.json").read_text())
    raw = np.fromfile(folder / "weights.bin", dtype=np.uint8)
    weights: dict[str, np.ndarray] = {}
    offset = 0
    for group in meta["weightsManifest"]:
        for w in group["weights"]:
            n = int(np.prod(w["shape"])) if w["shape"] else 1
            q = w.get("quantization")
            if q is not None:
                if q["dtype"] != "uint8":
                    raise ValueError(f"{w['name']}: unsupported quantisation {q['dtype']}")
                values = q["min"] + q["scale"] * raw[offset:offset + n].astype(np.float64)
                offset += n
            else:
                values = raw[offset:offset + 4 * n].view(np.float32).astype(np.float64)
                offset += 4 * n
            weights[w["name"]] = values.astype(np.float32).reshape(w["shape"])
    if offset != raw.size:
        raise ValueError(f"{folder}: weights.bin has {raw.size} bytes, the manifest describes {offset}")
    layers = topology["model_config"]["config"]["layers"]
    provenance = {"package": "nsfwjs", "version": meta["nsfwjs"], "model": meta["model"],
                  "keras_version": topology.get("keras_version"),
                  "frozen_layers": [l["name"] for l in layers if l["config"].get("trainable") is False]}
    return layers, weights, provenance


def _inputs(layer: dict) -> list[str]:
    nodes = layer["inbound_nodes"]
    return [src[0] for src in nodes[0]] if nodes else []


def _needed(layers: list[dict], output: str) -> list[dict]:
    """The layers `output` depends on, in topological (file) order."""
    by_name = {l["name"]: l for l in layers}
    if output not in by_name:
        raise KeyError(f"no layer {output!r} in the model")
    need, stack = set(), [output]
    while stack:
        name = stack.pop()
        if name not in need:
            need.add(name)
            stack.extend(_inputs(by_name[name]))
    return [l for l in layers if l["name"] in need]


class KerasConvNet(nn.Module):
    """The Keras graph up to `output`, BatchNorm folded, NCHW in and out."""

    def __init__(self, layers: list[dict], weights: Mapping[str, np.ndarray], output: str):
        super().__init__()
        needed = _needed(layers, output)
        consumers: dict[str, int] = {}
        for l in needed:
            for src in _inputs(l):
                consumers[src] = consumers.get(src, 0) + 1
        self.convs = nn.ModuleDict()
        self.program: list[tuple[str, str, list[str], Any]] = []  # (name, op, inputs, attribute)
        folded_into: dict[str, str] = {}
        by_name = {l["name"]: l for l in needed}
        for l in needed:
            kind, name, cfg, srcs = l["class_name"], l["name"], l["config"], _inputs(l)
            if kind not in SUPPORTED:
                raise ValueError(f"layer {name}: {kind} is not supported")
            if kind == "InputLayer":
                self.program.append((name, "input", [], None))
            elif kind == "ZeroPadding2D":
                (top, bottom), (left, right) = cfg["padding"]
                self.program.append((name, "pad", srcs, (left, right, top, bottom)))
            elif kind in ("Conv2D", "DepthwiseConv2D"):
                self.convs[name] = self._conv(kind, name, cfg, weights)
                self.program.append((name, "conv", srcs, None))
            elif kind == "BatchNormalization":
                src = srcs[0]
                if by_name[src]["class_name"] not in ("Conv2D", "DepthwiseConv2D") or consumers[src] != 1:
                    raise ValueError(f"layer {name}: BatchNorm must follow a convolution it alone consumes")
                self._fold_bn(self.convs[src], name, cfg, weights)
                folded_into[name] = folded_into.get(src, src)
            elif kind == "ReLU":
                if cfg.get("negative_slope") or cfg.get("threshold"):
                    raise ValueError(f"layer {name}: only ReLU/ReLU6 is supported")
                self.program.append((name, "relu", srcs, cfg.get("max_value")))
            elif kind == "Activation":
                if cfg["activation"] != "relu":
                    raise ValueError(f"layer {name}: activation {cfg['activation']!r} is not supported (only relu)")
                self.program.append((name, "relu", srcs, None))
            elif kind in ("MaxPooling2D", "AveragePooling2D"):
                self.program.append((name, "maxpool" if kind == "MaxPooling2D" else "avgpool", srcs,
                                     self._pool(name, cfg)))
            elif kind == "Concatenate":
                if cfg.get("axis", -1) not in (-1, 3):
                    raise ValueError(f"layer {name}: only concatenation on the channel axis is supported")
                self.program.append((name, "concat", srcs, None))
            elif kind == "Add":
                self.program.append((name, "add", srcs, None))
        # References to a folded BatchNorm read its convolution's output.
        self.program = [(n, op, [folded_into.get(s, s) for s in srcs], a) for n, op, srcs, a in self.program]
        self.output = folded_into.get(output, output)
        channels: dict[str, int] = {}
        for name, op, srcs, _ in self.program:
            channels[name] = (3 if op == "input" else self.convs[name].out_channels if op == "conv"
                              else sum(channels[s] for s in srcs) if op == "concat" else channels[srcs[0]])
        self.out_channels = channels[self.output]
        last_use: dict[str, int] = {}
        for i, (_, _, srcs, _) in enumerate(self.program):
            for s in srcs:
                last_use[s] = i
        self._free_after = {i: [s for s, j in last_use.items() if j == i and s != self.output]
                            for i in range(len(self.program))}

    @staticmethod
    def _conv(kind: str, name: str, cfg: dict, weights: Mapping[str, np.ndarray]) -> nn.Conv2d:
        if cfg.get("activation", "linear") != "linear" or cfg.get("dilation_rate", [1, 1]) != [1, 1]:
            raise ValueError(f"layer {name}: activation/dilation not supported")
        stride = tuple(cfg["strides"])
        if kind == "Conv2D":
            k = torch.from_numpy(weights[f"{name}/kernel"]).permute(3, 2, 0, 1)  # [kh,kw,in,out] -> [out,in,kh,kw]
            groups = 1
        else:
            dk = torch.from_numpy(weights[f"{name}/depthwise_kernel"])  # [kh,kw,in,mult]
            kh, kw, cin, mult = dk.shape
            k = dk.permute(2, 3, 0, 1).reshape(cin * mult, 1, kh, kw)
            groups = cin
        kh, kw = k.shape[2:]
        if cfg["padding"] == "same":
            if stride != (1, 1) or kh % 2 == 0 or kw % 2 == 0:
                raise ValueError(f"layer {name}: 'same' padding only with stride 1 and odd kernels")
            padding = (kh // 2, kw // 2)
        else:
            padding = (0, 0)
        conv = nn.Conv2d(k.shape[1] * groups, k.shape[0], (kh, kw), stride=stride, padding=padding,
                         groups=groups, bias=True)
        with torch.no_grad():
            conv.weight.copy_(k)
            bias = weights.get(f"{name}/bias")
            conv.bias.copy_(torch.from_numpy(bias) if cfg.get("use_bias") and bias is not None
                            else torch.zeros(k.shape[0]))
        return conv

    @staticmethod
    def _pool(name: str, cfg: dict) -> tuple[tuple[int, int], tuple[int, int], tuple[int, int]]:
        """(kernel, stride, padding). Keras 'same' pooling with stride 1 and an odd window pads symmetrically;
        its average counts only the cells inside the image (count_include_pad=False) and its max ignores
        the padding, which is what F.avg_pool2d / F.max_pool2d do with these arguments."""
        kernel = tuple(cfg["pool_size"])
        stride = tuple(cfg.get("strides") or kernel)
        if cfg["padding"] == "valid":
            return kernel, stride, (0, 0)
        if stride != (1, 1) or kernel[0] % 2 == 0 or kernel[1] % 2 == 0:
            raise ValueError(f"layer {name}: 'same' pooling only with stride 1 and an odd window")
        return kernel, stride, (kernel[0] // 2, kernel[1] // 2)

    @staticmethod
    def _fold_bn(conv: nn.Conv2d, name: str, cfg: dict, weights: Mapping[str, np.ndarray]) -> None:
        def w(key: str, default: float) -> torch.Tensor:
            v = weights.get(f"{name}/{key}")
            return torch.from_numpy(v).double() if v is not None else torch.full((conv.out_channels,), default, dtype=torch.float64)
        gamma = w("gamma", 1.0) if cfg.get("scale", True) else torch.ones(conv.out_channels, dtype=torch.float64)
        beta = w("beta", 0.0) if cfg.get("center", True) else torch.zeros(conv.out_channels, dtype=torch.float64)
        mean, var = w("moving_mean", 0.0), w("moving_variance", 1.0)
        scale = gamma / torch.sqrt(var + cfg["epsilon"])
        with torch.no_grad():
            conv.weight.copy_((conv.weight.double() * scale[:, None, None, None]).float())
            conv.bias.copy_(((conv.bias.double() - mean) * scale + beta).float())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        values: dict[str, torch.Tensor] = {}
        for i, (name, op, srcs, attr) in enumerate(self.program):
            if op == "input":
                y = x
            elif op == "pad":
                y = F.pad(values[srcs[0]], attr)
            elif op == "conv":
                y = self.convs[name](values[srcs[0]])
            elif op == "relu":
                if attr is None:  # plain ReLU (InceptionV3): exports as ONNX Relu, backward threshold_backward
                    y = torch.relu(values[srcs[0]])
                else:
                    # ReLU6: clamp_min then clamp_max, plain ops whose backward the gradient-graph tracer
                    # handles (exported as one Clip by gradgraph.merge_clip_pairs)
                    y = values[srcs[0]].clamp_min(0).clamp_max(float(attr))
            elif op == "maxpool":
                kernel, stride, padding = attr
                y = F.max_pool2d(values[srcs[0]], kernel, stride, padding)
            elif op == "avgpool":
                kernel, stride, padding = attr
                y = F.avg_pool2d(values[srcs[0]], kernel, stride, padding, count_include_pad=False)
            elif op == "concat":
                y = torch.cat([values[s] for s in srcs], dim=1)
            else:  # add
                y = values[srcs[0]]
                for s in srcs[1:]:
                    y = y + values[s]
            values[name] = y
            for s in self._free_after[i]:
                values.pop(s, None)
        return values[self.output]


@dataclass
class PooledEmbeddingConfig:
    """Everything needed to rebuild a PooledEmbedding from its checkpoint (weights aside)."""

    source: str = "nsfwjs/mobilenet_v2"
    layer: str = "block_10_expand_relu"
    image_size: int = 224
    mean: tuple[float, float, float] = (0.0, 0.0, 0.0)  # nsfwjs feeds pixels / 255
    std: tuple[float, float, float] = (1.0, 1.0, 1.0)
    provenance: dict = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(self).items()}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> "PooledEmbeddingConfig":
        return cls(**{k: tuple(v) if isinstance(v, list) and k in ("mean", "std") else v for k, v in d.items()})


def nsfwjs_model_folder(folder: Path, model: str) -> Path:
    """The dump folder of nsfwjs model `model` given the folder of any of them: dumps sit side by side
    (tools/runs/nsfwjs/<model>/), so one --nsfwjs folder locates every model a checkpoint needs."""
    folder = Path(folder)
    return folder if folder.name == model else folder.parent / model


class PooledEmbedding(nn.Module):
    """Pixels [N,3,S,S] in [0,1] -> global-average-pooled `layer` minus a fixed centre, [N,C]."""

    def __init__(self, net: KerasConvNet, config: PooledEmbeddingConfig, centre: torch.Tensor | None = None):
        super().__init__()
        self.net, self.config = net, config
        self.register_buffer("centre", torch.zeros(net.out_channels) if centre is None else centre.clone())
        self._channels_last = False

    @property
    def image_size(self) -> int:
        return self.config.image_size

    @image_size.setter
    def image_size(self, size: int) -> None:
        self.config.image_size = size

    @property
    def embedding_dim(self) -> int:
        return self.centre.numel()

    def channels_last(self) -> "PooledEmbedding":
        """For CPU training and evaluation in PyTorch: with Debian's torch (generic BLAS) an NCHW
        1x1 convolution is ~20x slower than the oneDNN channels-last one. Not for export."""
        self.to(memory_format=torch.channels_last)
        self._channels_last = True
        return self

    def forward(self, pixels: torch.Tensor) -> torch.Tensor:
        if self._channels_last:
            pixels = pixels.contiguous(memory_format=torch.channels_last)
        return self.net(pixels).mean(dim=(2, 3)) - self.centre

    @classmethod
    def from_nsfwjs(cls, folder: Path, layer: str, image_size: int) -> "PooledEmbedding":
        layers, weights, provenance = load_keras_model(folder)
        net = KerasConvNet(layers, weights, layer)
        frozen = set(provenance.pop("frozen_layers"))
        provenance["imagenet_only"] = all(name in frozen for name, *_ in net.program if name != "input_1")
        return cls(net, PooledEmbeddingConfig(source=f"nsfwjs/{provenance['model']}", layer=layer,
                                              image_size=image_size, provenance=provenance))

    def checkpoint(self) -> dict[str, Any]:
        return {"kind": "pooled_embedding", "config": self.config.to_dict(), "state_dict": self.state_dict()}

    @classmethod
    def from_checkpoint(cls, ckpt: Mapping[str, Any] | str | Path, nsfwjs_folder: Path) -> "PooledEmbedding":
        """The graph comes from the nsfwjs dump (it is code, not weights); the weights from the checkpoint.
        `nsfwjs_folder` is the dump of the checkpoint's model or of another nsfwjs model beside it."""
        if not isinstance(ckpt, Mapping):
            ckpt = torch.load(ckpt)
        config = PooledEmbeddingConfig.from_dict(ckpt["config"])
        folder = nsfwjs_model_folder(nsfwjs_folder, config.source.split("/", 1)[1])
        model = cls.from_nsfwjs(folder, config.layer, config.image_size)
        model.config = config
        model.load_state_dict(ckpt["state_dict"])
        return model


def l2_normalise(x: torch.Tensor) -> torch.Tensor:
    """Rows to unit length, written as x / sqrt(sum of squares) so the gradient-graph tracer sees only
    elementwise ops and reductions (like gradgraph.cosine_distance)."""
    return x / torch.sqrt((x * x).sum(dim=1, keepdim=True) + 1e-12)


ARCHITECTURE_NAMES = {"mobilenet_v2": "MobileNetV2", "inception_v3": "InceptionV3"}


def architecture_name(config: PooledEmbeddingConfig) -> str:
    model = config.source.split("/")[-1]
    return ARCHITECTURE_NAMES.get(model, model)


# The parts of the teachers train_distill --teacher names: (nsfwjs model, layer).
TEACHER_PARTS = {"mnv2": (("mobilenet_v2", "block_10_expand_relu"),),
                 "mnv2+inception": (("mobilenet_v2", "block_10_expand_relu"), ("inception_v3", "mixed5"))}


class ConcatEmbedding(nn.Module):
    """Several PooledEmbeddings of the same pixels (each centred on its own), concatenated. With
    `normalise` each part is L2-normalised first, so each counts equally in the cosine whatever its
    scale (centred, pooled block_10_expand_relu and mixed5 have similar norms, ~4.7 and ~4.2 at 160 px,
    so this makes exact per image what is nearly so); without, the plain concatenation of the centred
    features."""

    def __init__(self, parts: list[PooledEmbedding], normalise: bool = True):
        super().__init__()
        if len({p.image_size for p in parts}) != 1:
            raise ValueError("the parts of a ConcatEmbedding take the same pixels: one image size")
        self.parts, self.normalise = nn.ModuleList(parts), normalise

    @property
    def config(self) -> PooledEmbeddingConfig:
        """The first part's (input size, mean/std: every nsfwjs model takes pixels / 255)."""
        return self.parts[0].config

    @property
    def image_size(self) -> int:
        return self.parts[0].image_size

    @image_size.setter
    def image_size(self, size: int) -> None:
        for p in self.parts:
            p.image_size = size

    @property
    def embedding_dim(self) -> int:
        return sum(p.embedding_dim for p in self.parts)

    def describe(self) -> str:
        return " ⊕ ".join(f"{architecture_name(p.config)} {p.config.layer}" for p in self.parts)

    def channels_last(self) -> "ConcatEmbedding":
        for p in self.parts:
            p.channels_last()
        return self

    def forward(self, pixels: torch.Tensor) -> torch.Tensor:
        return torch.cat([l2_normalise(p(pixels)) if self.normalise else p(pixels) for p in self.parts], dim=1)

    @classmethod
    def from_nsfwjs(cls, folder: Path, parts: tuple[tuple[str, str], ...], image_size: int,
                    normalise: bool = True) -> "ConcatEmbedding":
        return cls([PooledEmbedding.from_nsfwjs(nsfwjs_model_folder(folder, model), layer, image_size)
                    for model, layer in parts], normalise)

    def checkpoint(self) -> dict[str, Any]:
        return {"kind": "concat_embedding", "normalise": self.normalise, "parts": [p.checkpoint() for p in self.parts]}

    @classmethod
    def from_checkpoint(cls, ckpt: Mapping[str, Any] | str | Path, nsfwjs_folder: Path) -> "ConcatEmbedding":
        if not isinstance(ckpt, Mapping):
            ckpt = torch.load(ckpt)
        return cls([PooledEmbedding.from_checkpoint(p, nsfwjs_folder) for p in ckpt["parts"]], ckpt["normalise"])


class ProjectedEmbedding(nn.Module):
    """A PooledEmbedding followed by a learned linear map to another dimension: a student that can
    learn a wider teacher (e.g. MobileNetV2 block 10's 384-d pooled feature -> the 1,152-d MobileNetV2
    ⊕ InceptionV3 embedding). `fit_projection` initialises the map by least squares."""

    def __init__(self, base: PooledEmbedding, out_dim: int):
        super().__init__()
        self.base = base
        self.proj = nn.Linear(base.embedding_dim, out_dim)

    @property
    def config(self) -> PooledEmbeddingConfig:
        return self.base.config

    @property
    def image_size(self) -> int:
        return self.base.image_size

    @image_size.setter
    def image_size(self, size: int) -> None:
        self.base.image_size = size

    @property
    def embedding_dim(self) -> int:
        return self.proj.out_features

    def channels_last(self) -> "ProjectedEmbedding":
        self.base.channels_last()
        return self

    def forward(self, pixels: torch.Tensor) -> torch.Tensor:
        return self.proj(self.base(pixels))

    def checkpoint(self) -> dict[str, Any]:
        return {"kind": "projected_embedding", "base": self.base.checkpoint(), "out_dim": self.embedding_dim,
                "proj": self.proj.state_dict()}

    @classmethod
    def from_checkpoint(cls, ckpt: Mapping[str, Any] | str | Path, nsfwjs_folder: Path) -> "ProjectedEmbedding":
        if not isinstance(ckpt, Mapping):
            ckpt = torch.load(ckpt)
        model = cls(PooledEmbedding.from_checkpoint(ckpt["base"], nsfwjs_folder), ckpt["out_dim"])
        model.proj.load_state_dict(ckpt["proj"])
        return model


EMBEDDINGS = {"pooled_embedding": PooledEmbedding, "concat_embedding": ConcatEmbedding,
              "projected_embedding": ProjectedEmbedding}


def load_embedding(ckpt: Mapping[str, Any] | str | Path, nsfwjs_folder: Path) -> nn.Module:
    """Any of the nsfwjs-based embeddings from its checkpoint() (dispatch on "kind")."""
    if not isinstance(ckpt, Mapping):
        ckpt = torch.load(ckpt)
    if ckpt.get("kind") not in EMBEDDINGS:
        raise ValueError(f"not an nsfwjs embedding checkpoint (kind {ckpt.get('kind')!r}; "
                         f"expected one of {', '.join(EMBEDDINGS)})")
    return EMBEDDINGS[ckpt["kind"]].from_checkpoint(ckpt, nsfwjs_folder)


@torch.no_grad()
def embed_all(model: nn.Module, pixels: torch.Tensor, batch: int = 64) -> torch.Tensor:
    """Embeddings of pixels in [0,1], or of uint8 pixels (converted a batch at a time, to spare memory)."""
    def as_float(x: torch.Tensor) -> torch.Tensor:
        return x.float() / 255 if x.dtype == torch.uint8 else x
    return torch.cat([model(as_float(pixels[i:i + batch])) for i in range(0, len(pixels), batch)])


@torch.no_grad()
def fit_centre(model: PooledEmbedding | ConcatEmbedding, pixels: torch.Tensor, batch: int = 64) -> torch.Tensor:
    """Mean pooled feature of the given (training) images (in [0,1], or uint8); stored as the model's
    centre (each part's, for a ConcatEmbedding)."""
    if isinstance(model, ConcatEmbedding):
        return torch.cat([fit_centre(p, pixels, batch) for p in model.parts])
    model.centre.zero_()
    model.centre.copy_(embed_all(model, pixels, batch).mean(0))
    return model.centre


@torch.no_grad()
def fit_projection(model: ProjectedEmbedding, pixels: torch.Tensor, targets: torch.Tensor, ridge: float = 1e-3,
                   batch: int = 64) -> float:
    """Least-squares initialisation of the projection: W, b minimising |base(pixels) W + b - targets|^2
    + ridge * trace(S^T S)/d * |W|^2 (ridge relative to the features' mean energy). Returns the mean
    cosine similarity between projected features and targets after the fit."""
    feats = embed_all(model.base, pixels, batch).double()  # pixels in [0,1] or uint8
    s = torch.cat([feats, torch.ones(len(feats), 1, dtype=torch.float64)], dim=1)
    gram = s.T @ s
    reg = ridge * gram.diagonal()[:-1].mean()
    gram[:-1, :-1] += reg * torch.eye(feats.shape[1], dtype=torch.float64)
    w = torch.linalg.solve(gram, s.T @ targets.double())
    model.proj.weight.copy_(w[:-1].T.float())
    model.proj.bias.copy_(w[-1].float())
    return torch.nn.functional.cosine_similarity(model.proj(feats.float()), targets, dim=1).mean().item()
