#!/usr/bin/env bash
# Issue 20's pilots: candidate recipes for the robust default, each from the same start (the shipped
# stage-2 state, tools/checkpoints/distill96-pgd2-last.pt), the same seed and data, and the same budget
# of training CPU time (--cpu-minutes: all threads, proxy evaluations excluded, so a shared machine
# does not change what each pilot gets). Every pilot tracks a weight EMA (0.999). The proxy evaluates the
# student every 450 steps (clean and PGD-10 4/255), and at the start and the end of the budget with APGD-100
# at 4/255 and 2/255 too, the student and its EMA; each distinct start is evaluated once, by its first pilot. Resumable: run it again and each unfinished
# pilot goes on from runs/pilot-<name>/last.pt; a finished one (its budget event logged) is skipped.
#   bash tools/rclip_tools/pilots.sh            # all pilots, in order
#   PILOTS="memory nfgsm" bash tools/rclip_tools/pilots.sh
# Before a session stops: bash tools/rclip_tools/pilots.sh --save   (copies each run's last.pt and log to
# tools/checkpoints/, to commit; the perturbation memory is not kept, a resumed run redraws it).
# Data from ../shared/data relative to the repository root (override: DATA=...).
set -euo pipefail
cd "$(dirname "$0")/../.."   # repository root
if [ "${1:-}" = "--save" ]; then
  for run in tools/runs/pilot-*; do
    [ -f "$run/last.pt" ] || continue
    name=${run#tools/runs/pilot-}
    rm -f "tools/checkpoints/pilot-$name-last.pt" "tools/checkpoints/pilot-$name-last.pt".part-*
    # A committed file stays under 20 MB: a larger state (the teacher pilot's: its InceptionV3 teacher is in
    # it) is committed in 19 MB parts, joined again on resume.
    if [ "$(stat -c %s "$run/last.pt")" -gt 19000000 ]; then
      split -b 19000000 -d "$run/last.pt" "tools/checkpoints/pilot-$name-last.pt.part-"
    else
      cp "$run/last.pt" "tools/checkpoints/pilot-$name-last.pt"
    fi
    cp "$run/metrics.jsonl" "tools/checkpoints/pilot-$name-metrics.jsonl"
    echo "pilots: saved $name (step $(grep -o '"step": [0-9]*' "$run/metrics.jsonl" | tail -1 | grep -o '[0-9]*'))" >&2
  done
  exit 0
fi
node tools/nsfwjs_dump.mjs mobilenet_v2 >/dev/null
node tools/nsfwjs_dump.mjs inception_v3 >/dev/null   # the teacher pilot's second part
cd tools
PY=/usr/bin/python3
DATA=${DATA:-../../shared/data}
CPU_MINUTES=${CPU_MINUTES:-30}
START=checkpoints/distill96-pgd2-last.pt
PILOTS=${PILOTS:-"pgd2 memory nfgsm size128 teacher"}

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
    # the MobileNetV2 ⊕ InceptionV3 teacher (1,152-d, built from nsfwjs at 160 px); the student's convolutions
    # from the start state, a 384 -> 1,152 projection fitted by least squares before step 0
    teacher) echo "--student-size 96 --inner pgd --pgd-steps 2 --pgd-step-size 2.5/255 --teacher mnv2+inception" ;;
    *) echo "unknown pilot $1" >&2; exit 2 ;;
  esac
}

for name in $PILOTS; do
  run=runs/pilot-$name
  # A fresh clone resumes from the committed state (tools/checkpoints/pilot-<name>-{last.pt,metrics.jsonl}).
  if [ ! -f "$run/last.pt" ] && [ -f "checkpoints/pilot-$name-last.pt" ]; then
    mkdir -p "$run"
    cp "checkpoints/pilot-$name-last.pt" "$run/last.pt"
    cp "checkpoints/pilot-$name-metrics.jsonl" "$run/metrics.jsonl"
  elif [ ! -f "$run/last.pt" ] && [ -f "checkpoints/pilot-$name-last.pt.part-00" ]; then
    mkdir -p "$run"
    cat "checkpoints/pilot-$name-last.pt".part-* > "$run/last.pt"
    cp "checkpoints/pilot-$name-metrics.jsonl" "$run/metrics.jsonl"
  fi
  # Done = budget spent and the final evaluation (the one with the EMA's figures) logged after it; a pilot
  # stopped between the two is resumed, and the trainer, already over budget, runs only that evaluation.
  if [ -f "$run/metrics.jsonl" ] && awk '/"event": "budget"/ {b=1} b && /"ema_semantic_clean"/ {done=1} END {exit !done}' "$run/metrics.jsonl"; then
    echo "pilots: $name has spent its budget and been evaluated; skipped" >&2
    continue
  fi
  # The distinct starts (96 px, 128 px, the projected student) are evaluated once, by their first pilot.
  start_proxy=--no-proxy-at-start
  case "$name" in pgd2|size128|teacher) start_proxy= ;; esac
  if [ -f "$run/metrics.jsonl" ] && grep -q '"event": "proxy", "step": 0,' "$run/metrics.jsonl"; then start_proxy=--no-proxy-at-start; fi
  # shellcheck disable=SC2046
  $PY -m rclip_tools.train_distill --run "$run" --init "$START" --resume "${COMMON[@]}" $(recipe "$name") $start_proxy
done
