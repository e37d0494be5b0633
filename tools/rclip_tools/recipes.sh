# Sourced (from tools/) by pilots.sh and campaign.sh: each round's schedule and start, each pilot's recipe, and
# the committed states a fresh clone resumes from. Not run on its own.

PY=/usr/bin/python3
DATA=${DATA:-../../shared/data}
# OpenMP threads wait passively: on a loaded machine a spinning thread burns CPU time waiting for its descheduled
# sibling, and CPU time is the trainer's budget (the first try, with spinning, logged ~10 CPU-s a step under load
# 15, ~4x the step's work).
export OMP_WAIT_POLICY=PASSIVE

# round capacity|recipe: sets START, CPU_MINUTES (a pilot's budget) and COMMON (every pilot's arguments).
round() {
  if [ "$1" = capacity ]; then
    CPU_MINUTES=${CPU_MINUTES:-45}
    START=checkpoints/gpu-last.pt   # its teacher: the shipped baseline; its student is not used (--student)
    # Cosine over 60,000 steps (lr ~1e-4 through the pilots), batch 32, eps ramped to 4/255 over 200 steps (a
    # fresh, non-robust student), the perturbation memory.
    COMMON=(--data "$DATA" --seed 0 --steps 60000 --lr 1e-4 --warmup-steps 100 --eps 4/255 --eps-warmup-steps 200
            --teacher-size 160 --inner memory --pgd-step-size 2/255 --memory-age 10 --ema 0
            --proxy-every 400 --proxy-attacked 64 --log-every 20)
  else
    CPU_MINUTES=${CPU_MINUTES:-30}
    START=checkpoints/distill96-pgd2-last.pt
    # One schedule for every pilot and the campaign that continued the winner: cosine over 60,000 steps
    # (lr ~5e-5 through the pilots), batch 32, full eps 4/255 from the first step (the start is already robust).
    COMMON=(--data "$DATA" --seed 0 --steps 60000 --lr 5e-5 --warmup-steps 100 --eps 4/255 --eps-warmup-steps 0
            --teacher-size 160 --ema 0.999 --proxy-every 450 --proxy-attacked 32 --log-every 20)
  fi
}

recipe() {
  case "$1" in
    pgd2)    echo "--student-size 96 --inner pgd --pgd-steps 2 --pgd-step-size 2.5/255" ;;    # the shipped recipe, continued
    memory)  echo "--student-size 96 --inner memory --pgd-step-size 2/255 --memory-age 10" ;;
    nfgsm)   echo "--student-size 96 --inner nfgsm" ;;
    size128) echo "--student-size 128 --inner pgd --pgd-steps 2 --pgd-step-size 2.5/255" ;;  # capacity: more pixels
    # the MobileNetV2 ⊕ InceptionV3 teacher (1,152-d, built from nsfwjs at 160 px); the student's convolutions
    # from the start state, a 384 -> 1,152 projection fitted by least squares before step 0
    teacher) echo "--student-size 96 --inner pgd --pgd-steps 2 --pgd-step-size 2.5/255 --teacher mnv2+inception" ;;
    # The capacity round: fresh pretrained students; the sizes are where each runs ~1.2-1.5 s a step. Half of each
    # batch from Tiny-ImageNet: drawn uniformly (95 % tiny), the first turns' robustness did not reach the sharp
    # evaluation photos (their logs: checkpoints/pilot-uniform-*-metrics.jsonl).
    data-mnv2)   echo "--student mobilenet_v2:block_10_expand_relu --student-size 96 --tiny-imagenet --tiny-share 0.5" ;;  # the control
    photos-mnv2) echo "--student mobilenet_v2:block_10_expand_relu --student-size 96" ;;  # the control without the new data
    inc-mixed2)  echo "--student inception_v3:mixed2 --student-size 96 --tiny-imagenet --tiny-share 0.5" ;;   # 0.99 M parameters
    inc-mixed5)  echo "--student inception_v3:mixed5 --student-size 80 --tiny-imagenet --tiny-share 0.5" ;;   # 5.1 M parameters
    # The new data held every student back at 45 CPU-minutes, so capacity and the teacher are piloted again on
    # the photos alone, against photos-mnv2: InceptionV3 mixed2, and the control's student distilled from the
    # MobileNetV2 + InceptionV3 mixed5 teacher (1,152-d; a 384 -> 1,152 projection fitted by least squares).
    photos-mixed2)  echo "--student inception_v3:mixed2 --student-size 96" ;;
    photos-teacher) echo "--student mobilenet_v2:block_10_expand_relu --student-size 96 --teacher mnv2+inception" ;;
    # The data lever on an already robust student (no --student: the start state's, the shipped default), where
    # robust overfitting would show if anywhere; the same schedule, so eps ramps again over the first 200 steps.
    default-photos) echo "--student-size 96" ;;                                             # its control
    default-data)   echo "--student-size 96 --tiny-imagenet --tiny-share 0.5" ;;
    *) echo "unknown pilot $1" >&2; exit 2 ;;
  esac
}

# Training CPU seconds a run has spent (its log's last "cpu"), 0 for none.
spent() { (grep -o '"cpu": [0-9.]*' "$1/metrics.jsonl" 2>/dev/null || echo '"cpu": 0') | tail -1 | grep -o '[0-9.]*$'; }

# restore_state RUN NAME: a fresh clone's RUN (no last.pt yet) from the committed checkpoints/NAME-*, whole or in parts.
restore_state() {
  local run=$1 name=$2
  [ -f "$run/last.pt" ] && return 0
  if [ -f "checkpoints/$name-last.pt" ]; then
    mkdir -p "$run"
    cp "checkpoints/$name-last.pt" "$run/last.pt"
  elif [ -f "checkpoints/$name-last.pt.part-00" ]; then
    mkdir -p "$run"
    cat "checkpoints/$name-last.pt".part-* > "$run/last.pt"
  elif [ -f "checkpoints/$name-metrics.jsonl" ] && [ ! -f "$run/metrics.jsonl" ]; then
    # A finished run committed without its state (too large to keep): its log says it is done.
    mkdir -p "$run"
  else
    return 0
  fi
  cp "checkpoints/$name-metrics.jsonl" "$run/metrics.jsonl"
}

# save_state RUN NAME: RUN's last.pt and log to checkpoints/NAME-*, to commit. A committed file stays under 20 MB: a
# larger state (an InceptionV3 teacher or student in it) goes in 19 MB parts, joined again by restore_state.
save_state() {
  local run=$1 name=$2
  [ -f "$run/last.pt" ] || return 0
  rm -f "checkpoints/$name-last.pt" "checkpoints/$name-last.pt".part-*
  if [ "$(stat -c %s "$run/last.pt")" -gt 19000000 ]; then
    split -b 19000000 -d "$run/last.pt" "checkpoints/$name-last.pt.part-"
  else
    cp "$run/last.pt" "checkpoints/$name-last.pt"
  fi
  cp "$run/metrics.jsonl" "checkpoints/$name-metrics.jsonl"
  echo "saved $name (step $(grep -o '"step": [0-9]*' "$run/metrics.jsonl" | tail -1 | grep -o '[0-9]*'))" >&2
}
