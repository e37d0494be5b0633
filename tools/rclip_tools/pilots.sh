#!/usr/bin/env bash
# Issue 20's pilots: candidate recipes for the robust default, each from the same start (the shipped
# stage-2 state, tools/checkpoints/distill96-pgd2-last.pt), the same seed and data, and the same budget
# of training CPU time (--cpu-minutes: all threads, proxy evaluations excluded, so a shared machine
# does not change what each pilot gets). Every pilot tracks a weight EMA (0.999). The proxy (APGD-100 at
# 4/255 and 2/255, PGD-10 at 4/255) evaluates the student every 450 steps and, at the end of the budget,
# the student and its EMA; the 96 px start is evaluated once, by the first pilot. Resumable: run it again and each unfinished
# pilot goes on from runs/pilot-<name>/last.pt; a finished one (its budget event logged) is skipped.
#   bash tools/rclip_tools/pilots.sh            # all pilots, in order
#   PILOTS="memory nfgsm" bash tools/rclip_tools/pilots.sh
# Data from ../shared/data relative to the repository root (override: DATA=...).
set -euo pipefail
cd "$(dirname "$0")/../.."   # repository root
node tools/nsfwjs_dump.mjs mobilenet_v2 >/dev/null
cd tools
PY=/usr/bin/python3
DATA=${DATA:-../../shared/data}
CPU_MINUTES=${CPU_MINUTES:-30}
START=checkpoints/distill96-pgd2-last.pt
PILOTS=${PILOTS:-"pgd2 memory nfgsm size128"}

# One schedule for every pilot and the campaign that continues the winner: cosine over 60,000 steps
# (lr ~5e-5 through the pilots), batch 32, full eps 4/255 from the first step (the start is already robust).
COMMON=(--data "$DATA" --seed 0 --steps 60000 --lr 5e-5 --warmup-steps 100 --eps 4/255 --eps-warmup-steps 0
        --teacher-size 160 --ema 0.999 --proxy-every 450 --proxy-attacked 32 --log-every 20 --cpu-minutes "$CPU_MINUTES")

recipe() {
  case "$1" in
    pgd2)    echo "--student-size 96 --inner pgd --pgd-steps 2 --pgd-step-size 2.5/255" ;;    # the shipped recipe, continued
    memory)  echo "--student-size 96 --inner memory --pgd-step-size 2/255 --memory-age 10" ;;
    nfgsm)   echo "--student-size 96 --inner nfgsm" ;;
    size128) echo "--student-size 128 --inner pgd --pgd-steps 2 --pgd-step-size 2.5/255" ;;  # capacity: more pixels
    *) echo "unknown pilot $1" >&2; exit 2 ;;
  esac
}

for name in $PILOTS; do
  run=runs/pilot-$name
  if [ -f "$run/metrics.jsonl" ] && grep -q '"event": "budget"' "$run/metrics.jsonl"; then
    echo "pilots: $name has spent its budget; skipped" >&2
    continue
  fi
  # shellcheck disable=SC2046
  start_proxy=--no-proxy-at-start
  case "$name" in pgd2|size128) start_proxy= ;; esac   # the two distinct starts (96 px and 128 px)
  $PY -m rclip_tools.train_distill --run "$run" --init "$START" --resume "${COMMON[@]}" $(recipe "$name") $start_proxy
done
