#!/usr/bin/env bash
# The campaign: the capacity round's winner (PILOT=<name>) trained on with its pilot's recipe and schedule, in chunks
# of training CPU time; each chunk ends with the proxy's final evaluation (APGD-100 at 4/255 and 2/255 on 64
# attacked photos), so the curve gets an APGD point per chunk. It starts from the pilot's state (its log too, so
# the curve begins at step 0) in a run of its own, runs/campaign-<name>. Resumable: stop it at any time (a
# checkpoint is at most --checkpoint-minutes old) and run it again; a fresh clone resumes from the committed state.
#   PILOT=inc-mixed2 nice -n 10 bash tools/rclip_tools/campaign.sh     # until TOTAL_CPU_MINUTES (default 765)
#   PILOT=inc-mixed2 CHUNK_CPU_MINUTES=60 bash tools/rclip_tools/campaign.sh
# Before a session stops: PILOT=<name> bash tools/rclip_tools/campaign.sh --save   (state and log to
# tools/checkpoints/campaign-<name>-*, to commit; the perturbation memory is not kept, a resumed run redraws it).
# The curve: cd tools && /usr/bin/python3 -m rclip_tools.curve runs/campaign-<name>
# (The earlier campaign, on the recipe round's winner, is this file as of commit 2d331ca; its log and state are
# tools/checkpoints/campaign{,2}-*.)
set -euo pipefail
cd "$(dirname "$0")/.."   # tools/
. rclip_tools/recipes.sh
PILOT=${PILOT:?"name the pilot to continue, e.g. PILOT=inc-mixed2 bash tools/rclip_tools/campaign.sh"}
recipe "$PILOT" >/dev/null
run=runs/campaign-$PILOT
if [ "${1:-}" = "--save" ]; then save_state "$run" "campaign-$PILOT"; exit 0; fi
(cd .. && node tools/nsfwjs_dump.mjs mobilenet_v2 >/dev/null && node tools/nsfwjs_dump.mjs inception_v3 >/dev/null)
round capacity
CHUNK=${CHUNK_CPU_MINUTES:-120}
TOTAL=${TOTAL_CPU_MINUTES:-765}   # 12 hours beyond the pilot's 45 minutes

restore_state "$run" "campaign-$PILOT"
if [ ! -f "$run/last.pt" ]; then
  restore_state "runs/pilot-$PILOT" "pilot-$PILOT"
  if [ ! -f "runs/pilot-$PILOT/last.pt" ]; then
    echo "campaign: pilot $PILOT has no state (runs/pilot-$PILOT/last.pt or tools/checkpoints/pilot-$PILOT-*): run its pilot first" >&2
    exit 2
  fi
  mkdir -p "$run"
  cp "runs/pilot-$PILOT/last.pt" "runs/pilot-$PILOT/metrics.jsonl" "$run/"
fi

while :; do
  cpu=$(spent "$run")
  if awk -v c="$cpu" -v t="$TOTAL" 'BEGIN { exit !(c >= t * 60) }'; then
    echo "campaign: ${TOTAL} CPU-minutes spent; done" >&2
    break
  fi
  if grep -q '"step": 60000,' "$run/metrics.jsonl"; then
    echo "campaign: the schedule's 60,000 steps are done" >&2
    break
  fi
  budget=$(awk -v c="$cpu" -v k="$CHUNK" -v t="$TOTAL" 'BEGIN { b = int(c / 60) + k; if (b > t) b = t; print b }')
  echo "campaign: $PILOT to ${budget} CPU-minutes (now $(awk -v c="$cpu" 'BEGIN { printf "%.0f", c / 60 }'))" >&2
  # shellcheck disable=SC2046
  $PY -m rclip_tools.train_distill --run "$run" --init "$START" --resume "${COMMON[@]}" $(recipe "$PILOT") \
    --cpu-minutes "$budget" --proxy-apgd-iters 100 --no-proxy-at-start
done
