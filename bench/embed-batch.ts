/**
 * `rclip embed`'s batch size, and a pair in one run vs two, in onnxruntime-node:
 *   npx tsx bench/embed-batch.ts [--model ID|FOLDER]... [--images 64] [--batches 1,4,8,16,32] [--reps 3]
 * End to end as the CLI runs it (embedFiles: decode, preprocess, one ORT run per batch), best of
 * --reps over --images files (the sample photos, repeated); prints a Markdown table and JSON.
 */
import path from 'node:path';
import { parseArgs } from 'node:util';
import { embedFiles, openModel } from '../src/engine/node-model';
import { markdownTable } from './markdown';

const { values } = parseArgs({
  options: {
    model: { type: 'string', multiple: true },
    images: { type: 'string', default: '64' },
    batches: { type: 'string', default: '1,4,8,16,32' },
    reps: { type: 'string', default: '3' },
  },
});
const samples = path.resolve(import.meta.dirname, '../public/samples');
const photos = ['sunset.jpg', 'sunset-shifted.jpg', 'meadow.jpg'].map((f) => path.join(samples, f));
const files = Array.from({ length: Number(values.images) }, (_, i) => photos[i % photos.length]);
const batches = values.batches!.split(',').map(Number);
const reps = Number(values.reps);
const best = async (f: () => Promise<unknown>) => {
  let min = Infinity;
  for (let r = 0; r < reps; r++) {
    const t0 = performance.now();
    await f();
    min = Math.min(min, performance.now() - t0);
  }
  return min;
};

const rows: Array<Record<string, string | number>> = [];
for (const spec of values.model ?? [undefined]) {
  const m = await openModel(spec);
  const { threads } = await m.engine.backendInfo();
  await embedFiles(m, files.slice(0, 4), { batchSize: 4 }); // warm-up
  for (const batch of batches) {
    const ms = await best(() => embedFiles(m, files, { batchSize: batch }));
    rows.push({ model: m.info.id, size: m.info.manifest.input.size, threads, what: `embed ${files.length} files, batch ${batch}`, ms: +ms.toFixed(1), imagesPerSecond: +((1000 * files.length) / ms).toFixed(0) });
  }
  // One pair: both images in one run (what compare/distance do) vs one run each, inference only.
  const pixels = await Promise.all(photos.slice(0, 2).map(async (f) => m.engine.pixelsFor(m.ref, (await m.engine.decode(f)).rgba)));
  const pairRounds = 20;
  const together = await best(async () => {
    for (let i = 0; i < pairRounds; i++) await m.engine.embedPixels(m.ref, pixels);
  });
  const apart = await best(async () => {
    for (let i = 0; i < pairRounds; i++) for (const p of pixels) await m.engine.embedPixels(m.ref, [p]);
  });
  rows.push({ model: m.info.id, size: m.info.manifest.input.size, threads, what: 'pair, one run of 2', ms: +(together / pairRounds).toFixed(2), imagesPerSecond: +((2000 * pairRounds) / together).toFixed(0) });
  rows.push({ model: m.info.id, size: m.info.manifest.input.size, threads, what: 'pair, two runs of 1', ms: +(apart / pairRounds).toFixed(2), imagesPerSecond: +((2000 * pairRounds) / apart).toFixed(0) });
  await m.engine.unloadModel(m.ref);
}
console.log(markdownTable(['model', 'input', 'threads', 'what', 'ms', 'images/s'], rows.map((r) => ['model', 'size', 'threads', 'what', 'ms', 'imagesPerSecond'].map((key) => `${r[key]}`))));
console.log(JSON.stringify(rows));
