"""The PyTorch interpretation of nsfwjs's MobileNetV2 (rclip_tools.keras_mobilenet) against
TensorFlow.js itself (tools/nsfwjs_tfjs_run.mjs, CPU backend) on real photos.

Both sides read the same npm package: tfjs loads the bundled model and dequantises its uint8 weights
itself; the converter reads the dump written by tools/nsfwjs_dump.mjs. The checked layers are
`block_10_expand_relu` (the layer the distilled encoders use) and `out_relu` (the network's last
convolution, after every ZeroPadding2D, stride-2 depthwise convolution, folded BatchNorm, ReLU6 and
residual Add).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
from pathlib import Path

import numpy as np
import pytest
import torch

from rclip_tools.data import DEFAULT_DATA_ROOT, list_images, load_square
from rclip_tools.keras_mobilenet import KerasConvNet, load_keras_model

TOOLS_DIR = Path(__file__).resolve().parents[1]
REPO_ROOT = TOOLS_DIR.parent
DUMP_DIR = TOOLS_DIR / "runs" / "nsfwjs" / "mobilenet_v2"
LAYERS = ("block_10_expand_relu", "out_relu")
SIDE = 224  # the model's own input size (its InputLayer is fixed at 224 x 224)
N_PHOTOS = 4
# Tolerance on max |torch - tfjs| as a fraction of the layer's activation scale (max |tfjs|). Both sides
# compute in float32 with the same dequantised weights, but in different orders (tfjs: BatchNorm as a
# separate op, its own conv loops; torch: BatchNorm folded into the conv in float64, then float32 conv).
# float32 rounding (2^-24 ~ 6e-8 relative per op) accumulated over ~50 layers and sums of up to
# 3*3*960 or 1*1*960 terms gives ~1e-6 to 1e-5 of the scale (measured: 5e-6 at block_10_expand_relu,
# 1.2e-5 at out_relu; the scale is 6, ReLU6's cap). 1e-4 leaves a margin of ~8x and is still far below
# a real conversion error: padding on the top/left instead of bottom/right, or BatchNorm epsilon 1e-5
# instead of 1e-3, moves out_relu by 6.0 (the whole range).
REL_TOL = 1e-4

pytestmark = pytest.mark.skipif(
    shutil.which("node") is None
    or not (REPO_ROOT / "node_modules" / "nsfwjs").is_dir()
    or not (REPO_ROOT / "node_modules" / "@tensorflow" / "tfjs").is_dir(),
    reason="node, node_modules/nsfwjs or node_modules/@tensorflow/tfjs missing (run `npm ci` in the repo root); "
           "nsfwjs conversion check skipped")


def _photos(side: int = SIDE, n_photos: int = N_PHOTOS) -> np.ndarray:
    """float32 [N,3,side,side] in [0,1] (nsfwjs feeds pixels / 255) from imagenet-sample, spread over the list."""
    folder = DEFAULT_DATA_ROOT / "imagenet-sample"
    if not folder.is_dir():
        pytest.skip(f"{folder} missing; nsfwjs conversion check needs real photos")
    files = list_images(folder)
    if len(files) < n_photos:
        pytest.skip(f"{folder} has fewer than {n_photos} images")
    picked = [files[i * len(files) // n_photos] for i in range(n_photos)]
    return np.stack([load_square(p, side) for p in picked]).astype(np.float32) / 255.0


def _run_tfjs(pixels_nhwc: np.ndarray, model: str = "mobilenet_v2", layers=LAYERS) -> dict[str, np.ndarray]:
    with tempfile.TemporaryDirectory(prefix="rclip-tfjs-") as tmp:
        tmp = Path(tmp)
        np.ascontiguousarray(pixels_nhwc, dtype="<f4").tofile(tmp / "input.f32")
        (tmp / "input.json").write_text(json.dumps({"shape": list(pixels_nhwc.shape), "outputs": list(layers)}))
        proc = subprocess.run(["node", str(TOOLS_DIR / "nsfwjs_tfjs_run.mjs"), str(tmp), model],
                              capture_output=True, text=True, cwd=REPO_ROOT, timeout=300)
        if proc.returncode != 0:
            raise RuntimeError(f"nsfwjs_tfjs_run.mjs failed:\n{proc.stderr.strip()}")
        shapes = json.loads(proc.stdout)
        return {name: np.fromfile(tmp / f"out_{name}.f32", dtype="<f4").reshape(dims)
                for name, dims in shapes.items()}


def _ensure_dump(dump_dir: Path = DUMP_DIR) -> None:
    if (dump_dir / "weights.bin").exists():
        return
    proc = subprocess.run(["node", str(TOOLS_DIR / "nsfwjs_dump.mjs"), dump_dir.name, str(dump_dir)],
                          capture_output=True, text=True, cwd=REPO_ROOT, timeout=120)
    assert proc.returncode == 0, f"nsfwjs_dump.mjs failed:\n{proc.stderr.strip()}"


def test_keras_mobilenet_matches_tfjs_on_photos():
    pixels = _photos()  # NCHW
    _ensure_dump()
    expected = _run_tfjs(pixels.transpose(0, 2, 3, 1))  # NHWC

    layers, weights, _ = load_keras_model(DUMP_DIR)
    failures = []
    for name in LAYERS:
        net = KerasConvNet(layers, weights, name).eval()
        failures += mismatch(name, net, pixels, expected[name], REL_TOL)
    assert not failures, "; ".join(failures)


def mismatch(name: str, net: KerasConvNet, pixels: np.ndarray, ref: np.ndarray, rel_tol: float) -> list[str]:
    """Runs `net` on NCHW pixels and compares with TensorFlow.js's NHWC output `ref`: the max abs
    difference relative to the activation scale (max |tfjs|), printed; [] when within rel_tol."""
    with torch.no_grad():
        got = net(torch.from_numpy(pixels)).permute(0, 2, 3, 1).numpy()
    assert got.shape == ref.shape, f"{name}: torch {got.shape} vs tfjs {ref.shape}"
    scale = float(np.abs(ref).max())
    diff = float(np.abs(got - ref).max())
    print(f"{name}: shape {ref.shape}, activation scale (max |tfjs|) {scale:.4g}, mean |tfjs| "
          f"{float(np.abs(ref).mean()):.4g}, max abs diff {diff:.3g} ({diff / scale:.2g} of scale), "
          f"tolerance {rel_tol:g} of scale")
    assert scale > 0, f"{name}: tfjs output is all zeros"
    return [f"{name}: max abs diff {diff:.3g} > {rel_tol:g} * {scale:.4g}"] if diff > rel_tol * scale else []
