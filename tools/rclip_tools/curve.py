"""Training curves as Markdown tables, from <run>/metrics.jsonl proxy evaluations.

  /usr/bin/python3 -m rclip_tools.curve runs/distill96            # one run's curve (or its committed metrics file)
  /usr/bin/python3 -m rclip_tools.curve --compare runs/pilot-*    # the last evaluation of each run (and its EMA)
  /usr/bin/python3 -m rclip_tools.curve --paired runs/pilot-data-mnv2 runs/pilot-*   # each against a control, item by item

Attacked columns: APGD-100 on each task's margin at 4/255 and 2/255 (semantic_eval.py), and PGD-10 at 4/255 as
the earlier runs logged it (copy: pushing the query away from its own photo, a weaker attack).
"""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path

COLUMNS = (("step", "step", "{:.0f}"), ("images_seen", "images seen", "{:,.0f}"), ("elapsed", "minutes", "{:.0f}"),
           ("cpu", "CPU min", "{:.0f}"),
           ("drift", "push-apart drift", "{:.3f}"),
           ("semantic_clean", "semantic clean", "{:.3f}"), ("semantic_pgd", "semantic PGD-10 4/255", "{:.3f}"),
           ("semantic_apgd4", "semantic APGD 4/255", "{:.3f}"), ("semantic_apgd2", "semantic APGD 2/255", "{:.3f}"),
           ("copy_r1_clean", "copy R@1 clean", "{:.3f}"), ("copy_r1_pgd", "copy R@1 PGD-10 4/255", "{:.3f}"),
           ("copy_r1_apgd4", "copy R@1 APGD 4/255", "{:.3f}"), ("copy_r1_apgd2", "copy R@1 APGD 2/255", "{:.3f}"))


def proxies(run: Path) -> list[dict]:
    """A run folder's (or a committed metrics file's) proxy rows, minutes instead of seconds."""
    log = Path(run) if Path(run).is_file() else Path(run) / "metrics.jsonl"
    rows = [json.loads(line) for line in log.read_text().splitlines()]
    by_step = {r["step"]: r for r in rows if r.get("event") == "proxy"}  # a resumed run may repeat a step
    minutes = lambda v: None if v is None else v / 60
    return [dict(r, elapsed=minutes(r["elapsed"]), cpu=minutes(r.get("cpu"))) for r in (by_step[s] for s in sorted(by_step))]


def table(rows: list[tuple[str, dict]], columns=COLUMNS) -> str:
    lines = ["| | " + " | ".join(title for _, title, _ in columns) + " |", "|---|" + " --- |" * len(columns)]
    for label, r in rows:
        lines.append(f"| {label} | " + " | ".join(fmt.format(r[k]) if r.get(k) is not None else "–" for k, _, fmt in columns) + " |")
    return "\n".join(lines)


def ema_view(r: dict) -> dict:
    """The EMA's figures of a proxy row under the plain names (progress columns kept)."""
    return {**r, **{k[4:]: v for k, v in r.items() if k.startswith("ema_")}} if any(k.startswith("ema_") for k in r) else {}


PAIRED = ("semantic_clean", "semantic_apgd4", "semantic_apgd2", "copy_r1_clean", "copy_r1_apgd4", "copy_r1_apgd2")


def mcnemar_p(b: int, c: int) -> float:
    """Exact two-sided McNemar test: b and c are the items only one of two runs gets right; under the null each
    such item is a fair coin, so the p-value is the binomial tail of min(b, c) of b + c at 1/2, doubled."""
    n = b + c
    if n == 0:
        return 1.0
    return min(1.0, 2 * sum(math.comb(n, i) for i in range(min(b, c) + 1)) / 2 ** n)


def outcomes(label: str, row: dict) -> dict[str, str]:
    """A proxy row's per-item outcomes (key -> "0"/"1" per item)."""
    if "outcomes" not in row:
        raise SystemExit(f"curve: {label}'s last evaluation has no per-item outcomes (only an APGD evaluation logs them)")
    return row["outcomes"]


def paired(rows: list[tuple[str, dict]], control: tuple[str, dict]) -> str:
    """Each run's last evaluation against the control's on the same items (the proxy's photos and triplets are
    fixed): the items only one of the two gets right, and the exact McNemar p-value of that split."""
    name, base = control[0], outcomes(*control)
    lines = [f"| run | figure | run's | {name}'s | right only in the run | right only in {name} | p (exact McNemar) |",
             "|---|---| ---: | ---: | ---: | ---: | ---: |"]
    for label, r in rows:
        run = outcomes(label, r)
        for key in PAIRED:
            a, b = run.get(key), base.get(key)
            if a is None or b is None:
                continue
            if len(a) != len(b):
                raise SystemExit(f"curve: {label} and {name} were evaluated on different items for {key} ({len(a)} vs {len(b)})")
            only_run = sum(x == "1" and y == "0" for x, y in zip(a, b))
            only_base = sum(x == "0" and y == "1" for x, y in zip(a, b))
            lines.append(f"| {label} | {key} (n={len(a)}) | {a.count('1') / len(a):.3f} | {b.count('1') / len(b):.3f} | "
                         f"{only_run} | {only_base} | {mcnemar_p(only_run, only_base):.3g} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("runs", type=Path, nargs="+")
    p.add_argument("--compare", action="store_true", help="one row per run: its last evaluation, and its EMA's")
    p.add_argument("--paired", type=Path, metavar="CONTROL",
                   help="each run's last evaluation against CONTROL's, item by item (exact McNemar)")
    args = p.parse_args(argv)
    if args.paired:
        rows = [(run.stem, proxies(run)[-1]) for run in args.runs if run != args.paired]
        print(paired(rows, (args.paired.stem, proxies(args.paired)[-1])))
        return
    if args.compare:
        rows = []
        for run in args.runs:
            last = proxies(run)[-1]
            rows.append((run.stem, last))
            if ema_view(last):
                rows.append((f"{run.stem} (EMA)", ema_view(last)))
        print(table(rows))
        return
    for run in args.runs:
        rows = [(run.stem, r) for r in proxies(run)]
        rows += [(f"{run.stem} (EMA)", ema_view(r)) for r in proxies(run) if ema_view(r) and r["step"] > 0]
        print(table(rows))


if __name__ == "__main__":
    main()
