"""What the GPU run (rclip_tools/gpu_run.sh) stands on: the data pack the device machine trains from,
the side-by-side proxy (state_eval), and the trainer on a CUDA device (skipped where there is none:
the dev machines and CI have no GPU; the device machine has one).

Needs node_modules/nsfwjs (npm ci), ../shared/data and WordNet; each test skips with a message otherwise.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from rclip_tools import pack_data, semantic_eval, state_eval, train_distill
from rclip_tools.data import DEFAULT_DATA_ROOT, list_images, load_square, split_flowers, split_imagenet_sample
from rclip_tools.trainutil import load_state, on_cpu

from test_mobilenet import needs_data, needs_wordnet, nsfwjs  # noqa: F401  (nsfwjs: the fixture)

needs_cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device (the GPU run's machine has one)")


def small_data(root: Path, data: Path = DEFAULT_DATA_ROOT) -> Path:
    """A copy of ../shared/data's first 15 ImageNet photos and 10 flowers: two folds of the split rule each."""
    for folder, n in (("imagenet-sample", 15), ("flowers", 10)):
        (root / folder).mkdir(parents=True)
        for src in list_images(data / folder)[:n]:
            (root / folder / src.name).write_bytes(src.read_bytes())
    return root


@needs_data
@needs_wordnet
def test_pack_keeps_the_split_the_evaluation_pixels_and_the_triplets(tmp_path, monkeypatch):
    data = small_data(tmp_path / "data")
    pack = tmp_path / "pack"
    pack_data.main([str(pack), "--data", str(data), "--train-side", "48", "--eval-side", "32"])
    for i in (0, 1):
        assert [p.name for p in split_imagenet_sample(pack)[i]] == [p.name for p in split_imagenet_sample(data)[i]]
        assert [p.name for p in split_flowers(pack)[i]] == [p.name for p in split_flowers(data)[i]]
    evaluation = split_imagenet_sample(data)[1]
    for src in evaluation:  # lossless: the proxy sees the pixels it would see from the photos
        assert np.array_equal(load_square(pack / "imagenet-sample" / src.name, 32), load_square(src, 32))
    train = split_imagenet_sample(data)[0][0]
    with Image.open(pack / "imagenet-sample" / train.name) as im:
        assert im.size == (48, 48) and im.format == "JPEG"
    # The pack's WordNet lines hold every hypernym path the proxy's triplets read for its evaluation photos.
    offsets = [p.name.split("_")[0][1:] for p in evaluation]
    expected = [semantic_eval.ancestors_with_depth(o) for o in offsets]
    trimmed = semantic_eval.hypernyms.__wrapped__(pack / "wordnet-data.noun")
    assert len(trimmed) < len(semantic_eval.hypernyms()) / 100
    monkeypatch.setattr(semantic_eval, "hypernyms", lambda path=None: trimmed)
    assert [semantic_eval.ancestors_with_depth(o) for o in offsets] == expected


def train_tiny(nsfwjs: Path, tmp_path: Path, *extra: str) -> Path:
    """A few steps of the memory recipe on a handful of photos at toy sizes, with an EMA; its run folder."""
    run = tmp_path / "run"
    train_distill.main(["--run", str(run), "--nsfwjs", str(nsfwjs), "--data", str(DEFAULT_DATA_ROOT), "--cache",
                        str(tmp_path / "cache"), "--teacher-size", "64", "--student-size", "32", "--ema", "0.9",
                        "--inner", "memory", "--eps-warmup-steps", "0", *extra])
    return run


def test_states_are_saved_on_the_cpu():
    nested = {"a": [torch.ones(2)], "b": (torch.zeros(1), 3), "c": "text"}
    moved = on_cpu(nested)
    assert moved["a"][0].device.type == "cpu" and moved["b"][1] == 3 and moved["c"] == "text"
    x = torch.rand(5, 3, 8, 8)
    assert train_distill.padded(x) is x  # on the CPU a padded image would cost a whole pass


@needs_data
@needs_wordnet
def test_state_eval_puts_student_and_ema_side_by_side(nsfwjs, tmp_path):
    run = train_tiny(nsfwjs, tmp_path, "--max-images", "8", "--batch-size", "4", "--threads", "1", "--steps", "2",
                     "--proxy-every", "0")
    rows = state_eval.main([str(run / "last.pt"), "--nsfwjs", str(nsfwjs), "--cache", str(tmp_path / "cache"),
                            "--images", "40", "--attacked", "16", "--apgd-iters", "3", "--out", str(tmp_path / "rows.json")])
    assert [r["weights"] for r in rows] == ["student", "ema"] and all(r["step"] == 2 for r in rows)
    assert all(0 <= r["copy_r1_apgd4"] <= r["copy_r1_clean"] <= 1 for r in rows)
    assert rows[0]["drift"] != rows[1]["drift"]  # two different sets of weights were evaluated


@needs_cuda
@needs_data
@needs_wordnet
def test_memory_recipe_trains_on_cuda_and_its_state_loads_on_the_cpu(nsfwjs, tmp_path):
    run = train_tiny(nsfwjs, tmp_path, "--max-images", "16", "--batch-size", "8", "--steps", "4", "--memory-age", "2",
                     "--proxy-every", "3", "--proxy-images", "40", "--proxy-attacked", "16", "--proxy-apgd-iters", "2",
                     "--no-proxy-at-start", "--device", "cuda")
    state = load_state(run / "last.pt")
    assert state["step"] == 4 and state["student"]["state_dict"]["centre"].device.type == "cpu"
    assert all(t.device.type == "cpu" for t in load_state(run / "memory.pt").values())
    x = torch.rand(5, 3, 8, 8, device="cuda")
    assert len(train_distill.padded(x)) == 32 and torch.equal(train_distill.padded(x)[:5], x)
