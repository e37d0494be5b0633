#!/bin/sh
# Set up the Python side of tools/ on a fresh Debian machine (idempotent).
# Uses Debian's packages (torch 1.13): PyPI is not needed. Tests and --verify also need
# node_modules/onnxruntime-node (npm ci in the repository root).
set -eu

PYTHON=/usr/bin/python3
MODULES='import torch, torchvision, onnx, PIL, numpy, pytest'

if [ -x "$PYTHON" ] && "$PYTHON" -c "$MODULES" 2>/dev/null; then
  echo "tools/setup.sh: Python packages already installed" >&2
else
  if [ "$(id -u)" -eq 0 ]; then SUDO=; else SUDO=sudo; fi
  $SUDO apt-get update
  $SUDO apt-get install -y python3-torch python3-torchvision python3-onnx python3-pil python3-numpy python3-pytest
  "$PYTHON" -c "$MODULES"
fi
"$PYTHON" -c 'import torch, onnx; print("tools/setup.sh: torch", torch.__version__, "onnx", onnx.__version__)' >&2

ROOT=$(cd "$(dirname "$0")/.." && pwd)
if [ ! -d "$ROOT/node_modules/onnxruntime-node" ]; then
  echo "tools/setup.sh: note: $ROOT/node_modules/onnxruntime-node is missing; run 'npm ci' in $ROOT for --verify and the ONNX tests" >&2
fi
