#!/usr/bin/env bash
# One command for a fresh machine: install everything, then run every suite (types, unit, browser, Python).
# Every suite runs even when an earlier one fails; the last line sums them up.
set -uo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --all || { echo "setup failed"; exit 1; }

mkdir -p test-results
rm -f test-results/vitest.json test-results/playwright.json test-results/pytest.xml
status=0
step() { echo; echo "=== $1"; shift; "$@" || status=1; }

step "typecheck" npx tsc --noEmit -p tsconfig.json
step "unit tests (vitest)" npx vitest run --reporter=default --reporter=json --outputFile.json=test-results/vitest.json
step "build (app + library)" npm run build
PLAYWRIGHT_JSON_OUTPUT_NAME=test-results/playwright.json \
  step "browser tests (playwright, Debian chromium)" npx playwright test --reporter=list,json
step "python tools (pytest)" /usr/bin/python3 -m pytest tools/tests -q --junitxml=test-results/pytest.xml

echo
node scripts/summarize-tests.mjs || status=1
exit $status
