"""The MobileNetV2 ⊕ InceptionV3 teacher (the recipe round's teacher pilot): pooling gradients in the attack
graph, ConcatEmbedding / ProjectedEmbedding checkpoints, train_distill --teacher mnv2+inception (with
--init, resume) and the exporter on both the teacher (a baseline) and its projected student, on tiny inputs.

Needs node_modules/nsfwjs (npm ci) and ../shared/data; each test skips with a message otherwise.
"""

from __future__ import annotations

import json
from pathlib import Path

import onnx
import pytest
import torch
from torch import nn

from rclip_tools import export, train_distill
from rclip_tools.data import DEFAULT_DATA_ROOT
from rclip_tools.keras_mobilenet import (TEACHER_PARTS, ConcatEmbedding, PooledEmbedding, ProjectedEmbedding,
                                         fit_projection, load_embedding)
from rclip_tools.ort import ort_node_available
from rclip_tools.semantic_eval import WORDNET_NOUNS
from test_export import export_and_verify

needs_ort = pytest.mark.skipif(not ort_node_available(), reason="node_modules/onnxruntime-node missing: run npm ci")
needs_data = pytest.mark.skipif(not (DEFAULT_DATA_ROOT / "imagenet-sample").is_dir() or not WORDNET_NOUNS.exists(),
                                reason=f"training data ({DEFAULT_DATA_ROOT}) or {WORDNET_NOUNS} missing")
SIDE = 75  # the smallest input InceptionV3 takes to mixed5 (its stem and mixed3 are unpadded, stride 2)


class PoolingEncoder(nn.Module):
    """InceptionV3's pooling: 3x3 stride-2 max pooling on an odd size, Keras 'same' average pooling
    (count_include_pad=False), a channel concatenation, ReLU."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 6, 3)
        self.head = nn.Linear(12, 10)

    def forward(self, x):
        h = nn.functional.max_pool2d(torch.relu(self.conv(x)), 3, 2)
        h = torch.cat([h, nn.functional.avg_pool2d(h, 3, 1, 1, count_include_pad=False)], 1)
        return self.head(h.mean(dim=(2, 3)))


@needs_ort
def test_attack_graph_covers_pooling(tmp_path):
    torch.manual_seed(0)
    model = PoolingEncoder().eval()
    figures = export_and_verify(model, 21, 10, tmp_path)
    print(figures.summary())
    assert figures.forward_max_abs_diff <= 1e-4 and figures.grad_rel_diff <= 1e-4
    ops = [n for n in onnx.load(str(tmp_path / "attack.onnx")).graph.node]
    assert all(len(n.output) == 1 for n in ops if n.op_type == "MaxPool")  # no Indices output (CPU-only in ORT web)


def test_concat_and_projected_checkpoints_round_trip(nsfwjs):
    torch.manual_seed(0)
    teacher = ConcatEmbedding.from_nsfwjs(nsfwjs, TEACHER_PARTS["mnv2+inception"], SIDE)
    assert teacher.embedding_dim == 384 + 768 and teacher.config.provenance["imagenet_only"]
    assert teacher.parts[1].config.provenance["imagenet_only"]  # InceptionV3 to mixed5: frozen (ImageNet) in nsfwjs
    for p in teacher.parts:
        p.centre.normal_()
    x = torch.rand(2, 3, SIDE, SIDE)
    with torch.no_grad():
        e = teacher(x)
        assert torch.allclose(e[:, :384].norm(dim=1), torch.ones(2), atol=1e-5)  # each part unit length
        assert torch.allclose(e[:, 384:].norm(dim=1), torch.ones(2), atol=1e-5)
        again = load_embedding(teacher.checkpoint(), nsfwjs)
        assert isinstance(again, ConcatEmbedding) and torch.equal(again(x), e)
        student = ProjectedEmbedding(PooledEmbedding.from_nsfwjs(nsfwjs, "block_10_expand_relu", 32), 1152)
        targets = torch.randn(6, 1152)
        fit_projection(student, torch.rand(6, 3, 32, 32), targets)
        s = student(torch.rand(2, 3, 32, 32))
        again = load_embedding(student.checkpoint(), nsfwjs)
        assert isinstance(again, ProjectedEmbedding) and again.embedding_dim == 1152
        assert torch.equal(again.proj.weight, student.proj.weight) and torch.equal(again.base.centre, student.base.centre)


@needs_data
def test_distill_with_concat_teacher_inits_resumes_and_exports(nsfwjs, tmp_path):
    common = ["--nsfwjs", str(nsfwjs), "--data", str(DEFAULT_DATA_ROOT), "--cache", str(tmp_path / "cache"),
              "--max-images", "8", "--batch-size", "4", "--teacher-size", str(SIDE), "--student-size", "32",
              "--threads", "1", "--log-every", "1", "--warmup-steps", "1", "--eps-warmup-steps", "0", "--proxy-every", "0",
              "--lr", "3e-4"]
    source = tmp_path / "source"
    train_distill.main([*common, "--run", str(source), "--steps", "1"])  # a MobileNetV2-teacher state, as --init takes
    run = tmp_path / "run"
    args = [*common, "--teacher", "mnv2+inception", "--init", str(source / "last.pt"), "--ema", "0.9"]
    train_distill.main([*args, "--run", str(run), "--steps", "1"])
    train_distill.main([*args, "--run", str(run), "--steps", "2", "--resume"])
    state = torch.load(run / "last.pt")
    assert state["step"] == 2 and state["teacher"]["kind"] == "concat_embedding"
    assert state["student"]["kind"] == "projected_embedding" and state["student"]["out_dim"] == 1152
    log = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    assert any(e.get("event") == "projection" for e in log) and any(e.get("event") == "resume" for e in log)
    # The student's convolutions start from the --init state's, not from nsfwjs.
    init_student = torch.load(source / "last.pt")["student"]["state_dict"]
    assert not torch.equal(init_student["net.convs.Conv1.weight"],
                           PooledEmbedding.from_nsfwjs(nsfwjs, "block_10_expand_relu", 32).state_dict()["net.convs.Conv1.weight"])

    if not ort_node_available():
        pytest.skip("node_modules/onnxruntime-node missing: run npm ci")
    for checkpoint, model_id, size in ((run / "teacher.pt", "tiny-teacher", SIDE), (run / "final.pt", "tiny-student", 32)):
        out = tmp_path / "models" / model_id
        code = export.main(["mobilenet", "--checkpoint", str(checkpoint), "--trust-pickle", "--nsfwjs", str(nsfwjs),
                            "--id", model_id, "--out", str(out), "--name", model_id, "--verify", "--attack-step"])
        assert code == 0
        manifest = json.loads((out / "manifest.json").read_text())
        assert manifest["input"]["size"] == size and manifest["embeddingSize"] == 1152
        encoder = onnx.load(str(out / "encoder.onnx")).graph.node
        # The WebGPU EP fix still holds: in the encoder every ReLU6 is one Clip with both bounds
        # (merge_clip_pairs); InceptionV3's ReLUs are Relu nodes, not Clips.
        assert all(len(n.input) == 3 and n.input[1] and n.input[2] for n in encoder if n.op_type == "Clip")
        assert sum(n.op_type == "Clip" for n in encoder) == 21  # MobileNetV2 blocks 0-10's ReLU6, nothing more
        assert sum(n.op_type == "Relu" for n in encoder) == (50 if model_id == "tiny-teacher" else 0)
        # The attack graph keeps the shipped MobileNetV2 graphs' Clip pattern: a pair stays split only where the
        # backward also reads the intermediate (the Clip(min) output has 2 consumers), as in rclip-mnv2-base.
        assert clip_pattern(out / "attack.onnx") == {("min", "Conv", 2): 21, ("max", "Clip", 1): 21}
        for graph in ("encoder", "attack"):
            nodes = onnx.load(str(out / f"{graph}.onnx")).graph.node
            assert all(len(n.output) == 1 for n in nodes if n.op_type == "MaxPool")


def clip_pattern(path: Path) -> dict:
    """{(bounds, producer op, consumers of the output): count} over the graph's Clip nodes."""
    graph = onnx.load(str(path)).graph
    producer = {o: n for n in graph.node for o in n.output}
    consumers: dict[str, int] = {}
    for n in graph.node:
        for i in n.input:
            consumers[i] = consumers.get(i, 0) + 1
    pattern: dict = {}
    for n in graph.node:
        if n.op_type == "Clip":
            bounds = ("min" if len(n.input) > 1 and n.input[1] else "") + ("max" if len(n.input) > 2 and n.input[2] else "")
            key = (bounds, producer[n.input[0]].op_type if n.input[0] in producer else "input", consumers.get(n.output[0], 0))
            pattern[key] = pattern.get(key, 0) + 1
    return pattern
