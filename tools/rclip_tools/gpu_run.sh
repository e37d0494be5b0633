#!/usr/bin/env bash
# The GPU run: the campaign's recipe (train_distill, the perturbation memory, the same teacher, eps and loss)
# on a lent GPU, as one prepared command of at most 9 minutes, from a committed state (START: its student,
# architecture and input size included, so a pilot's InceptionV3 student runs as it is), with a larger batch.
# TINY=1 adds Tiny-ImageNet (--tiny-imagenet; the pack must hold it). What it leaves in $OUT (or OUT_DIR):
#   gpu-last.pt, gpu-metrics.jsonl   the run's state and log (commit them as tools/checkpoints/gpu-*)
#   gpu-compare.jsonl                the proxy on all 160 evaluation photos, every item attacked (APGD-100
#                                    at 4/255 and 2/255, PGD-10), for this run's state and its start:
#                                    student and EMA of each, side by side (~30 s each on the H200)
#   gpu-run.log                      everything printed
# The device machine cannot see ../shared/data: it reads a pack of it (pack_data.py) carried beside the
# working tree. Prepare here, from the repository root:
#   (cd tools && /usr/bin/python3 -m rclip_tools.pack_data runs/gpu-pack --tiny)      # 57.9 MiB
# then run, on the device, from the repository root, carrying tools/runs/gpu-pack and
# tools/runs/nsfwjs/mobilenet_v2 (64 MiB in all: check with du -sbc before):
#   START=tools/checkpoints/<state> TINY=1 bash tools/rclip_tools/gpu_run.sh
# An InceptionV3 student also needs tools/runs/nsfwjs/inception_v3 (22 MB), so its pack is smaller (33.0 MiB; 58.1
# with both dumps):
#   (cd tools && /usr/bin/python3 -m rclip_tools.pack_data runs/gpu-pack-inc --tiny --tiny-every 12 --quality 75)
#   PACK=runs/gpu-pack-inc START=tools/checkpoints/<state> TINY=1 bash tools/rclip_tools/gpu_run.sh
# Knobs: TRAIN_SECONDS (270; the cap counts decoding the pack too), BATCH (256), LR (1e-4), START, TINY, PACK
# (runs/gpu-pack), STEPS (skip the timing run), COMPARE=0; DEVICE (cuda), ATTACKED (160, the comparison's) and
# PROXY_ATTACKED (32, the run's last proxy) for a rehearsal on a CPU:
#   OUT_DIR=/tmp/gpu-rehearsal PY=/usr/bin/python3 DEVICE=cpu STEPS=10 TRAIN_SECONDS=900 BATCH=32 ATTACKED=4 PROXY_ATTACKED=4 \
#     START=runs/pilot-data-mnv2/last.pt TINY=1 bash tools/rclip_tools/gpu_run.sh
set -euo pipefail
export PYTHONUNBUFFERED=1
OUT_DIR=${OUT_DIR:-${OUT:?set OUT or OUT_DIR}}
cd "$(dirname "$0")/.."   # tools/
exec > >(tee "$OUT_DIR/gpu-run.log") 2>&1
PY=${PY:-python3}
PACK=${PACK:-runs/gpu-pack}
PACK=${PACK#tools/}   # the script works from tools/
TRAIN_SECONDS=${TRAIN_SECONDS:-270}
BATCH=${BATCH:-256}
LR=${LR:-1e-4}
DEVICE=${DEVICE:-cuda}
ATTACKED=${ATTACKED:-160}
# The best CPU state so far (the second CPU campaign, started from the first's state at step 5,083).
START=${START:-checkpoints/campaign2-last.pt}
[ -f "$START" ] || START=checkpoints/campaign-last.pt
START=${START#tools/}   # the script works from tools/
[ -f "$START" ] || { echo "gpu_run: no state $START" >&2; exit 2; }
# The student's input size is the state's own (a pilot's InceptionV3 through mixed5 runs at 80 px).
STUDENT_SIZE=$($PY -c 'import sys; from rclip_tools.trainutil import load_state
print(load_state(sys.argv[1])["args"].get("student_size", 96))' "$START")
TINY_ARGS=()
if [ "${TINY:-0}" = 1 ]; then
  [ -d "$PACK/tiny-imagenet" ] || { echo "gpu_run: TINY=1 but $PACK has no tiny-imagenet/ (pack_data --tiny)" >&2; exit 2; }
  TINY_ARGS=(--tiny-imagenet)
fi

command -v nvidia-smi >/dev/null && nvidia-smi -L
$PY -c 'import torch; print("torch", torch.__version__, "cuda", torch.cuda.is_available())'
# The proxy's semantic triplets read WordNet's noun file; the pack holds the lines they need.
[ -f /usr/share/wordnet/data.noun ] || { mkdir -p /usr/share/wordnet; cp "$PACK/wordnet-data.noun" /usr/share/wordnet/data.noun; }

COMMON=(--data "$PACK" --cache runs/gpu-cache --device "$DEVICE" --threads 8 --init "$START" --seed 0
        --inner memory --pgd-step-size 2/255 --memory-age 10 --teacher-size 160 --student-size "$STUDENT_SIZE" "${TINY_ARGS[@]}"
        --eps 4/255 --eps-warmup-steps 0 --ema 0.999 --batch-size "$BATCH" --lr "$LR" --warmup-steps 200)

# 1. Steps per second at this batch (the first steps include CUDA's start-up, so the rate is of the last 60),
# unless STEPS gives the schedule (a short lease: the first run measured ~5,000 views/s at batch 256 on the H200).
if [ -n "${STEPS:-}" ]; then
  steps=$STEPS
else
  rm -rf runs/gpu-timing
  $PY -m rclip_tools.train_distill --run runs/gpu-timing "${COMMON[@]}" --steps 100 --proxy-every 0 --log-every 20
  rate=$(grep -o '"images_per_s": [0-9.]*' runs/gpu-timing/metrics.jsonl | tail -3 | grep -o '[0-9.]*$' |
         awk '{ s += $1 } END { print s / NR }')
  steps=$(awk -v r="$rate" -v t="$TRAIN_SECONDS" -v b="$BATCH" 'BEGIN { printf "%d", r * t / b }')
  echo "gpu_run: ${rate} images/s at batch ${BATCH}: a cosine schedule of ${steps} steps for ${TRAIN_SECONDS} s"
fi

# 2. The run: its schedule sized to TRAIN_SECONDS; --minutes caps it should the rate drop. A proxy (clean,
# PGD-10) every ~1/6 of the schedule for the curve; APGD-100 on 32 photos at the end, as the campaign's.
rm -rf runs/gpu
every=$(( steps / 6 + 1 ))
# The state leaves as it is checkpointed, so a run cut by its limit still returns its last checkpoint.
( while sleep 20; do [ -f runs/gpu/last.pt ] && cp runs/gpu/last.pt "$OUT_DIR/gpu-last.pt.tmp" &&
    mv "$OUT_DIR/gpu-last.pt.tmp" "$OUT_DIR/gpu-last.pt"; done ) &
copier=$!
$PY -m rclip_tools.train_distill --run runs/gpu "${COMMON[@]}" --steps "$steps" \
  --minutes "$(awk -v t="$TRAIN_SECONDS" 'BEGIN { print t / 60 * 1.2 }')" --proxy-every "$every" \
  --no-proxy-at-start --proxy-attacked "${PROXY_ATTACKED:-32}" --log-every 50 --checkpoint-minutes 1
kill "$copier"
cp runs/gpu/last.pt "$OUT_DIR/gpu-last.pt"
cp runs/gpu/metrics.jsonl "$OUT_DIR/gpu-metrics.jsonl"

# 3. The run and its start side by side on every evaluation photo (each row printed as it is done; COMPARE=0 skips it).
[ "${COMPARE:-1}" = 0 ] && { echo "gpu_run: done (no comparison)"; exit 0; }
$PY -m rclip_tools.state_eval runs/gpu/last.pt "$START" --data "$PACK" --cache runs/gpu-cache \
  --device "$DEVICE" --attacked "$ATTACKED" | tee "$OUT_DIR/gpu-compare.jsonl"
echo "gpu_run: done"
