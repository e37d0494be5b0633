#!/usr/bin/env bash
# Issue 20's campaign: the recipe the pilots chose (the perturbation memory, public/models/README.md)
# continued from its pilot's state on the pilots' own schedule (cosine over 60,000 steps), in chunks of
# training CPU time. Each chunk ends with the proxy's final evaluation (APGD-100 at 4/255 and 2/255, the
# student and its EMA), so the campaign's curve gets an APGD point per chunk. Resumable: stop it at any
# time (a checkpoint is at most --checkpoint-minutes old) and run it again.
#   nice -n 5 bash tools/rclip_tools/campaign.sh          # until TOTAL_CPU_MINUTES (default 1,440)
#   CHUNK_CPU_MINUTES=60 bash tools/rclip_tools/campaign.sh
# Before a session stops: bash tools/rclip_tools/campaign.sh --save   (copies last.pt and the log to
# tools/checkpoints/campaign-*, to commit; the perturbation memory is not kept, a fresh clone redraws it).
# Data from ../shared/data relative to the repository root (override: DATA=...).
set -euo pipefail
cd "$(dirname "$0")/.."   # tools/
run=runs/campaign
if [ "${1:-}" = "--save" ]; then
  cp "$run/last.pt" checkpoints/campaign-last.pt
  cp "$run/metrics.jsonl" checkpoints/campaign-metrics.jsonl
  echo "campaign: saved step $(grep -o '"step": [0-9]*' "$run/metrics.jsonl" | tail -1 | grep -o '[0-9]*')" >&2
  exit 0
fi
(cd .. && node tools/nsfwjs_dump.mjs mobilenet_v2 >/dev/null)   # from the repository root, as pilots.sh
PY=/usr/bin/python3
DATA=${DATA:-../../shared/data}
CHUNK=${CHUNK_CPU_MINUTES:-120}
TOTAL=${TOTAL_CPU_MINUTES:-1440}

if [ ! -f "$run/last.pt" ]; then
  mkdir -p "$run"
  if [ -f checkpoints/campaign-last.pt ]; then           # a fresh clone: the committed campaign state
    cp checkpoints/campaign-last.pt "$run/last.pt"
    cp checkpoints/campaign-metrics.jsonl "$run/metrics.jsonl"
  else                                                   # the first chunk: the memory pilot's state and log
    pilot=runs/pilot-memory
    [ -f "$pilot/last.pt" ] || pilot=checkpoints/pilot-memory
    if [ -f "$pilot/last.pt" ]; then
      cp "$pilot/last.pt" "$run/last.pt"; cp "$pilot/metrics.jsonl" "$run/metrics.jsonl"
      [ -f "$pilot/memory.pt" ] && cp "$pilot/memory.pt" "$run/memory.pt"
    else
      cp checkpoints/pilot-memory-last.pt "$run/last.pt"; cp checkpoints/pilot-memory-metrics.jsonl "$run/metrics.jsonl"
    fi
  fi
fi

while :; do
  cpu=$(grep -o '"cpu": [0-9.]*' "$run/metrics.jsonl" | tail -1 | grep -o '[0-9.]*$')
  budget=$(awk -v c="$cpu" -v k="$CHUNK" -v t="$TOTAL" 'BEGIN { b = int(c / 60) + k; if (b > t) b = t; print b }')
  if awk -v c="$cpu" -v t="$TOTAL" 'BEGIN { exit !(c >= t * 60) }'; then
    echo "campaign: ${TOTAL} CPU-minutes spent; done" >&2
    break
  fi
  if grep -q '"step": 60000,' "$run/metrics.jsonl"; then
    echo "campaign: the schedule's 60,000 steps are done" >&2
    break
  fi
  echo "campaign: training to ${budget} CPU-minutes (now $(awk -v c="$cpu" 'BEGIN { printf "%.0f", c / 60 }'))" >&2
  $PY -m rclip_tools.train_distill --run "$run" --resume --data "$DATA" --steps 60000 --cpu-minutes "$budget" \
    --no-proxy-at-start
done
