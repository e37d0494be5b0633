// Sums the machine-readable reports of every suite into one closing line: "total: N passed, N failed, N skipped".
import { existsSync, readFileSync } from 'node:fs';

const totals = { passed: 0, failed: 0, skipped: 0 };
const rows = [];
function add(suite, passed, failed, skipped) {
  totals.passed += passed;
  totals.failed += failed;
  totals.skipped += skipped;
  rows.push(`${suite}: ${passed} passed, ${failed} failed, ${skipped} skipped`);
}
function missing(suite) {
  totals.failed += 1;
  rows.push(`${suite}: no report (the suite did not run to the end) — counted as 1 failure`);
}

const vitest = 'test-results/vitest.json';
if (existsSync(vitest)) {
  const r = JSON.parse(readFileSync(vitest, 'utf8'));
  add('vitest', r.numPassedTests, r.numFailedTests, r.numPendingTests + (r.numTodoTests ?? 0));
} else missing('vitest');

const pw = 'test-results/playwright.json';
if (existsSync(pw)) {
  const s = JSON.parse(readFileSync(pw, 'utf8')).stats;
  add('playwright', s.expected + s.flaky, s.unexpected, s.skipped);
} else missing('playwright');

const py = 'test-results/pytest.xml';
if (existsSync(py)) {
  const xml = readFileSync(py, 'utf8');
  const attr = (name) => Number((xml.match(new RegExp(`<testsuite[^>]*\\s${name}="(\\d+)"`)) ?? [])[1] ?? 0);
  const tests = attr('tests');
  const failed = attr('failures') + attr('errors');
  const skipped = attr('skipped');
  add('pytest', tests - failed - skipped, failed, skipped);
} else missing('pytest');

for (const row of rows) console.log(row);
console.log(`total: ${totals.passed} passed, ${totals.failed} failed, ${totals.skipped} skipped`);
process.exit(totals.failed > 0 ? 1 : 0);
