#!/usr/bin/env bash
# Pilots: candidates for the robust default, compared at an equal budget of training CPU time. Two rounds:
#   ROUND=capacity (the default): data and capacity. Every pilot starts a FRESH student from the pretrained
#     nsfwjs weights (MobileNetV2 block 10, or InceptionV3 through mixed2 / mixed5, projected to the teacher's
#     384-d by least squares), distilled from the same teacher (the shipped baseline, taken from
#     tools/checkpoints/gpu-last.pt) with the perturbation memory, seed 0, 45 CPU-minutes each; all but the
#     control-on-photos also train on Tiny-ImageNet (40,400 photos). No weight EMA (it lags a fresh student).
#     The proxy: clean and PGD-10 every 400 steps, APGD-100 at 4/255 and 2/255 on 64 attacked photos at the end.
#   ROUND=recipe: the inner maximisation and its neighbours (finished; its states are committed), each from the
#     then-shipped stage-2 state (tools/checkpoints/distill96-pgd2-last.pt), 30 CPU-minutes, a weight EMA (0.999);
#     the proxy every 450 steps (clean, PGD-10 4/255), APGD-100 at the start and the end, the student and its EMA;
#     each distinct start evaluated once, by its first pilot.
# The budget is training CPU time (--cpu-minutes: all threads, proxy evaluations excluded), so a shared machine
# changes what each pilot gets less than wall time would. Resumable: run it again and each unfinished pilot goes
# on from runs/pilot-<name>/last.pt; a finished one (budget spent, its final APGD evaluation logged) is skipped.
#   nice -n 10 bash tools/rclip_tools/pilots.sh        # the capacity round's pilots, in order
#   PILOTS="inc-mixed2" bash tools/rclip_tools/pilots.sh
#   ROUND=recipe PILOTS="memory nfgsm" bash tools/rclip_tools/pilots.sh
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
# OpenMP threads wait passively: on a loaded machine a spinning thread burns CPU time waiting for its descheduled
# sibling, and CPU time is the pilots' budget (the first try, with spinning, logged ~10 CPU-s a step under load 15,
# ~4x the step's work).
export OMP_WAIT_POLICY=PASSIVE
DATA=${DATA:-../../shared/data}
ROUND=${ROUND:-capacity}
if [ "$ROUND" = capacity ]; then
  CPU_MINUTES=${CPU_MINUTES:-45}
  START=checkpoints/gpu-last.pt   # its teacher: the shipped baseline; its student is not used (--student)
  PILOTS=${PILOTS:-"data-mnv2 inc-mixed2 inc-mixed5 photos-mnv2"}
  # Cosine over 60,000 steps (lr ~1e-4 through the pilots), batch 32, eps ramped to 4/255 over 200 steps (a fresh,
  # non-robust student), the perturbation memory.
  COMMON=(--data "$DATA" --seed 0 --steps 60000 --lr 1e-4 --warmup-steps 100 --eps 4/255 --eps-warmup-steps 200
          --teacher-size 160 --inner memory --pgd-step-size 2/255 --memory-age 10 --ema 0
          --proxy-every 400 --proxy-attacked 64 --log-every 20)
else
  CPU_MINUTES=${CPU_MINUTES:-30}
  START=checkpoints/distill96-pgd2-last.pt
  PILOTS=${PILOTS:-"pgd2 memory nfgsm size128 teacher"}
  # One schedule for every pilot and the campaign that continues the winner: cosine over 60,000 steps
  # (lr ~5e-5 through the pilots), batch 32, full eps 4/255 from the first step (the start is already robust).
  COMMON=(--data "$DATA" --seed 0 --steps 60000 --lr 5e-5 --warmup-steps 100 --eps 4/255 --eps-warmup-steps 0
          --teacher-size 160 --ema 0.999 --proxy-every 450 --proxy-attacked 32 --log-every 20)
fi

recipe() {
  case "$1" in
    pgd2)    echo "--student-size 96 --inner pgd --pgd-steps 2 --pgd-step-size 2.5/255" ;;    # the shipped recipe, continued
    memory)  echo "--student-size 96 --inner memory --pgd-step-size 2/255 --memory-age 10" ;;
    nfgsm)   echo "--student-size 96 --inner nfgsm" ;;
    size128) echo "--student-size 128 --inner pgd --pgd-steps 2 --pgd-step-size 2.5/255" ;;  # capacity: more pixels
    # the MobileNetV2 ⊕ InceptionV3 teacher (1,152-d, built from nsfwjs at 160 px); the student's convolutions
    # from the start state, a 384 -> 1,152 projection fitted by least squares before step 0
    teacher) echo "--student-size 96 --inner pgd --pgd-steps 2 --pgd-step-size 2.5/255 --teacher mnv2+inception" ;;
    # The capacity round (ROUND=capacity): fresh pretrained students; the sizes are where each runs ~1.2-1.5 s a step.
    data-mnv2)   echo "--student mobilenet_v2:block_10_expand_relu --student-size 96 --tiny-imagenet" ;;  # the control
    photos-mnv2) echo "--student mobilenet_v2:block_10_expand_relu --student-size 96" ;;  # the control without the new data
    inc-mixed2)  echo "--student inception_v3:mixed2 --student-size 96 --tiny-imagenet" ;;   # 0.99 M parameters
    inc-mixed5)  echo "--student inception_v3:mixed5 --student-size 80 --tiny-imagenet" ;;   # 5.1 M parameters
    *) echo "unknown pilot $1" >&2; exit 2 ;;
  esac
}

# The capacity round runs its pilots in turns of CHUNKS CPU-minutes each (15, 30, then the full budget), so that
# each sees the same mix of load from other jobs on this shared machine (load raises the CPU time of a step);
# the APGD evaluation runs only after the last turn.
if [ "$ROUND" = capacity ]; then CHUNKS=${CHUNKS:-"15 30 $CPU_MINUTES"}; else CHUNKS=$CPU_MINUTES; fi
spent() { (grep -o '"cpu": [0-9.]*' "$1/metrics.jsonl" 2>/dev/null || echo '"cpu": 0') | tail -1 | grep -o '[0-9.]*$'; }
for budget in $CHUNKS; do
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
