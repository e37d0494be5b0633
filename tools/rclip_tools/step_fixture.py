"""Writes e2e/fixtures/models/: a random 16 px ConvEncoder with encoder.onnx, attack.onnx and
attack_step.onnx, for the step-graph tests (tests/attack-step-graph.test.ts, e2e/attack-step.spec.ts).

    cd tools && python3 -m rclip_tools.step_fixture
"""
from __future__ import annotations

from pathlib import Path

import torch

from . import gradgraph, stepgraph
from .convnet import ConvEncoder, ConvEncoderConfig
from .manifest import Robustness, build_manifest, write_json

OUT = Path(__file__).resolve().parents[2] / "e2e" / "fixtures" / "models"


def main() -> None:
    folder = OUT / "step-fixture"
    folder.mkdir(parents=True, exist_ok=True)
    config = ConvEncoderConfig(widths=(8, 16), depths=(1, 1), embed_dim=16, image_size=16, groups=4)
    torch.manual_seed(0)
    model = ConvEncoder(config).eval()
    files = {"encoder": folder / "encoder.onnx", "attack": folder / "attack.onnx", "attackStep": folder / "attack_step.onnx"}
    gradgraph.export_encoder(model, config.image_size, files["encoder"])
    gradgraph.export_attack(model, config.image_size, config.embed_dim, files["attack"])
    stepgraph.build_step_graph(files["attack"], config.mean, config.std, files["attackStep"])
    name = "step graph test fixture (random ConvEncoder, 16 px)"
    manifest = build_manifest(
        model_id="step-fixture", name=name, description="Random weights; for tests only.",
        architecture="ConvEncoder widths 8/16, 16px", size=config.image_size, mean=config.mean, std=config.std,
        embedding_size=config.embed_dim, files=files, robustness=Robustness("none", None, None),
        provenance={"source": "random init (seed 0)", "recipe": "none", "data": "none",
                    "tool": "tools/rclip_tools/step_fixture.py", "date": "2026-11-25"},
        licence="MIT")
    write_json(folder / "manifest.json", manifest)
    write_json(OUT / "index.json", {"default": "step-fixture", "baseline": "step-fixture",
                                     "models": [{"id": "step-fixture", "path": "step-fixture/", "name": name}]})
    print(folder)


if __name__ == "__main__":
    main()
