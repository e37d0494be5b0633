"""The capacity round's pieces: Tiny-ImageNet as training data (its file list, the mixed batches of
train_distill.TrainingSet) and a fresh pretrained student of another architecture (--student
inception_v3:mixed2, projected to the teacher's dimension), trained, resumed and exported.

Needs ../shared/data (with tiny-imagenet/), node_modules/nsfwjs and onnxruntime-node; each test skips with a
message otherwise.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from rclip_tools import export, train_distill
from rclip_tools.data import DEFAULT_DATA_ROOT, evaluation_files, tiny_imagenet_files
from rclip_tools.ort import ort_node_available
from rclip_tools.train_distill import TrainingSet
from rclip_tools.trainutil import batch_indices

TINY = DEFAULT_DATA_ROOT / "tiny-imagenet"
needs_tiny = pytest.mark.skipif(not TINY.is_dir() or not (DEFAULT_DATA_ROOT / "imagenet-sample").is_dir(),
                                reason=f"{TINY} or imagenet-sample missing (../shared/data)")


@needs_tiny
def test_tiny_imagenet_files_are_every_class_folder_sorted_and_unseen_names():
    files = tiny_imagenet_files(DEFAULT_DATA_ROOT)
    assert len(files) == 40_400 and len({p.parent.name for p in files}) == 202
    keys = [f"{p.parent.name}/{p.name}".encode() for p in files]
    assert keys == sorted(keys)
    assert all(p.name.startswith(p.parent.name + "_") for p in files[:: 997])
    assert not {p.name for p in evaluation_files(DEFAULT_DATA_ROOT)} & {p.name for p in files}


def test_training_set_views_mix_photos_and_tiny_photos_in_index_order():
    photos = torch.zeros(5, 3, 48, 48, dtype=torch.uint8)   # black photos
    tiny = torch.full((7, 3, 16, 16), 255, dtype=torch.uint8)  # white tiny photos
    data = TrainingSet(photos, tiny)
    assert len(data) == 12
    idx = torch.tensor([11, 0, 6, 3, 5])
    # No jitter can make black white: each view's mean says where it came from.
    xt, xs = data.views(idx, 32, 24, torch.Generator().manual_seed(0))
    assert xt.shape == (5, 3, 32, 32) and xs.shape == (5, 3, 24, 24)
    from_tiny = xt.mean(dim=(1, 2, 3)) > 0.5
    assert from_tiny.tolist() == [True, False, True, False, True]
    # The same generator seed gives the same views (a resumed run replays its augmentations).
    again, _ = data.views(idx, 32, 24, torch.Generator().manual_seed(0))
    assert torch.equal(xt, again)
    only_photos, _ = TrainingSet(photos).views(torch.tensor([1, 2]), 32, 24, torch.Generator().manual_seed(0))
    assert only_photos.shape == (2, 3, 32, 32) and only_photos.max() < 0.5


def test_batches_hold_a_fixed_share_of_tiny_photos_and_cover_each_part():
    photos, tiny = torch.zeros(10, 3, 8, 8, dtype=torch.uint8), torch.zeros(40, 3, 8, 8, dtype=torch.uint8)
    data = TrainingSet(photos, tiny, tiny_share=0.25)
    seen_photos, seen_tiny = [], []
    for step in range(5):   # 5 steps of 6 photos + 2 tiny: an epoch of the photos each step, a quarter of the tiny epoch
        idx = data.batch(0, step, 8)
        assert (idx < 10).tolist() == [True] * 6 + [False] * 2
        seen_photos += idx[:6].tolist()
        seen_tiny += idx[6:].tolist()
    assert all(len(set(seen_photos[i:i + 6])) == 6 for i in range(0, 30, 6))   # no photo twice in a batch
    assert len(set(seen_tiny)) == 10 and min(seen_tiny) >= 10   # within the tiny epoch, no tiny photo twice
    assert torch.equal(data.batch(0, 3, 8), data.batch(0, 3, 8))   # a resumed run replays its batches
    # Without Tiny-ImageNet a batch is the photos' permutation, as before the share existed.
    assert torch.equal(TrainingSet(photos).batch(0, 1, 4), batch_indices(0, 1, 4, 10))
    with pytest.raises(SystemExit, match="no photos or no tiny photos"):
        TrainingSet(photos, tiny, tiny_share=1.0).batch(0, 0, 8)


@needs_tiny
def test_inception_student_on_tiny_imagenet_trains_resumes_and_exports(nsfwjs, tmp_path):
    if not ort_node_available():
        pytest.skip("node_modules/onnxruntime-node missing: run npm ci")
    common = ["--nsfwjs", str(nsfwjs), "--data", str(DEFAULT_DATA_ROOT), "--cache", str(tmp_path / "cache"),
              "--max-images", "6", "--batch-size", "4", "--teacher-size", "48", "--threads", "1", "--log-every", "1",
              "--warmup-steps", "1", "--eps-warmup-steps", "0", "--proxy-every", "0", "--lr", "3e-4"]
    source = tmp_path / "source"
    train_distill.main([*common, "--run", str(source), "--student-size", "32", "--steps", "1"])
    run = tmp_path / "run"
    args = [*common, "--init", str(source / "last.pt"), "--student", "inception_v3:mixed2", "--student-size", "75",
            "--tiny-imagenet", "--inner", "memory", "--pgd-step-size", "2/255"]
    train_distill.main([*args, "--run", str(run), "--steps", "1"])
    train_distill.main([*args, "--run", str(run), "--steps", "2", "--resume"])
    state = torch.load(run / "last.pt")
    assert state["step"] == 2 and state["teacher"]["kind"] == "pooled_embedding"
    student = state["student"]
    assert student["kind"] == "projected_embedding" and student["out_dim"] == 384
    assert student["base"]["config"]["source"] == "nsfwjs/inception_v3" and student["base"]["config"]["layer"] == "mixed2"
    log = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    start = next(e for e in log if e.get("event") == "start")
    assert start["images"] == 12  # 6 photos and 6 Tiny-ImageNet photos (--max-images caps each)
    assert any(e.get("event") == "projection" and e["dim_in"] == 288 for e in log)

    out = tmp_path / "models" / "tiny-inception"
    code = export.main(["mobilenet", "--checkpoint", str(run / "final.pt"), "--trust-pickle", "--nsfwjs", str(nsfwjs),
                        "--id", "tiny-inception", "--out", str(out), "--name", "tiny-inception", "--verify",
                        "--attack-step"])
    assert code == 0
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["input"]["size"] == 75 and manifest["embeddingSize"] == 384
