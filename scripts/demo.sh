#!/usr/bin/env bash
# One command for a fresh machine: install, build the demo and the library, and serve both at http://localhost:5173/
# (`npm run build`: the demo page in dist/, the library in dist/lib/ and the examples in dist/examples/, which load it).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
npm run build
echo "demo: http://localhost:5173/   embed example: http://localhost:5173/examples/embed.html   (Ctrl+C stops it)"
exec npx vite preview --port 5173 --strictPort "$@"
