#!/usr/bin/env bash
# Installs what the project needs on a fresh Debian machine; safe to run again (it skips what is there).
#   scripts/setup.sh            npm packages (enough for the demo)
#   scripts/setup.sh --all      also Debian's Chromium (browser tests), WordNet 3.0 (wordnet-base, the benchmark suite)
#                               and the Python tools (tools/setup.sh)
set -euo pipefail
cd "$(dirname "$0")/.."

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

# onnxruntime-node's postinstall would try to download GPU libraries; its CPU runtime ships in the package.
export ONNXRUNTIME_NODE_INSTALL=skip
stamp=node_modules/.package-lock.json
if [ ! -f "$stamp" ] || [ package-lock.json -nt "$stamp" ]; then
  echo "setup: installing npm packages (npm ci)…"
  npm ci --no-audit --no-fund
else
  echo "setup: npm packages are up to date."
fi

if [ "${1:-}" = "--all" ]; then
  if [ ! -x /usr/bin/chromium ]; then
    echo "setup: installing Debian's chromium (Playwright cannot download browsers here)…"
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  else
    echo "setup: $(/usr/bin/chromium --version 2>/dev/null | head -1) is installed."
  fi
  if [ ! -f /usr/share/wordnet/data.noun ]; then
    echo "setup: installing Debian's wordnet-base (WordNet 3.0 nouns: the semantic benchmark's ground truth)…"
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wordnet-base >/dev/null
  else
    echo "setup: WordNet 3.0 (wordnet-base) is installed."
  fi
  bash tools/setup.sh
fi
