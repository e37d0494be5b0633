"""ONNX export of an encoder (``encoder.onnx``) and of its attack graph (``attack.onnx``).

The attack graph computes ``distance = 1 - cos(f(input), target)`` and ``grad = ∂distance/∂input``
in one ONNX graph, because onnxruntime-web has no autograd. It is built by tracing
``functorch.grad_and_value(distance)`` with ``functorch.make_fx`` (torch 1.13): autograd's
backward ops are recorded as ATen ops and decomposed into forward ops the ONNX exporter knows.
The encoder's weights become constants of the graph; only ``input`` gets a gradient.

Covers encoders built from conv2d (stride, padding, dilation, groups), linear, layer norm, group
norm, softmax attention, GELU/QuickGELU/SiLU/ReLU, indexing/slicing and reshapes (tested in
tools/tests). torch 1.13's decomposition table handles most of their backward ops; written out
below are ``convolution_backward``, ``select_backward``/``slice_backward`` (the library versions
use scatter ops that do not export) and the reshape variants ``_reshape_alias``/``_unsafe_view``.
An encoder using some other op fails at export with the op's name.
"""

from __future__ import annotations

import io
import warnings
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import onnx
from onnx import numpy_helper
import torch
from torch import nn
from functorch import grad_and_value, make_fx
from torch._decomp import get_decompositions
from torch.fx.experimental.proxy_tensor import disable_proxy_modes_tracing

aten = torch.ops.aten
OPSET = 17

# Backward ops (and the forward ops whose ONNX export is missing in 1.13) replaced by forward ops.
_LIBRARY_DECOMPOSITIONS = [
    aten.native_layer_norm_backward,
    aten.native_group_norm_backward,
    aten.native_group_norm,
    aten._softmax,
    aten._softmax_backward_data,
    aten.gelu_backward,
    aten.sigmoid_backward,
    aten.threshold_backward,
    aten.silu_backward,
]


def _convolution_backward(grad_output, input, weight, bias_sizes, stride, padding, dilation, transposed,
                          output_padding, groups, output_mask):
    """Gradient w.r.t. the input of a (non-transposed) convolution: the transposed convolution of
    grad_output with the same weight. ``output_padding`` restores the rows/columns a strided
    convolution dropped, so the result has the input's exact size."""
    if transposed:
        raise NotImplementedError("gradient through a transposed convolution is not supported")
    if output_mask[1] or output_mask[2]:
        raise NotImplementedError("weight/bias gradients requested: the encoder's parameters must not "
                                  "require grad while tracing")
    spatial = input.shape[2:]
    kernel = weight.shape[2:]
    out_padding = [
        spatial[i] - ((grad_output.shape[2 + i] - 1) * stride[i] - 2 * padding[i] + dilation[i] * (kernel[i] - 1) + 1)
        for i in range(len(spatial))
    ]
    grad_input = aten.convolution(grad_output, weight, None, stride, padding, dilation, True, out_padding, groups)
    return grad_input, None, None


def _pad_along(x, dim: int, before: int, after: int):
    """Zero-pad one dimension (exports as ONNX Pad)."""
    dim = dim % x.dim()
    pads = [0, 0] * (x.dim() - 1 - dim) + [before, after]  # constant_pad_nd lists the last dim first
    return aten.constant_pad_nd(x, pads, 0.0)


def _select_backward(grad_output, input_sizes, dim, index):
    """Backward of x.select(dim, index): grad_output placed at ``index`` in zeros of the input's shape
    (1.13's decomposition uses select_scatter, which does not export)."""
    dim = dim % len(input_sizes)
    index = index % input_sizes[dim]
    return _pad_along(aten.unsqueeze(grad_output, dim), dim, index, input_sizes[dim] - index - 1)


def _slice_backward(grad_output, input_sizes, dim, start, end, step):
    """Backward of x[start:end] along ``dim`` (step 1): zero padding around grad_output."""
    if step != 1:
        raise NotImplementedError(f"gradient of a strided slice (step {step}) is not supported")
    dim = dim % len(input_sizes)
    size = input_sizes[dim]
    start = min(max(start + size if start < 0 else start, 0), size)
    end = min(max(end + size if end < 0 else end, start), size)
    return _pad_along(grad_output, dim, start, size - end)


def _constant(values: np.ndarray, dtype: torch.dtype) -> torch.Tensor:
    """A constant made with the tracer switched off: the traced graph holds it as a tensor constant (an
    ONNX initializer) instead of recording factory ops (lift_fresh_copy, eye, ...) that do not export."""
    with disable_proxy_modes_tracing():
        return torch.from_numpy(np.ascontiguousarray(values, dtype=np.float64)).to(dtype)


def _transposed_out_padding(input_spatial, grad_spatial, kernel, stride, padding) -> list[int]:
    return [input_spatial[i] - ((grad_spatial[i] - 1) * stride[i] - 2 * padding[i] + kernel[i] - 1 + 1)
            for i in range(len(input_spatial))]


def _pool_args(input, kernel_size, stride, padding):
    kernel = list(kernel_size) * (2 // len(kernel_size))
    stride = list(stride) * (2 // len(stride)) if stride else kernel
    padding = list(padding) * (2 // len(padding))
    return kernel, stride, padding


def _max_pool2d_backward(grad_output, input, kernel_size, stride, padding, dilation, ceil_mode, indices):
    """Gradient of max pooling w.r.t. its input without the indices (their use needs scatter ops that do
    not export): each window's cells are gathered by a depthwise convolution with one-hot kernels (exact:
    one product by 1, the rest by 0), the cells equal to the window's maximum get the window's gradient,
    and a transposed convolution with the same kernels adds them back in place. Ties share the gradient
    (torch gives it to the first); after a ReLU ties are zeros, whose gradient the ReLU drops anyway."""
    kernel, stride, padding = _pool_args(input, kernel_size, stride, padding)
    if any(padding) or ceil_mode or any(d != 1 for d in dilation):
        raise NotImplementedError("max-pool gradient: only unpadded, undilated, floor-mode pooling is supported")
    n, c = input.shape[:2]
    k = kernel[0] * kernel[1]
    one_hot = _constant(np.tile(np.eye(k).reshape(k, 1, kernel[0], kernel[1]), (c, 1, 1, 1)), input.dtype)
    cells = aten.convolution(input, one_hot, None, stride, [0, 0], [1, 1], False, [0, 0], c)
    ho, wo = cells.shape[2:]
    cells = aten.view(cells, [n, c, k, ho, wo])
    hit = aten.eq(cells, aten.amax(cells, [2], True))
    grad = aten.view(aten.mul(aten.unsqueeze(grad_output, 2), hit), [n, c * k, ho, wo])
    out_padding = _transposed_out_padding(input.shape[2:], [ho, wo], kernel, stride, [0, 0])
    return aten.convolution(grad, one_hot, None, stride, [0, 0], [1, 1], True, out_padding, c)


def _avg_pool2d_backward(grad_output, input, kernel_size, stride, padding, ceil_mode, count_include_pad,
                         divisor_override):
    """Gradient of average pooling w.r.t. its input: the window's gradient divided by its divisor (the
    number of cells inside the image when count_include_pad is False: Keras' 'same' pooling), spread over
    the window by a transposed depthwise convolution with a kernel of ones."""
    kernel, stride, padding = _pool_args(input, kernel_size, stride, padding)
    if ceil_mode:
        raise NotImplementedError("average-pool gradient: ceil_mode is not supported")
    c = input.shape[1]
    ho, wo = grad_output.shape[2:]
    if divisor_override:
        divisor = np.full((ho, wo), float(divisor_override))
    elif count_include_pad:
        divisor = np.full((ho, wo), float(kernel[0] * kernel[1]))
    else:
        def inside(size, out, k, s, p):  # cells of each window along one axis that lie inside the image
            starts = np.arange(out) * s - p
            return np.minimum(starts + k, size) - np.maximum(starts, 0)
        divisor = np.outer(inside(input.shape[2], ho, kernel[0], stride[0], padding[0]),
                           inside(input.shape[3], wo, kernel[1], stride[1], padding[1])).astype(np.float64)
    scaled = aten.mul(grad_output, _constant(1.0 / divisor, grad_output.dtype))
    ones = _constant(np.ones((c, 1, kernel[0], kernel[1])), input.dtype)
    out_padding = _transposed_out_padding(input.shape[2:], [ho, wo], kernel, stride, padding)
    return aten.convolution(scaled, ones, None, stride, padding, [1, 1], True, out_padding, c)


def _view(x, size, *_stride):
    return aten.view(x, size)


def decomposition_table() -> dict:
    table = get_decompositions(_LIBRARY_DECOMPOSITIONS)
    table[aten.convolution_backward.default] = _convolution_backward
    table[aten.select_backward.default] = _select_backward
    table[aten.slice_backward.default] = _slice_backward
    table[aten.max_pool2d_with_indices_backward.default] = _max_pool2d_backward
    table[aten.avg_pool2d_backward.default] = _avg_pool2d_backward
    # Reshape variants autograd records that the ONNX exporter lacks; as plain views they export as Reshape.
    table[aten._reshape_alias.default] = _view
    table[aten._unsafe_view.default] = _view
    return table


@contextmanager
def _frozen(module: nn.Module):
    """Parameters without requires_grad so autograd differentiates w.r.t. the input only."""
    flags = [(p, p.requires_grad) for p in module.parameters()]
    training = module.training
    module.eval()
    for p, _ in flags:
        p.requires_grad_(False)
    try:
        yield module
    finally:
        for p, flag in flags:
            p.requires_grad_(flag)
        module.train(training)


def cosine_distance(embedding: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """1 - cos per row; the norms are written as sqrt(sum of squares) so the traced backward uses
    only elementwise ops and reductions."""
    dot = (embedding * target).sum(dim=-1)
    norms = torch.sqrt((embedding * embedding).sum(dim=-1)) * torch.sqrt((target * target).sum(dim=-1))
    return 1 - dot / norms


class _AttackGraph(nn.Module):
    """Names and shapes the traced (grad, value) pair as the contract's (distance [1], grad)."""

    def __init__(self, traced: nn.Module):
        super().__init__()
        self.traced = traced

    def forward(self, input: torch.Tensor, target: torch.Tensor):
        grad, distance = self.traced(input, target)
        return distance.reshape(1), grad


def trace_attack(encoder: nn.Module, image_size: int, embed_dim: int) -> nn.Module:
    """A module (input [1,3,S,S], target [1,D]) → (distance [1], grad [1,3,S,S]) made of forward ATen ops."""

    def distance(x, target):
        return cosine_distance(encoder(x), target).sum()

    example = (torch.zeros(1, 3, image_size, image_size), torch.zeros(1, embed_dim))
    with _frozen(encoder):
        traced = make_fx(grad_and_value(distance), decomposition_table=decomposition_table())(*example)
    return _AttackGraph(traced)


def _save(model_proto: onnx.ModelProto, path: Path) -> None:
    onnx.checker.check_model(model_proto)
    path.parent.mkdir(parents=True, exist_ok=True)
    onnx.save(model_proto, str(path))


def fold_batch_reshapes(model_proto: onnx.ModelProto) -> int:
    """Replaces ``Reshape(y, Shape(x))`` by ``Reshape(y, [0, d1, ...])`` where x's shape is static but
    for the batch. With a dynamic batch, torch exports GroupNorm's reshape-back that way; onnxruntime-web
    then computes the shape on the CPU (Shape + a layout Gather), the only nodes of the graph that
    would leave the WebGPU EP. ``0`` copies the batch size from the reshaped tensor. Returns how many
    were folded in this pass (each fold lets shape inference see the dims after it)."""
    inferred = onnx.shape_inference.infer_shapes(model_proto)
    shapes = {}
    for v in [*inferred.graph.value_info, *inferred.graph.input, *inferred.graph.output]:
        dims = v.type.tensor_type.shape.dim
        shapes[v.name] = [d.dim_value if d.HasField("dim_value") else None for d in dims]
    graph = model_proto.graph
    shape_nodes = {n.output[0]: n for n in graph.node if n.op_type == "Shape" and not n.attribute}
    folded = 0
    for node in graph.node:
        if node.op_type != "Reshape" or any(a.name == "allowzero" and a.i for a in node.attribute):
            continue
        source = shape_nodes.get(node.input[1])
        dims = shapes.get(source.input[0]) if source else None
        if not dims or any(d is None for d in dims[1:]):
            continue
        name = f"{node.input[1]}_static"
        graph.initializer.append(numpy_helper.from_array(np.array([0, *dims[1:]], dtype=np.int64), name))
        node.input[1] = name
        folded += 1
    used = {i for n in graph.node for i in n.input} | {o.name for o in graph.output}
    for out, node in shape_nodes.items():
        if out not in used:
            graph.node.remove(node)
    return folded


def _attr(node, name, default=None):
    for a in node.attribute:
        if a.name == name:
            return onnx.helper.get_attribute_value(a)
    return default


def _constant_op(node, x: list) -> np.ndarray | None:
    """numpy value of one shape-computation node whose inputs are all constants; None if unsupported."""
    op = node.op_type
    if op == "Constant":
        return numpy_helper.to_array(_attr(node, "value"))
    if op == "ConstantOfShape":
        value = _attr(node, "value")
        fill = numpy_helper.to_array(value) if value is not None else np.zeros(1, np.float32)
        return np.full(tuple(x[0].astype(np.int64)), fill.reshape(-1)[0], dtype=fill.dtype)
    if op == "Concat":
        return np.concatenate(x, axis=_attr(node, "axis"))
    if op == "Reshape":
        shape = [d if d != 0 else x[0].shape[i] for i, d in enumerate(x[1].astype(np.int64))]
        return x[0].reshape(shape)
    if op == "Transpose":
        return np.transpose(x[0], _attr(node, "perm"))
    if op == "Cast":
        return x[0].astype(onnx.mapping.TENSOR_TYPE_TO_NP_TYPE[_attr(node, "to")])
    if op == "Slice":
        data, starts, ends = x[0], x[1], x[2]
        axes = x[3] if len(x) > 3 and x[3] is not None else np.arange(len(starts))
        steps = x[4] if len(x) > 4 and x[4] is not None else np.ones(len(starts), np.int64)
        index = [slice(None)] * data.ndim
        for a, b, e, st in zip(axes, starts, ends, steps):
            index[int(a)] = slice(int(b), int(e), int(st))
        return data[tuple(index)]
    return None


def fold_constant_subgraphs(model_proto: onnx.ModelProto) -> int:
    """Evaluates the nodes whose inputs are all constants (torch 1.13 exports F.pad's pads as a
    Constant -> ConstantOfShape -> Concat -> Reshape -> Slice -> Transpose -> Cast chain) and puts
    their results in as initializers: the graph then holds only the ops that compute (102 fewer
    nodes in the MobileNetV2 encoder), and no int64 shape arithmetic is left for the WebGPU EP to
    place. (It did not change the wrong WebGPU results of that model; those came from its Clip pairs,
    see merge_clip_pairs.) Returns how many nodes were removed."""
    graph = model_proto.graph
    known = {i.name: numpy_helper.to_array(i) for i in graph.initializer}
    folded = []
    for node in graph.node:
        inputs = [known.get(i) if i else None for i in node.input]
        if any(i and i not in known for i in node.input):
            continue
        value = _constant_op(node, inputs)
        if value is None:
            continue
        known[node.output[0]] = value
        folded.append(node)
    if not folded:
        return 0
    for node in folded:
        graph.node.remove(node)
    needed = {i for n in graph.node for i in n.input} | {o.name for o in graph.output}
    existing = {i.name for i in graph.initializer}
    for node in folded:
        name = node.output[0]
        if name in needed and name not in existing:
            graph.initializer.append(numpy_helper.from_array(np.asarray(known[name]), name))
    return len(folded)


def merge_clip_pairs(model_proto: onnx.ModelProto) -> int:
    """Rewrites ``Clip(x, min, '') -> Clip(·, '', max)`` as one ``Clip(x, min, max)`` (same values:
    ONNX Clip is min(max(x, min), max)) where the intermediate has no other consumer and is not a
    graph output. torch 1.13 exports ``clamp_min(0).clamp_max(6)`` (ReLU6 in keras_mobilenet.py,
    written that way for the gradient tracer) as such a pair, and onnxruntime-web 1.30's WebGPU EP
    computes ``Conv -> Clip(min) -> Clip(max)`` wrongly once the level-2 (extended) optimisations fuse
    the Conv with its activation: only the max is applied, the min is lost (negative pre-activations pass
    through; MobileNetV2 embeddings off by cosine distances of 0.8 to 1.3 against wasm). With one Clip
    carrying both bounds the fused kernel is right (one Conv 3->32 k3 s2 before the pair reproduces it).
    Returns how many pairs were merged."""
    graph = model_proto.graph
    consumers: dict[str, int] = {}
    for node in graph.node:
        for name in node.input:
            if name:
                consumers[name] = consumers.get(name, 0) + 1
    outputs = {o.name for o in graph.output}
    producer = {o: node for node in graph.node for o in node.output if o}

    def present(node, i):
        return len(node.input) > i and node.input[i] != ""

    merged = []
    for node in graph.node:
        if node.op_type != "Clip" or node.domain not in ("", "ai.onnx") or present(node, 1) or not present(node, 2):
            continue
        first = producer.get(node.input[0])
        if (first is None or first.op_type != "Clip" or first.domain not in ("", "ai.onnx")
                or not present(first, 1) or present(first, 2)
                or consumers.get(first.output[0]) != 1 or first.output[0] in outputs):
            continue
        max_name = node.input[2]
        del node.input[:]
        node.input.extend([first.input[0], first.input[1], max_name])
        merged.append(first)
    for first in merged:
        graph.node.remove(first)
    return len(merged)


def _export(module: nn.Module, args: tuple, path: Path, input_names, output_names, dynamic_axes=None) -> None:
    buffer = io.BytesIO()
    with torch.no_grad(), warnings.catch_warnings():
        # Strided Slice nodes (from the traced tensor views) are left unfolded; harmless, not actionable.
        warnings.filterwarnings("ignore", message="Constant folding - Only steps=1")
        torch.onnx.export(module, args, buffer, opset_version=OPSET, input_names=input_names,
                          output_names=output_names, dynamic_axes=dynamic_axes, do_constant_folding=True)
    model_proto = onnx.load_from_string(buffer.getvalue())
    # Each fold lets shape inference see the next reshape's static dims, so repeat until none is left.
    while fold_batch_reshapes(model_proto):
        pass
    fold_constant_subgraphs(model_proto)
    merge_clip_pairs(model_proto)
    _save(model_proto, path)


def export_encoder(encoder: nn.Module, image_size: int, path: str | Path) -> None:
    """``encoder.onnx``: input [N,3,S,S] (normalised) → embedding [N,D], N dynamic."""
    with _frozen(encoder):
        _export(encoder, (torch.zeros(2, 3, image_size, image_size),), Path(path), ["input"], ["embedding"],
                {"input": {0: "N"}, "embedding": {0: "N"}})


def export_attack(encoder: nn.Module, image_size: int, embed_dim: int, path: str | Path) -> None:
    """``attack.onnx``: input [1,3,S,S], target [1,D] → distance [1], grad [1,3,S,S]."""
    graph = trace_attack(encoder, image_size, embed_dim)
    example = (torch.zeros(1, 3, image_size, image_size), torch.zeros(1, embed_dim))
    _export(graph, example, Path(path), ["input", "target"], ["distance", "grad"])


def autograd_reference(encoder: nn.Module, x: torch.Tensor, target: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(distance [1], grad) by plain autograd on the PyTorch module, the reference for the graph."""
    with _frozen(encoder):
        x = x.clone().requires_grad_(True)
        distance = cosine_distance(encoder(x), target)
        (grad,) = torch.autograd.grad(distance.sum(), x)
    return distance.detach(), grad
