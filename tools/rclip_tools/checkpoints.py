"""Reading weights: .safetensors (parsed here, no package) and weights-only torch pickles, and a
strict state-dict check that names every mismatch."""

from __future__ import annotations

import json
import struct
from pathlib import Path

import numpy as np
import torch
from torch import nn

_SAFETENSORS_DTYPES = {
    "F64": np.dtype("<f8"), "F32": np.dtype("<f4"), "F16": np.dtype("<f2"),
    "I64": np.dtype("<i8"), "I32": np.dtype("<i4"), "I16": np.dtype("<i2"), "I8": np.dtype("i1"),
    "U8": np.dtype("u1"), "BOOL": np.dtype("?"),
}


class CheckpointError(ValueError):
    pass


def read_safetensors(path: str | Path) -> dict[str, torch.Tensor]:
    """Parse a .safetensors file: u64 little-endian header length, JSON header, raw little-endian
    tensor bytes addressed by ``data_offsets`` relative to the end of the header."""
    data = Path(path).read_bytes()
    if len(data) < 8:
        raise CheckpointError(f"{path}: too short to be a safetensors file")
    (header_len,) = struct.unpack("<Q", data[:8])
    if 8 + header_len > len(data):
        raise CheckpointError(f"{path}: header length {header_len} exceeds file size {len(data)}")
    try:
        header = json.loads(data[8:8 + header_len])
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise CheckpointError(f"{path}: header is not JSON ({err})") from None
    body = memoryview(data)[8 + header_len:]
    tensors = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        dtype, shape, (begin, end) = info["dtype"], info["shape"], info["data_offsets"]
        if not 0 <= begin <= end <= len(body):
            raise CheckpointError(f"{path}: tensor {name!r} data_offsets {begin}..{end} outside the data")
        raw = body[begin:end]
        if dtype == "BF16":
            # numpy has no bfloat16: widen the 16 bits into the high half of a float32.
            bits = np.frombuffer(raw, dtype="<u2").astype(np.uint32) << 16
            array = bits.view(np.float32)
        elif dtype in _SAFETENSORS_DTYPES:
            array = np.frombuffer(raw, dtype=_SAFETENSORS_DTYPES[dtype])
        else:
            raise CheckpointError(f"{path}: tensor {name!r} has unsupported dtype {dtype}")
        if array.size != int(np.prod(shape, dtype=np.int64)):
            raise CheckpointError(f"{path}: tensor {name!r} holds {array.size} values, shape {shape} needs "
                                  f"{int(np.prod(shape))}")
        tensors[name] = torch.from_numpy(array.astype(array.dtype.newbyteorder("="), copy=True).reshape(shape))
    return tensors


def load_torch_file(path: str | Path, trust_pickle: bool = False):
    """torch.load with weights_only=True (tensors and plain containers only, no code from the
    pickle). torch 1.13's weights-only loader cannot read Python floats, e.g. a ConvEncoder
    checkpoint's config (mean/std); ``trust_pickle`` allows a full unpickle for files you made."""
    if trust_pickle:
        return torch.load(path, map_location="cpu")
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:  # torch raises UnpicklingError/RuntimeError/... for files it cannot read safely
        raise CheckpointError(f"{path}: cannot load as a weights-only torch checkpoint ({err}); if you made "
                              "this file yourself, pass --trust-pickle to unpickle it fully") from None


def read_checkpoint(path: str | Path, trust_pickle: bool = False) -> dict[str, torch.Tensor]:
    """A flat name → tensor dict from .safetensors, or from .pt/.pth/.bin (torch.save of a state
    dict, possibly wrapped in ``state_dict`` / ``model``); see load_torch_file for pickles."""
    path = Path(path)
    if path.suffix == ".safetensors":
        return read_safetensors(path)
    obj = load_torch_file(path, trust_pickle)
    while isinstance(obj, dict) and not any(isinstance(v, torch.Tensor) for v in obj.values()):
        wrapper = next((k for k in ("state_dict", "model") if k in obj), None)
        if wrapper is None:
            raise CheckpointError(f"{path}: no tensors at the top level and no 'state_dict'/'model' key "
                                  f"(keys: {sorted(obj)[:10]})")
        obj = obj[wrapper]
    if not isinstance(obj, dict):
        raise CheckpointError(f"{path}: expected a state dict, got {type(obj).__name__}")
    return {k: v for k, v in obj.items() if isinstance(v, torch.Tensor)}


def check_state_dict(model: nn.Module, state: dict[str, torch.Tensor]) -> None:
    """Raise CheckpointError naming every missing, unexpected and wrongly shaped key."""
    expected = {k: tuple(v.shape) for k, v in model.state_dict().items()}
    missing = sorted(set(expected) - set(state))
    unexpected = sorted(set(state) - set(expected))
    wrong = sorted(f"{k}: checkpoint {tuple(state[k].shape)}, model {expected[k]}"
                   for k in set(expected) & set(state) if tuple(state[k].shape) != expected[k])
    problems = [f"{label} ({len(items)}): {', '.join(items)}"
                for label, items in (("missing keys", missing), ("unexpected keys", unexpected),
                                     ("shape mismatches", wrong)) if items]
    if problems:
        raise CheckpointError("checkpoint does not match the image tower:\n  " + "\n  ".join(problems))
