"""The training curve of a run as a Markdown table: its proxy evaluations from <run>/metrics.jsonl.

  /usr/bin/python3 -m rclip_tools.curve runs/distill96
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

COLUMNS = (("step", "step", "{:.0f}"), ("images_seen", "images seen", "{:,.0f}"), ("elapsed", "minutes", "{:.0f}"),
           ("drift", "push-apart drift", "{:.3f}"), ("relative_drift", "drift / median pair distance", "{:.2f}"),
           ("semantic_clean", "semantic 2AFC clean", "{:.3f}"), ("semantic_pgd", "semantic 2AFC PGD", "{:.3f}"),
           ("copy_r1_clean", "copy R@1 clean", "{:.3f}"), ("copy_r1_pgd", "copy R@1 PGD", "{:.3f}"))


def curve_table(run: Path) -> str:
    rows = [json.loads(line) for line in (Path(run) / "metrics.jsonl").read_text().splitlines()]
    proxies = {r["step"]: r for r in rows if r.get("event") == "proxy"}  # a resumed run may repeat a step
    lines = ["| " + " | ".join(title for _, title, _ in COLUMNS) + " |", "|" + " --- |" * len(COLUMNS)]
    for step in sorted(proxies):
        r = dict(proxies[step], elapsed=proxies[step]["elapsed"] / 60)
        lines.append("| " + " | ".join(fmt.format(r[k]) if r.get(k) is not None else "–" for k, _, fmt in COLUMNS) + " |")
    return "\n".join(lines)


if __name__ == "__main__":
    print(curve_table(Path(sys.argv[1])))
