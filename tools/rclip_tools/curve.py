"""Training curves as Markdown tables, from <run>/metrics.jsonl proxy evaluations.

  /usr/bin/python3 -m rclip_tools.curve runs/distill96            # one run's curve (or its committed metrics file)
  /usr/bin/python3 -m rclip_tools.curve --compare runs/pilot-*    # the last evaluation of each run (and its EMA)

Attacked columns: APGD-100 on each task's margin at 4/255 and 2/255 (semantic_eval.py), and PGD-10 at 4/255 as
the earlier runs logged it (copy: pushing the query away from its own photo, a weaker attack).
"""

from __future__ import annotations

import argparse
import json
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


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("runs", type=Path, nargs="+")
    p.add_argument("--compare", action="store_true", help="one row per run: its last evaluation, and its EMA's")
    args = p.parse_args(argv)
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
