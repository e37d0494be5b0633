/**
 * `npx tsx bench/distance-bands.ts [--model ID] [--limit N]`: where a model's distances fall on the
 * 2AFC evaluation photos (clean, seed 0), per kind of copy — the evidence behind the model's calibration
 * (bench/calibrate.ts). Prints a table and writes bench/results/distance-bands-<model>.json.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { pairsWithin, toMatrix } from '../src/core/nearest';
import { summarize } from '../src/core/stats';
import { KINDS } from '../src/core/twoafc';
import { UNRELATED_PAIRS } from '../src/core/calibration';
import { runFolderTwoAfc } from '../src/engine/node-eval';
import { embedFiles, openModel, twoAfcModel } from '../src/engine/node-model';
import { markdownTable } from './markdown';

const root = path.resolve(import.meta.dirname, '..');
const { values } = parseArgs({ options: { model: { type: 'string', default: 'rclip-mnv2-robust' }, limit: { type: 'string' } } });
const dir = path.resolve(root, '../shared/data/imagenet-sample');
const opened = await openModel(values.model!);
const { results, images } = await runFolderTwoAfc(await twoAfcModel(opened, false), dir, { limit: values.limit ? Number(values.limit) : undefined, seed: 0, attack: null });

const quantiles = (xs: number[]) => {
  const { n, min, p10, median, p90, max } = summarize(xs);
  return { n, min, p10, median, p90, max };
};
const rows = KINDS.flatMap((kind) => {
  const rs = results.filter((r) => r.triplet.kind === kind);
  const closer = kind === 'augmented' ? 'augmented copy' : `${kind}, mild`;
  const farther = kind === 'augmented' ? 'another photo' : `${kind}, strong`;
  return [
    { copy: closer, ...quantiles(rs.map((r) => r.dCorrect)) },
    { copy: farther, ...quantiles(rs.map((r) => r.dWrong)) },
  ];
});
// Every pair of the evaluation photos (different photos, mostly different classes): the lower tail of
// unrelated distances, which 160 "another photo" pairs sample too thinly for a dedupe threshold.
const embedded = await embedFiles(opened, images.map((name) => path.join(dir, name)), { strict: true });
const unrelated: number[] = [];
pairsWithin(toMatrix(embedded.embeddings, undefined, true), 2, (_i, _j, d) => unrelated.push(d));
rows.push({ copy: UNRELATED_PAIRS, ...quantiles(unrelated) });
const f = (x: number) => x.toFixed(4);
const table = markdownTable(['copy', 'n', 'min', 'p10', 'median', 'p90', 'max'], rows.map((r) => [r.copy, `${r.n}`, f(r.min), f(r.p10), f(r.median), f(r.p90), f(r.max)]));
process.stdout.write(`distances of ${values.model} to the reference, ${images.length} evaluation photos\n\n${table}\n`);
mkdirSync(path.join(root, 'bench/results'), { recursive: true });
writeFileSync(path.join(root, `bench/results/distance-bands-${values.model}.json`), JSON.stringify({ model: values.model, images: images.length, seed: 0, rows }, null, 1) + '\n');
await opened.engine.unloadModel(opened.ref);
