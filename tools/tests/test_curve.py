"""curve.py's paired comparison: the exact McNemar test and the table built from per-item outcomes."""

import json
from math import comb

import pytest

from rclip_tools.curve import main, mcnemar_p


def test_mcnemar_exact():
    assert mcnemar_p(0, 0) == 1.0
    assert mcnemar_p(5, 5) == 1.0
    # 0 of 6 discordant items on one side: 2 * (1/2)^6
    assert mcnemar_p(0, 6) == pytest.approx(2 / 64)
    assert mcnemar_p(2, 10) == pytest.approx(2 * sum(comb(12, i) for i in range(3)) / 2 ** 12)
    assert mcnemar_p(10, 2) == mcnemar_p(2, 10)


def _run(tmp_path, name: str, outcomes: dict | None) -> str:
    row = {"event": "proxy", "step": 400, "elapsed": 60.0, "cpu": 120.0, "semantic_clean": 0.5}
    if outcomes is not None:
        row["outcomes"] = outcomes
    (tmp_path / name).mkdir()
    (tmp_path / name / "metrics.jsonl").write_text(json.dumps({"event": "start"}) + "\n" + json.dumps(row) + "\n")
    return str(tmp_path / name)


def test_paired_table(tmp_path, capsys):
    control = _run(tmp_path, "control", {"copy_r1_apgd4": "0000001111", "semantic_clean": "1100"})
    pilot = _run(tmp_path, "pilot", {"copy_r1_apgd4": "1111111110", "semantic_clean": "1100"})
    main(["--paired", control, control, pilot])
    out = capsys.readouterr().out
    # 6 items only the pilot gets right, 1 only the control: p = 2 * (1 + 7) / 128
    assert f"| pilot | copy_r1_apgd4 (n=10) | 0.900 | 0.400 | 6 | 1 | {2 * 8 / 128:.3g} |" in out
    assert "| pilot | semantic_clean (n=4) | 0.500 | 0.500 | 0 | 0 | 1 |" in out
    assert "| control |" not in out  # the control is not compared with itself


def test_paired_needs_outcomes(tmp_path):
    control = _run(tmp_path, "control", {"copy_r1_apgd4": "01"})
    old = _run(tmp_path, "old", None)
    with pytest.raises(SystemExit, match="old's last evaluation has no per-item outcomes"):
        main(["--paired", control, old])
    other = _run(tmp_path, "other", {"copy_r1_apgd4": "011"})
    with pytest.raises(SystemExit, match="different items"):
        main(["--paired", control, other])


def test_evaluate_suite_logs_each_items_outcome(monkeypatch):
    """The outcomes curve --paired reads agree with the figures logged beside them."""
    import torch
    from rclip_tools import semantic_eval

    monkeypatch.setattr(semantic_eval, "semantic_triplets", lambda wnids, seed=0: [(0, 1, 2), (3, 4, 5), (6, 7, 0), (1, 2, 3), (4, 5, 6)])
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Conv2d(3, 8, 3, stride=2), torch.nn.ReLU(), torch.nn.AdaptiveAvgPool2d(1), torch.nn.Flatten())
    images = torch.rand(8, 3, 32, 32)
    figures = semantic_eval.evaluate_suite(model, images, ["n0"] * 8, attacked=4, apgd_iters=3, batch=2)
    outcomes = figures["outcomes"]
    assert set(outcomes) == {"semantic_clean", "copy_r1_clean", "semantic_apgd4", "copy_r1_apgd4", "semantic_apgd2", "copy_r1_apgd2"}
    assert (len(outcomes["semantic_clean"]), len(outcomes["copy_r1_clean"]), len(outcomes["copy_r1_apgd4"])) == (5, 8, 4)
    for key, bits in outcomes.items():
        assert set(bits) <= {"0", "1"}
        assert bits.count("1") / len(bits) == pytest.approx(figures[key])
    # an item right under attack was right clean
    assert all(a <= c for a, c in zip(outcomes["copy_r1_apgd4"], outcomes["copy_r1_clean"]))
