/**
 * `npx tsx bench/jpeg-reencode.ts [--limit 48] [--qualities 90,75,50] [--model ID]...`: how far a plain JPEG
 * re-encode moves a photo under each model. Each of the first `limit` evaluation photos of
 * ../shared/data/imagenet-sample is decoded (EXIF-rotated, as the CLI decodes it), written again as a JPEG
 * at each quality by sharp, and both files are embedded by the real Node engine (onnxruntime-node, the
 * CLI's decode and preprocessing); the figure is the cosine distance between the two embeddings. Beside it,
 * the distances between different photos of the same set, for scale. Prints a table and writes
 * bench/results/jpeg-reencode.json.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import sharp from 'sharp';
import { cosineDistance } from '../src/core/distance';
import { summarize } from '../src/core/stats';
import { evaluationImageNames } from '../src/core/twoafc';
import { closeDecodePool } from '../src/engine/node-decode-pool';
import { indexModels } from '../src/engine/node-eval';
import { folderEntries } from '../src/engine/node-images';
import { embedFiles, openModel } from '../src/engine/node-model';
import { markdownTable } from './markdown';

const root = path.resolve(import.meta.dirname, '..');
const { values } = parseArgs({
  options: {
    limit: { type: 'string', default: '48' },
    qualities: { type: 'string', default: '90,75,50' },
    model: { type: 'string', multiple: true },
  },
});
const limit = Number(values.limit);
const qualities = values.qualities!.split(',').map(Number);
if (!Number.isInteger(limit) || limit < 2) throw new Error(`--limit must be an integer ≥ 2, got "${values.limit}".`);
if (qualities.some((q) => !Number.isInteger(q) || q < 1 || q > 100)) throw new Error(`--qualities must be integers 1–100, got "${values.qualities}".`);

const dir = path.resolve(root, '../shared/data/imagenet-sample');
const photos = evaluationImageNames(folderEntries(dir), limit);
if (photos.length < limit) throw new Error(`${dir} holds ${photos.length} evaluation photos, fewer than --limit ${limit}.`);
const index = await indexModels();
const models = values.model ?? [index.default, index.baseline];

const work = mkdtempSync(path.join(tmpdir(), 'rclip-jpeg-'));
const originals = photos.map((name) => path.join(dir, name));
const copies = new Map<number, string[]>();
for (const q of qualities) {
  const files = await Promise.all(
    originals.map(async (file, i) => {
      const out = path.join(work, `q${q}-${i}.jpg`);
      await sharp(file).rotate().jpeg({ quality: q }).toFile(out);
      return out;
    }),
  );
  copies.set(q, files);
}

const f = (x: number) => x.toFixed(5);
const results = [];
for (const id of models) {
  const opened = await openModel(id);
  const threshold = opened.info.manifest.calibration?.dedupeThreshold;
  const embed = async (files: string[]) => (await embedFiles(opened, files, { strict: true })).embeddings;
  const clean = await embed(originals);
  const unrelated: number[] = [];
  for (let i = 0; i < clean.length; i++) for (let j = i + 1; j < clean.length; j++) unrelated.push(cosineDistance(clean[i], clean[j]));
  const perQuality = [];
  for (const q of qualities) {
    const moved = await embed(copies.get(q)!);
    const distances = moved.map((e, i) => cosineDistance(clean[i], e));
    const beyondThreshold = threshold === undefined ? null : distances.filter((d) => d > threshold).length;
    perQuality.push({ quality: q, ...summarize(distances), beyondThreshold, distances });
  }
  results.push({ model: id, dedupeThreshold: threshold ?? null, encoder_sha256: opened.info.manifest.files.encoder.sha256, unrelated: summarize(unrelated), perQuality });
  await opened.engine.unloadModel(opened.ref);
}
await closeDecodePool();
rmSync(work, { recursive: true, force: true });

const table = markdownTable(
  ['model', 'pair', 'min', 'median', 'p90', 'max', 'median, % of the median between different photos', 'pairs beyond the dedupe threshold'],
  results.flatMap((r) => [
    ...r.perQuality.map((p) => [r.model, `photo → its JPEG q${p.quality}`, f(p.min), f(p.median), f(p.p90), f(p.max), `${((100 * p.median) / r.unrelated.median).toPrecision(2)} %`, p.beyondThreshold === null ? '—' : `${p.beyondThreshold} of ${p.n} (> ${r.dedupeThreshold})`]),
    [r.model, 'two different photos', f(r.unrelated.min), f(r.unrelated.median), f(r.unrelated.p90), f(r.unrelated.max), '100 %', '—'],
  ]),
);
process.stdout.write(`cosine distance from each photo to its JPEG re-encode, ${photos.length} evaluation photos of imagenet-sample (decoded, EXIF-rotated, re-encoded by sharp)\n\n${table}\n`);
mkdirSync(path.join(root, 'bench/results'), { recursive: true });
const out = path.join(root, 'bench/results/jpeg-reencode.json');
writeFileSync(out, JSON.stringify({ command: `npx tsx bench/jpeg-reencode.ts --limit ${limit} --qualities ${qualities.join(',')}`, photos, qualities, results, table }, null, 1) + '\n');
process.stdout.write(`\nwrote ${path.relative(root, out)}\n`);
