"""Run an ONNX graph in onnxruntime-node via tools/ort_run.mjs (no onnxruntime wheel for Python here)."""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
from pathlib import Path

import numpy as np

TOOLS_DIR = Path(__file__).resolve().parent.parent
RUNNER = TOOLS_DIR / "ort_run.mjs"
REPO_ROOT = TOOLS_DIR.parent


def ort_node_available() -> bool:
    return shutil.which("node") is not None and (REPO_ROOT / "node_modules" / "onnxruntime-node").is_dir()


def run_onnx(model_path: str | Path, inputs: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Feed float32 arrays by input name; returns the outputs by name as float32 arrays."""
    if not ort_node_available():
        raise RuntimeError(f"needs node and {REPO_ROOT / 'node_modules/onnxruntime-node'} (run npm ci)")
    with tempfile.TemporaryDirectory(prefix="rclip-ort-") as tmp:
        tmp = Path(tmp)
        for name, array in inputs.items():
            np.ascontiguousarray(array, dtype="<f4").tofile(tmp / f"{name}.f32")
        (tmp / "inputs.json").write_text(json.dumps({k: list(v.shape) for k, v in inputs.items()}))
        proc = subprocess.run(["node", str(RUNNER), str(Path(model_path).resolve()), str(tmp)],
                              capture_output=True, text=True, cwd=REPO_ROOT)
        if proc.returncode != 0:
            raise RuntimeError(f"onnxruntime-node failed on {model_path}:\n{proc.stderr.strip()}")
        shapes = json.loads(proc.stdout)
        return {name: np.fromfile(tmp / f"out_{name}.f32", dtype="<f4").reshape(dims)
                for name, dims in shapes.items()}
