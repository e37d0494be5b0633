/**
 * What one Square query costs the suite's SSIM and pixelmatch peers: the query (an evaluation photo at
 * 128×128, one square of ±4/255 levels changed from the best point so far, kept one time in five) against
 * 12 other photos, as the gallery tasks ask. The libraries called whole (ssim.js, pixelmatch) against the
 * suite's metrics (bench/suite/ssim.ts, bench/suite/pixelmatch-share.ts), alternated in one run, so the
 * ratios hold on a busy machine. Writes bench/results/suite-peer-speed.json.
 *   npx tsx bench/suite-peer-speed.ts [--queries 200] [--rounds 3]
 */
import { existsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import pixelmatch from 'pixelmatch';
import { ssim } from 'ssim.js';
import { pixelsToRgba, toModelPixels, type RgbaImage } from '../src/core/preprocess';
import { seededRandom } from '../src/core/random';
import { evaluationImageNames } from '../src/core/twoafc';
import { decodeImageFile } from '../src/engine/node';
import { folderEntries } from '../src/engine/node-images';
import { markdownTable } from './markdown';
import { pixelmatchShare } from './suite/pixelmatch-share';
import { meanSsim, ssimFeatures } from './suite/ssim';

const root = path.resolve(import.meta.dirname, '..');
const DATA = path.resolve(root, '../shared/data/imagenet-sample');
const { values } = parseArgs({ options: { queries: { type: 'string', default: '200' }, rounds: { type: 'string', default: '3' } } });
if (!existsSync(DATA)) {
  console.error(`bench/suite-peer-speed: ${DATA} is absent (the shared photos); nothing measured.`);
  process.exit(1);
}
const QUERIES = Number(values.queries);
const ROUNDS = Number(values.rounds);
const SIZE = 128;
const photos = await Promise.all(evaluationImageNames(folderEntries(DATA), 13).map(async (name) => pixelsToRgba(toModelPixels(await decodeImageFile(path.join(DATA, name)), { size: SIZE, background: [0, 0, 0] }))));
const [start, ...gallery] = photos;

/** A Square-like walk of `QUERIES` candidates with squares of `side` px; `compare` sees each against every gallery photo. */
function walk(side: number, compare: (query: RgbaImage) => void): number {
  const random = seededRandom(side);
  let best = start;
  const t0 = performance.now();
  for (let q = 0; q < QUERIES; q++) {
    const data = Uint8ClampedArray.from(best.data);
    const x0 = Math.floor(random() * (SIZE - side + 1));
    const y0 = Math.floor(random() * (SIZE - side + 1));
    for (let y = y0; y < y0 + side; y++) for (let x = x0; x < x0 + side; x++) for (let c = 0; c < 3; c++) data[(y * SIZE + x) * 4 + c] += random() < 0.5 ? -4 : 4;
    const candidate = { width: SIZE, height: SIZE, data };
    compare(candidate);
    if (random() < 0.2) best = candidate;
  }
  return (performance.now() - t0) / QUERIES;
}

const galleryFeatures = gallery.map(ssimFeatures);
const contenders = {
  'ssim.js': (q: RgbaImage) => gallery.forEach((g) => ssim(q as ImageData, g as ImageData)),
  'suite SSIM (ssim.ts)': (q: RgbaImage) => {
    const f = ssimFeatures(q);
    galleryFeatures.forEach((g) => meanSsim(f, g));
  },
  pixelmatch: (q: RgbaImage) => gallery.forEach((g) => pixelmatch(q.data, g.data, undefined, SIZE, SIZE, { threshold: 0.1 })),
  'suite pixelmatch (pixelmatch-share.ts)': (q: RgbaImage) => gallery.forEach((g) => pixelmatchShare(q, g)),
};
const SIDES = [6, 16, 40];
const times: Record<string, Record<number, number[]>> = Object.fromEntries(Object.keys(contenders).map((k) => [k, Object.fromEntries(SIDES.map((s) => [s, [] as number[]]))]));
for (let r = 0; r < ROUNDS; r++) for (const side of SIDES) for (const [name, compare] of Object.entries(contenders)) times[name][side].push(walk(side, compare));
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const ms = Object.fromEntries(Object.entries(times).map(([name, bySide]) => [name, Object.fromEntries(SIDES.map((s) => [s, +median(bySide[s]).toFixed(2)]))]));
const rows = SIDES.map((s) => [`${s} px`, `${ms['ssim.js'][s]}`, `${ms['suite SSIM (ssim.ts)'][s]}`, `${(ms['ssim.js'][s] / ms['suite SSIM (ssim.ts)'][s]).toFixed(1)}×`, `${ms.pixelmatch[s]}`, `${ms['suite pixelmatch (pixelmatch-share.ts)'][s]}`, `${(ms.pixelmatch[s] / ms['suite pixelmatch (pixelmatch-share.ts)'][s]).toFixed(1)}×`]);
const table = [
  `ms per Square query against ${gallery.length} photos (128×128; median of ${ROUNDS} rounds of ${QUERIES} queries, alternated in one run)`,
  '',
  markdownTable(['square side', 'ssim.js', 'suite SSIM', 'ratio', 'pixelmatch', 'suite pixelmatch', 'ratio'], rows),
].join('\n');
console.log(table);
const out = path.join(root, 'bench/results/suite-peer-speed.json');
writeFileSync(out, JSON.stringify({ date: new Date().toISOString(), queries: QUERIES, rounds: ROUNDS, gallery: gallery.length, size: SIZE, ms_per_query: ms, table }, null, 1) + '\n');
console.log(`written: ${path.relative(root, out)}`);
