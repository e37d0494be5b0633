"""Smoke test of the training pipeline: split rule, both stages for a few steps, checkpoint + resume.

Needs ../shared/data (relative to the repository root); skipped with a message when it is absent.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from rclip_tools import train_baseline, train_fare  # noqa: E402
from rclip_tools.convnet import ConvEncoder  # noqa: E402
from rclip_tools.data import DEFAULT_DATA_ROOT, list_images, split_flowers, split_imagenet_sample, training_files  # noqa: E402

pytestmark = pytest.mark.skipif(not (DEFAULT_DATA_ROOT / "imagenet-sample").is_dir(),
                                reason=f"training data not found at {DEFAULT_DATA_ROOT} (../shared/data)")

TINY = ["--image-size", "32", "--widths", "8", "16", "--depths", "1", "1", "--embed-dim", "16"]


def events(run: Path) -> list[dict]:
    return [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]


def test_split_rule_gives_160_eval_images_none_in_training():
    train, evaluation = split_imagenet_sample(DEFAULT_DATA_ROOT)
    assert len(evaluation) == 160 and len(train) == 640
    names = [p.name for p in list_images(DEFAULT_DATA_ROOT / "imagenet-sample")]
    assert names == sorted(names, key=lambda n: n.encode())
    assert [p.name for p in evaluation] == names[4::5]
    assert not {p.name for p in evaluation} & {p.name for p in training_files(DEFAULT_DATA_ROOT)}


def test_flowers_held_out_by_the_same_rule():
    flowers = DEFAULT_DATA_ROOT / "flowers"
    if not flowers.is_dir():
        pytest.skip(f"{flowers} not found")
    train, held_out = split_flowers(DEFAULT_DATA_ROOT)
    names = [p.name for p in list_images(flowers)]
    assert [p.name for p in held_out] == names[4::5] and len(train) + len(held_out) == len(names)
    assert not {p.name for p in held_out} & {p.name for p in training_files(DEFAULT_DATA_ROOT)}


def test_both_stages_train_checkpoint_and_resume(tmp_path):
    cache = tmp_path / "cache"
    base = tmp_path / "base"
    common = ["--data", str(DEFAULT_DATA_ROOT), "--cache", str(cache), "--max-images", "16",
              "--batch-size", "8", "--log-every", "1", "--warmup-steps", "1", "--threads", "1"]
    train_baseline.main(["--run", str(base), "--steps", "2", "--lr", "1e-3", *common, *TINY])
    first = torch.load(base / "last.pt")
    assert first["step"] == 2 and (base / "final.pt").exists()
    train_baseline.main(["--run", str(base), "--steps", "3", "--resume", *common, *TINY])
    resumed = torch.load(base / "last.pt")
    assert resumed["step"] == 3
    # A resumed run keeps its own recipe (here --lr) unless the new command line sets it.
    assert resumed["args"]["lr"] == "0.001" and resumed["args"]["steps"] == "3"
    assert any(e.get("event") == "resume" and e["step"] == 2 and "lr" in e["inherited"] for e in events(base))
    assert all(torch.isfinite(torch.tensor(e["loss"])) for e in events(base) if "loss" in e)

    encoder = ConvEncoder.from_checkpoint(str(base / "final.pt"))
    assert encoder(torch.zeros(2, 3, 32, 32)).shape == (2, 16)

    fare = tmp_path / "fare"
    fare_common = [*common, "--proxy-every", "2", "--proxy-images", "4", "--eps-warmup-steps", "1"]
    train_fare.main(["--init", str(base / "final.pt"), "--run", str(fare), "--steps", "2", *fare_common])
    train_fare.main(["--run", str(fare), "--steps", "3", "--resume", *fare_common])
    final = torch.load(fare / "final.pt")
    assert final["step"] == 3 and final["robustness"]["method"] == "FARE"
    robust = ConvEncoder.from_checkpoint(final)
    changed = any(not torch.equal(a, b) for a, b in zip(robust.state_dict().values(), encoder.state_dict().values()))
    assert changed, "FARE did not update the copy"
    assert any("proxy_2afc_pgd10" in e for e in events(fare))
