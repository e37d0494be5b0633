#!/usr/bin/env bash
# The recipe of the shipped MobileNetV2 pair (rclip-mnv2-base, rclip-mnv2-robust), as run for the
# committed models on 2 shared CPU cores with Debian's torch 1.13. Resumable: run it again to go on
# from runs/distill96/last.pt and runs/distill96-pgd2/last.pt (copies of the committed runs' states are
# in tools/checkpoints/).
# Data from ../shared/data relative to the repository root (override: DATA=...).
set -euo pipefail
cd "$(dirname "$0")/../.."   # repository root
node tools/nsfwjs_dump.mjs mobilenet_v2   # nsfwjs@4.4.0 from node_modules -> tools/runs/nsfwjs/mobilenet_v2
cd tools
PY=/usr/bin/python3
DATA=${DATA:-../../shared/data}
RUN=${RUN:-runs/distill96}
MINUTES=${MINUTES:-80}
RUN2=${RUN2:-runs/distill96-pgd2}
MINUTES2=${MINUTES2:-130}   # stage 2 budget, counted like MINUTES from the start of stage 1
mkdir -p "$RUN"
if [ ! -f "$RUN/last.pt" ] && [ -f checkpoints/distill96-last.pt ]; then cp checkpoints/distill96-last.pt "$RUN/last.pt"; fi

# Teacher = baseline: MobileNetV2 blocks 0-10 (ImageNet weights), pooled block_10_expand_relu at 160 px.
# Student: the same layers at 96 px, robust distillation at L-inf 4/255 (ramped over 600 steps),
# FGSM with random start (step 5/255), batch 32, AdamW 1e-4 on a 4000-step cosine schedule.
$PY -m rclip_tools.train_distill --run "$RUN" --data "$DATA" --seed 0 --resume \
    --steps 4000 --minutes "$MINUTES" --student-size 96 --teacher-size 160 \
    --pgd-steps 1 --pgd-step-size 5/255 --eps-warmup-steps 600 --proxy-every 400 --log-every 20

# Stage 2, once stage 1 has finished its 4,000 steps: PGD-2 (step 2.5/255) instead of FGSM-RS, the
# same weights and optimiser state continued on a schedule extended to 6,000 steps (the cosine is at
# lr 2.5e-5 at step 4,000 of 6,000 and decays to 0). Its own run folder keeps stage 1's end intact.
if [ -f "$RUN/final.pt" ]; then
  mkdir -p "$RUN2"
  if [ ! -f "$RUN2/last.pt" ] && [ -f checkpoints/distill96-pgd2-last.pt ]; then cp checkpoints/distill96-pgd2-last.pt "$RUN2/last.pt"; fi
  if [ ! -f "$RUN2/last.pt" ]; then cp "$RUN/last.pt" "$RUN2/last.pt"; cp "$RUN/metrics.jsonl" "$RUN2/metrics.jsonl"; fi
  $PY -m rclip_tools.train_distill --run "$RUN2" --data "$DATA" --seed 0 --resume \
      --steps 6000 --minutes "$MINUTES2" --pgd-steps 2 --pgd-step-size 2.5/255 --proxy-every 400 --log-every 20
fi
