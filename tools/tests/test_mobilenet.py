"""The nsfwjs MobileNetV2 path: graph interpreter, robust-distillation trainer (checkpoint + exact
resume), exporter with the gradient graph, WordNet depths of the training proxy.

Needs node_modules/nsfwjs (npm ci) and ../shared/data; each test skips with a message otherwise.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
import torch

from rclip_tools import export, train_distill
from rclip_tools.data import DEFAULT_DATA_ROOT
from rclip_tools.keras_mobilenet import KerasConvNet, PooledEmbedding, load_keras_model
from rclip_tools.semantic_eval import (RELATED_MIN_DEPTH, UNRELATED_MAX_DEPTH, WORDNET_NOUNS, common_depth,
                                       semantic_triplets)

REPO = Path(__file__).resolve().parents[2]
NSFWJS = REPO / "tools" / "runs" / "nsfwjs" / "mobilenet_v2"
needs_data = pytest.mark.skipif(not (DEFAULT_DATA_ROOT / "imagenet-sample").is_dir(),
                                reason=f"training data not found at {DEFAULT_DATA_ROOT} (../shared/data)")
needs_wordnet = pytest.mark.skipif(not WORDNET_NOUNS.exists(),
                                   reason=f"{WORDNET_NOUNS} missing (apt-get install wordnet-base)")


@pytest.fixture(scope="module")
def nsfwjs() -> Path:
    if not (REPO / "node_modules" / "nsfwjs").is_dir():
        pytest.skip("node_modules/nsfwjs missing: run npm ci in the repository root")
    if not (NSFWJS / "weights.bin").exists():
        subprocess.run(["node", "tools/nsfwjs_dump.mjs"], cwd=REPO, check=True)
    return NSFWJS


def test_graph_truncates_and_folds_batchnorm(nsfwjs):
    layers, weights, provenance = load_keras_model(nsfwjs)
    assert provenance["version"] == "4.4.0" and "block_10_expand_relu" in provenance["frozen_layers"]
    net = KerasConvNet(layers, weights, "block_10_expand_relu")
    assert {op for _, op, _, _ in net.program} == {"input", "pad", "conv", "relu", "add"}  # no BatchNorm left
    out = net(torch.rand(2, 3, 64, 64))
    assert out.shape == (2, 384, 4, 4) and out.min() >= 0 and out.max() <= 6  # ReLU6
    model = PooledEmbedding.from_nsfwjs(nsfwjs, "block_10_expand_relu", 64)
    assert model.config.provenance["imagenet_only"]  # blocks 0-10 are frozen (ImageNet) in nsfwjs
    assert not PooledEmbedding.from_nsfwjs(nsfwjs, "block_12_expand_relu", 64).config.provenance["imagenet_only"]


def events(run: Path) -> list[dict]:
    return [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]


@needs_data
@needs_wordnet
def test_distill_trains_resumes_exactly_and_exports(nsfwjs, tmp_path):
    run = tmp_path / "run"
    common = ["--run", str(run), "--nsfwjs", str(nsfwjs), "--data", str(DEFAULT_DATA_ROOT), "--cache",
              str(tmp_path / "cache"), "--max-images", "8", "--batch-size", "4", "--teacher-size", "64",
              "--student-size", "32", "--threads", "1", "--log-every", "1", "--warmup-steps", "1",
              "--eps-warmup-steps", "1", "--proxy-every", "2", "--proxy-images", "20", "--proxy-attacked", "2"]
    train_distill.main([*common, "--steps", "2", "--lr", "3e-4"])
    train_distill.main([*common, "--steps", "3", "--resume"])
    state = torch.load(run / "last.pt")
    assert state["step"] == 3 and state["args"]["lr"] == "0.0003"  # the run's own recipe is kept
    log = events(run)
    assert any(e.get("event") == "resume" and e["step"] == 2 for e in log)
    assert [e["step"] for e in log if e.get("event") == "proxy"] == [0, 2, 3]
    # Exact resume: a run of 3 steps in one go ends with the same weights.
    straight = tmp_path / "straight"
    train_distill.main([*common, "--run", str(straight), "--steps", "3", "--lr", "3e-4", "--proxy-every", "0"])
    a, b = torch.load(run / "final.pt")["state_dict"], torch.load(straight / "final.pt")["state_dict"]
    assert all(torch.allclose(a[k], b[k], atol=1e-6) for k in a)

    if not (REPO / "node_modules" / "onnxruntime-node").is_dir():
        pytest.skip("node_modules/onnxruntime-node missing: run npm ci")
    out = tmp_path / "models" / "tiny-mnv2"
    code = export.main(["mobilenet", "--checkpoint", str(run / "final.pt"), "--trust-pickle", "--nsfwjs", str(nsfwjs),
                        "--id", "tiny-mnv2", "--out", str(out), "--name", "t", "--verify"])
    assert code == 0
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["input"]["size"] == 32 and set(manifest["files"]) == {"encoder", "attack"}


@needs_data
@needs_wordnet
def test_distill_recipes_init_ema_and_exact_resume(nsfwjs, tmp_path):
    """--init from another run, each inner maximisation with --ema, and (memory) an exact resume:
    the perturbation memory is saved beside last.pt and read back."""
    common = ["--nsfwjs", str(nsfwjs), "--data", str(DEFAULT_DATA_ROOT), "--cache", str(tmp_path / "cache"),
              "--max-images", "8", "--batch-size", "4", "--teacher-size", "64", "--student-size", "32", "--threads", "1",
              "--log-every", "1", "--warmup-steps", "1", "--eps-warmup-steps", "0", "--proxy-every", "0", "--lr", "3e-4"]
    source = tmp_path / "source"
    train_distill.main([*common, "--run", str(source), "--steps", "1"])
    for inner in ("pgd", "nfgsm", "memory"):
        run = tmp_path / inner
        args = [*common, "--init", str(source / "last.pt"), "--inner", inner, "--ema", "0.9", "--memory-age", "2",
                "--pgd-steps", "1"]
        train_distill.main([*args, "--run", str(run), "--steps", "3"])
        state = torch.load(run / "last.pt")
        assert state["step"] == 3 and state["ema"] is not None and state["cpu"] > 0
        assert any(e.get("event") == "init" for e in events(run))
        student = state["student"]["state_dict"]
        assert any(not torch.equal(student[k], state["ema"][k]) for k in student)  # the EMA lags the weights
    # A budget stop ends with one evaluation of the student and its EMA; --no-proxy-at-start skips step 0.
    budget = tmp_path / "budget"
    train_distill.main([*common, "--run", str(budget), "--init", str(source / "last.pt"), "--ema", "0.9", "--steps", "50",
                        "--cpu-minutes", "0.0001", "--proxy-every", "40", "--proxy-images", "20", "--proxy-attacked", "2",
                        "--proxy-apgd-iters", "2", "--no-proxy-at-start"])
    proxies = [e for e in events(budget) if e.get("event") == "proxy"]
    assert len(proxies) == 1 and proxies[0]["step"] < 50 and "ema_copy_r1_apgd4" in proxies[0]
    assert any(e.get("event") == "budget" for e in events(budget))
    # Exact resume with the memory: 2 steps, resume for the 3rd, equals 3 in one go.
    split = tmp_path / "split"
    args = [*common, "--init", str(source / "last.pt"), "--inner", "memory", "--memory-age", "2", "--pgd-step-size", "2/255"]
    train_distill.main([*args, "--run", str(split), "--steps", "2"])
    train_distill.main([*args, "--run", str(split), "--steps", "3", "--resume"])
    straight = tmp_path / "straight"
    train_distill.main([*args, "--run", str(straight), "--steps", "3"])
    a, b = torch.load(split / "final.pt")["state_dict"], torch.load(straight / "final.pt")["state_dict"]
    assert all(torch.allclose(a[k], b[k], atol=1e-6) for k in a)


@needs_wordnet
def test_wordnet_depths_of_known_synsets():
    tench, goldfish, clock = "01440764", "01443537", "02708093"
    assert common_depth(tench, goldfish) >= RELATED_MIN_DEPTH
    assert common_depth(tench, clock) <= UNRELATED_MAX_DEPTH
    triplets = semantic_triplets(["n" + tench, "n" + goldfish, "n" + clock])
    assert triplets == [(0, 1, 2), (1, 0, 2)]
