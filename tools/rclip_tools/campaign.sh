#!/usr/bin/env bash
# Issue 20's campaign on the CPU: the recipe the pilots chose (the perturbation memory, public/models/README.md)
# in chunks of training CPU time. Each chunk ends with the proxy's final evaluation (APGD-100 at 4/255 and
# 2/255, the student and its EMA), so the campaign's curve gets an APGD point per chunk. Resumable: stop it
# at any time (a checkpoint is at most --checkpoint-minutes old) and run it again.
#   nice -n 5 bash tools/rclip_tools/campaign.sh          # until TOTAL_CPU_MINUTES (default 1,440)
#   CHUNK_CPU_MINUTES=60 bash tools/rclip_tools/campaign.sh
# Before a session stops: bash tools/rclip_tools/campaign.sh --save   (copies last.pt and the log to
# tools/checkpoints/campaign2-*, to commit; the perturbation memory is not kept, a fresh clone redraws it).
# Data from ../shared/data relative to the repository root (override: DATA=...).
#
# Segments. 1: from the memory pilot's state, lr 5e-5, batch 32, steps 1,827-5,340 (session 4; its state and
# log stay as tools/checkpoints/campaign-*). The GPU run (gpu_run.sh, session 5: 4,363 steps at batch 256 from
# segment 1's state) beat it on the proxy, so 2 continues from the GPU run's state (tools/checkpoints/gpu-last.pt)
# on the same recipe at lr 2e-5: the GPU run ended its schedule near 1e-5 at 8x the batch, and 5e-5 at batch 32
# would add ~4x its gradient noise per step. Segment 2 ended in session 7 at 459 CPU-minutes (step 20,987), when issue 20's
# training reached 12 h on a plateau (TOTAL_CPU_MINUTES=459; public/models/README.md, "The campaign's end").
set -euo pipefail
cd "$(dirname "$0")/.."   # tools/
run=runs/campaign2
saved=checkpoints/campaign2
if [ "${1:-}" = "--save" ]; then
  cp "$run/last.pt" "$saved-last.pt"
  cp "$run/metrics.jsonl" "$saved-metrics.jsonl"
  echo "campaign: saved step $(grep -o '"step": [0-9]*' "$run/metrics.jsonl" | tail -1 | grep -o '[0-9]*')" >&2
  exit 0
fi
(cd .. && node tools/nsfwjs_dump.mjs mobilenet_v2 >/dev/null)   # from the repository root, as pilots.sh
PY=/usr/bin/python3
DATA=${DATA:-../../shared/data}
CHUNK=${CHUNK_CPU_MINUTES:-120}
TOTAL=${TOTAL_CPU_MINUTES:-1440}
START=checkpoints/gpu-last.pt
# The pilots' schedule and the memory recipe (pilots.sh: COMMON and "memory"), at segment 2's learning rate.
RECIPE=(--seed 0 --steps 60000 --lr 2e-5 --warmup-steps 100 --batch-size 32 --eps 4/255 --eps-warmup-steps 0
        --teacher-size 160 --student-size 96 --inner memory --pgd-step-size 2/255 --memory-age 10 --ema 0.999
        --proxy-every 450 --proxy-attacked 32 --log-every 20)

if [ ! -f "$run/last.pt" ] && [ -f "$saved-last.pt" ]; then   # a fresh clone: the committed state
  mkdir -p "$run"
  cp "$saved-last.pt" "$run/last.pt"
  cp "$saved-metrics.jsonl" "$run/metrics.jsonl"
fi

while :; do
  cpu=$( (grep -o '"cpu": [0-9.]*' "$run/metrics.jsonl" 2>/dev/null || echo '"cpu": 0') | tail -1 | grep -o '[0-9.]*$')
  budget=$(awk -v c="$cpu" -v k="$CHUNK" -v t="$TOTAL" 'BEGIN { b = int(c / 60) + k; if (b > t) b = t; print b }')
  if awk -v c="$cpu" -v t="$TOTAL" 'BEGIN { exit !(c >= t * 60) }'; then
    echo "campaign: ${TOTAL} CPU-minutes spent; done" >&2
    break
  fi
  if grep -q '"step": 60000,' "$run/metrics.jsonl" 2>/dev/null; then
    echo "campaign: the schedule's 60,000 steps are done" >&2
    break
  fi
  echo "campaign: training to ${budget} CPU-minutes (now $(awk -v c="$cpu" 'BEGIN { printf "%.0f", c / 60 }'))" >&2
  # --init applies only to the first chunk (no last.pt yet); later ones resume.
  $PY -m rclip_tools.train_distill --run "$run" --resume --init "$START" --data "$DATA" "${RECIPE[@]}" \
    --cpu-minutes "$budget" --no-proxy-at-start
done
