/**
 * `npx tsx bench/push-apart.ts [--limit N]`: how far the paper's attack (PGD-10, L∞ 4/255, step
 * 1/255, seed 0) can push an image's embedding from its own clean embedding — the attack panel's
 * "push apart" objective — for each shipped model, on the evaluation photos. Prints a table and
 * writes bench/results/push-apart.json.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { PAPER_DEFAULTS } from '../src/core/attack';
import { evaluationImageNames } from '../src/core/twoafc';
import { summarize } from '../src/core/stats';
import { folderEntries } from '../src/engine/node-images';
import { openModel } from '../src/engine/node-model';

const root = path.resolve(import.meta.dirname, '..');
const { values } = parseArgs({ options: { limit: { type: 'string', default: '40' } } });
const dir = path.resolve(root, '../shared/data/imagenet-sample');
const images = evaluationImageNames(folderEntries(dir), Number(values.limit));
const index = JSON.parse(readFileSync(path.join(root, 'public/models/index.json'), 'utf8'));

const rows = [];
for (const id of [index.default, index.baseline]) {
  const m = await openModel(id);
  const distances: number[] = [];
  for (const name of images) {
    const { rgba } = await m.engine.decode(path.join(dir, name));
    const outcome = await m.engine.attackDecoded(rgba, null, { model: m.ref, objective: 'push-apart', settings: PAPER_DEFAULTS });
    distances.push(outcome.attacked.after);
  }
  const { n, mean, p10, median, p90, max } = summarize(distances);
  rows.push({ model: id, n, mean, p10, median, p90, max });
  await m.engine.unloadModel(m.ref);
}
const f = (x: number) => x.toFixed(4);
process.stdout.write(`push-apart PGD-10 L∞ 4/255 (step 1/255, seed 0): distance of the attacked image to its clean self, ${images.length} evaluation photos\n\n| model | n | mean | p10 | median | p90 | max |\n| --- | --- | --- | --- | --- | --- | --- |\n`);
for (const r of rows) process.stdout.write(`| ${r.model} | ${r.n} | ${f(r.mean)} | ${f(r.p10)} | ${f(r.median)} | ${f(r.p90)} | ${f(r.max)} |\n`);
mkdirSync(path.join(root, 'bench/results'), { recursive: true });
writeFileSync(path.join(root, 'bench/results/push-apart.json'), JSON.stringify({ date: new Date().toISOString(), attack: PAPER_DEFAULTS, images: images.length, rows }, null, 1) + '\n');
