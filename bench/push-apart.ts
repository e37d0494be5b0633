/**
 * `npx tsx bench/push-apart.ts [--limit N] [--attack apgd,pgd]`: how far each attack (default APGD-100,
 * as the paper evaluates, and PGD-10 of 1/255; L∞ 4/255, seed 0) can push an image's embedding from
 * its own clean embedding — the attack panel's "push apart" objective — for each shipped model, on
 * the evaluation photos. Prints a table and writes bench/results/push-apart.json.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { attackLabel } from '../src/core/attack';
import { attackListOption, per255 } from '../src/core/options';
import { evaluationImageNames } from '../src/core/twoafc';
import { summarize } from '../src/core/stats';
import { folderEntries } from '../src/engine/node-images';
import { openModel } from '../src/engine/node-model';
import { markdownTable } from './markdown';

const root = path.resolve(import.meta.dirname, '..');
const { values } = parseArgs({ options: { limit: { type: 'string', default: '40' }, attack: { type: 'string' } } });
const attacks = attackListOption('attack', values.attack, 'apgd,pgd', 4 / 255, 0);
const dir = path.resolve(root, '../shared/data/imagenet-sample');
const images = evaluationImageNames(folderEntries(dir), Number(values.limit));
const index = JSON.parse(readFileSync(path.join(root, 'public/models/index.json'), 'utf8'));

const rows = [];
for (const id of [index.default, index.baseline]) {
  const m = await openModel(id);
  for (const settings of attacks) {
    const distances: number[] = [];
    const t0 = performance.now();
    for (const name of images) {
      const { rgba } = await m.engine.decode(path.join(dir, name));
      const outcome = await m.engine.attackDecoded(rgba, null, { model: m.ref, objective: 'push-apart', settings });
      distances.push(outcome.attacked.after);
    }
    const { n, mean, p10, median, p90, max } = summarize(distances);
    rows.push({ model: id, attack: attackLabel(settings), n, mean, p10, median, p90, max, seconds: +((performance.now() - t0) / 1000).toFixed(1) });
  }
  await m.engine.unloadModel(m.ref);
}
const f = (x: number) => x.toFixed(4);
const steps = attacks.map((a) => `${attackLabel(a)} ${a.method === 'apgd' ? 'first step' : 'step'} ${per255(a.stepSize)}`).join('; ');
const table = markdownTable(['model', 'attack', 'n', 'mean', 'p10', 'median', 'p90', 'max', 'seconds'], rows.map((r) => [r.model, r.attack, `${r.n}`, f(r.mean), f(r.p10), f(r.median), f(r.p90), f(r.max), `${r.seconds}`]));
process.stdout.write(`push-apart L∞ 4/255 (${steps}; seed 0): distance of the attacked image to its clean self, ${images.length} evaluation photos\n\n${table}\n`);
mkdirSync(path.join(root, 'bench/results'), { recursive: true });
writeFileSync(path.join(root, 'bench/results/push-apart.json'), JSON.stringify({ date: new Date().toISOString(), attacks, images: images.length, rows }, null, 1) + '\n');
