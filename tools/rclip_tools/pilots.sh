#!/usr/bin/env bash
# Pilots: candidates for the robust default, compared at an equal budget of training CPU time. Two rounds:
#   ROUND=capacity (the default): data and capacity. Every pilot starts a FRESH student from the pretrained
#     nsfwjs weights (MobileNetV2 block 10, or InceptionV3 through mixed2 / mixed5, projected to the teacher's
#     384-d by least squares), distilled from the same teacher (the shipped baseline, taken from
#     tools/checkpoints/gpu-last.pt) with the perturbation memory, seed 0, 45 CPU-minutes each; all but the
#     control-on-photos also train on Tiny-ImageNet (40,400 photos). No weight EMA (it lags a fresh student).
#     The proxy: clean and PGD-10 every 400 steps, APGD-100 at 4/255 and 2/255 on 64 attacked photos at the end.
#     campaign.sh continues the winner.
#   ROUND=recipe: the inner maximisation and its neighbours (finished; its states are committed), each from the
#     then-shipped stage-2 state (tools/checkpoints/distill96-pgd2-last.pt), 30 CPU-minutes, a weight EMA (0.999);
#     the proxy every 450 steps (clean, PGD-10 4/255), APGD-100 at the start and the end, the student and its EMA;
#     each distinct start evaluated once, by its first pilot.
# Schedules and recipes: recipes.sh. The budget is training CPU time (--cpu-minutes: all threads, proxy
# evaluations excluded), so a shared machine changes what each pilot gets less than wall time would. Resumable:
# run it again and each unfinished pilot goes on from runs/pilot-<name>/last.pt (a fresh clone: from the committed
# state); a finished one (budget spent, its final APGD evaluation logged) is skipped.
#   nice -n 10 bash tools/rclip_tools/pilots.sh        # the capacity round's pilots, in order
#   PILOTS="inc-mixed2" bash tools/rclip_tools/pilots.sh
#   ROUND=recipe PILOTS="memory nfgsm" bash tools/rclip_tools/pilots.sh
# Before a session stops: bash tools/rclip_tools/pilots.sh --save   (copies each run's last.pt and log to
# tools/checkpoints/, to commit; the perturbation memory is not kept, a resumed run redraws it).
# Data from ../shared/data relative to the repository root (override: DATA=...).
set -euo pipefail
cd "$(dirname "$0")/.."   # tools/
. rclip_tools/recipes.sh
if [ "${1:-}" = "--save" ]; then
  for run in runs/pilot-*; do save_state "$run" "${run#runs/}"; done
  exit 0
fi
(cd .. && node tools/nsfwjs_dump.mjs mobilenet_v2 >/dev/null && node tools/nsfwjs_dump.mjs inception_v3 >/dev/null)
ROUND=${ROUND:-capacity}
round "$ROUND"
if [ "$ROUND" = capacity ]; then
  PILOTS=${PILOTS:-"data-mnv2 inc-mixed2 inc-mixed5 photos-mnv2"}
else
  PILOTS=${PILOTS:-"pgd2 memory nfgsm size128 teacher"}
fi

# The capacity round runs its pilots in turns of CHUNKS CPU-minutes each (15, 30, then the full budget), so that
# each sees the same mix of load from other jobs on this shared machine (load raises the CPU time of a step);
# the APGD evaluation runs only after the last turn.
if [ "$ROUND" = capacity ]; then CHUNKS=${CHUNKS:-"15 30 $CPU_MINUTES"}; else CHUNKS=$CPU_MINUTES; fi
for budget in $CHUNKS; do
for name in $PILOTS; do
  run=runs/pilot-$name
  restore_state "$run" "pilot-$name"
  # Done = budget spent and the final evaluation (the one with APGD figures) logged after it; a pilot
  # stopped between the two is resumed, and the trainer, already over budget, runs only that evaluation.
  if [ -f "$run/metrics.jsonl" ] && awk '/"event": "budget"/ {b=1} b && /"copy_r1_apgd2"/ {done=1} END {exit !done}' "$run/metrics.jsonl"; then
    echo "pilots: $name has spent its budget and been evaluated; skipped" >&2
    continue
  fi
  final=(--proxy-apgd-iters 100)   # given, not inherited: an earlier turn saved 0
  if [ "$budget" != "$CPU_MINUTES" ]; then
    # An earlier turn: skipped once spent (a rerun after a stop), and no APGD at its end.
    awk -v c="$(spent "$run")" -v b="$budget" 'BEGIN { exit !(c >= b * 60) }' && continue
    final=(--proxy-apgd-iters 0)
  fi
  # The distinct starts (96 px, 128 px, the projected student) are evaluated once, by their first pilot.
  start_proxy=--no-proxy-at-start
  [ "$ROUND" = recipe ] && case "$name" in pgd2|size128|teacher) start_proxy= ;; esac
  if [ -f "$run/metrics.jsonl" ] && grep -q '"event": "proxy", "step": 0,' "$run/metrics.jsonl"; then start_proxy=--no-proxy-at-start; fi
  echo "pilots: $name to $budget CPU-minutes" >&2
  # shellcheck disable=SC2046
  $PY -m rclip_tools.train_distill --run "$run" --init "$START" --resume "${COMMON[@]}" $(recipe "$name") $start_proxy \
    --cpu-minutes "$budget" "${final[@]}"
done
done
