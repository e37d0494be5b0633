#!/usr/bin/env bash
# One command for a fresh machine: install, build, and serve the demo at http://localhost:5173/
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
npx vite build
echo "demo: http://localhost:5173/  (Ctrl+C stops it)"
exec npx vite preview --port 5173 --strictPort "$@"
