// Sums the machine-readable reports of every suite into one closing line: "total: N passed, N failed, N skipped",
// after naming each failed test with the first lines of its error: CI shows only the tail of the log, and a
// failure far up in it would otherwise be a count without a name.
import { existsSync, readFileSync } from 'node:fs';

const totals = { passed: 0, failed: 0, skipped: 0 };
const rows = [];
const failures = [];
function failure(suite, name, message) {
  const lines = String(message ?? '').replace(/\u001b\[[0-9;]*m/g, '').split('\n').filter((l) => l.trim());
  failures.push(`FAILED ${suite}: ${name}\n${lines.slice(0, 6).map((l) => `    ${l}`).join('\n')}`);
}
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
  for (const file of r.testResults ?? []) {
    for (const t of file.assertionResults ?? []) {
      if (t.status === 'failed') failure('vitest', `${file.name.replace(process.cwd() + '/', '')} › ${t.fullName}`, t.failureMessages?.join('\n'));
    }
    // A file that fails before its tests run (an import error) has no assertion results, only a message.
    if (file.status === 'failed' && !(file.assertionResults ?? []).some((t) => t.status === 'failed')) {
      failure('vitest', file.name.replace(process.cwd() + '/', ''), file.message);
    }
  }
} else missing('vitest');

const pw = 'test-results/playwright.json';
if (existsSync(pw)) {
  const report = JSON.parse(readFileSync(pw, 'utf8'));
  const s = report.stats;
  add('playwright', s.expected + s.flaky, s.unexpected, s.skipped);
  const walk = (suite, titles) => {
    for (const spec of suite.specs ?? []) {
      for (const test of spec.tests ?? []) {
        if (test.status !== 'unexpected') continue;
        const result = test.results?.at(-1);
        failure('playwright', `[${test.projectName}] ${spec.file}:${spec.line} › ${[...titles, spec.title].join(' › ')}`,
          result?.error?.message ?? result?.errors?.map((e) => e.message).join('\n'));
      }
    }
    for (const child of suite.suites ?? []) walk(child, suite.file === child.file ? [...titles, child.title] : titles);
  };
  for (const suite of report.suites ?? []) walk(suite, []);
} else missing('playwright');

const py = 'test-results/pytest.xml';
if (existsSync(py)) {
  const xml = readFileSync(py, 'utf8');
  const attr = (name) => Number((xml.match(new RegExp(`<testsuite[^>]*\\s${name}="(\\d+)"`)) ?? [])[1] ?? 0);
  const tests = attr('tests');
  const failed = attr('failures') + attr('errors');
  const skipped = attr('skipped');
  add('pytest', tests - failed - skipped, failed, skipped);
  for (const m of xml.matchAll(/<testcase[^>]*classname="([^"]*)"[^>]*name="([^"]*)"[^>]*>\s*<(failure|error) message="([^"]*)"/g)) {
    failure('pytest', `${m[1]}::${m[2]}`, m[4].replace(/&quot;/g, '"').replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&'));
  }
} else missing('pytest');

for (const f of failures) console.log(f);
for (const row of rows) console.log(row);
console.log(`total: ${totals.passed} passed, ${totals.failed} failed, ${totals.skipped} skipped`);
process.exit(totals.failed > 0 ? 1 : 0);
