#!/usr/bin/env bash
# bench/dedupe-million.ts in its four phases (see there). The project's background training (if any)
# is paused with SIGSTOP while the dedupe is timed and resumed by the trap whatever happens.
# Usage: bash bench/dedupe-million.sh [N=1000000]
set -euo pipefail
cd "$(dirname "$0")/.."
N="${1:-1000000}"
resume() { pkill -CONT -f rclip_tools.train || true; }
trap resume EXIT INT TERM
npx tsx bench/dedupe-million.ts --phase real
pkill -STOP -f rclip_tools.train || true
NODE_OPTIONS=--max-old-space-size=8192 npx tsx bench/dedupe-million.ts --phase timed "$N"
resume
npx tsx bench/dedupe-million.ts --phase recall "$N"
npx tsx bench/dedupe-million.ts --phase append "$N"
