/**
 * `npx tsx bench/record-measured.ts SUITE.json [SUITE.json …] [--write]`: the benchmark suite's
 * figures for each model it scored, as that model's manifest `robustness.measured` (one entry per
 * attack radius, with the command that reproduces it). Prints them; --write puts them into
 * public/models/<ID>/manifest.json, so the manifests never carry hand-copied numbers.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { validateManifest } from '../src/core/manifest';
import type { SuiteJson } from './suite/main';

const root = path.resolve(import.meta.dirname, '..');
const { values, positionals } = parseArgs({ options: { write: { type: 'boolean' } }, allowPositionals: true });
if (!positionals.length) throw new Error('usage: npx tsx bench/record-measured.ts SUITE.json [SUITE.json …] [--write]');

const round = (x: number | null) => (x === null ? null : +x.toFixed(4));
const eps255 = (eps: number) => `${+(eps * 255).toFixed(2)}/255`;

const runs = positionals.map((file) => ({ file: path.relative(root, path.resolve(file)), suite: JSON.parse(readFileSync(file, 'utf8')) as SuiteJson }));
const byModel = new Map<string, Array<Record<string, unknown>>>();
for (const { file, suite } of runs) {
  const { sizes, attack } = suite;
  const args = [sizes.items === null ? '' : `--items ${sizes.items}`, `--attacked ${sizes.attacked}`, sizes.gallery === null ? '' : `--gallery ${sizes.gallery}`, attack.eps === 4 / 255 ? '' : `--eps ${eps255(attack.eps as number)}`];
  const tasks = suite.tasks.filter((t) => t.scores);
  if (tasks.length < 4) args.push(`--tasks ${tasks.map((t) => t.task).join(',')}`);
  for (const model of suite.models) {
    const entry = {
      attack: `PGD-${attack.steps} L-inf ${eps255(attack.eps as number)}, step ${eps255(attack.step_size as number)}, on this model's input pixels through attack.onnx, towards the wrong answer; robust = share right at every step and on clean images`,
      eps: attack.eps,
      date: suite.date.slice(0, 10),
      tasks: Object.fromEntries(
        tasks.map((t) => {
          const s = t.scores![model.id];
          return [t.task, { n: s.n, clean: round(s.clean), attacked_n: s.attacked_n, clean_on_attacked: round(s.clean_on_attacked), robust: round(s.robust) }];
        }),
      ),
      command: `npm run bench -- --suite ${args.filter(Boolean).join(' ')} --out ${file}`,
    };
    byModel.set(model.id, [...(byModel.get(model.id) ?? []), entry]);
  }
}

for (const [id, entries] of byModel) {
  const measured = {
    benchmark: 'benchmark suite (docs/benchmark-suite.md) on the evaluation photos of ../shared/data (imagenet-sample i % 5 == 4; flowers i % 5 == 4 for 5-NN), seed 0',
    runs: [...entries].sort((a, b) => (b.eps as number) - (a.eps as number)),
  };
  process.stdout.write(`${id}: ${JSON.stringify(measured, null, 1)}\n`);
  if (!values.write) continue;
  const file = path.join(root, 'public/models', id, 'manifest.json');
  const manifest = JSON.parse(readFileSync(file, 'utf8'));
  const training = manifest.robustness.measured?.training_proxy;
  manifest.robustness.measured = { ...measured, ...(training ? { training_proxy: training } : {}) };
  validateManifest(manifest, file);
  writeFileSync(file, `${JSON.stringify(manifest, null, 2)}\n`);
  process.stdout.write(`wrote robustness.measured into ${path.relative(root, file)}\n`);
}
