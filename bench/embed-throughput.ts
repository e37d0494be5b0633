/**
 * `rclip embed` throughput against its two parts alone, in one run (issue 18):
 *   npx tsx bench/embed-throughput.ts [--images DIR] [--limit N] [--rounds 3] [--concurrency K] [--batches 1,8] [--model ID]
 * Per round, in an order rotated each round so that no measure always runs first:
 *   decoder alone    decodeImageFile (sharp, the CLI's decode: read, sniff, rotate, RGBA) on every file, K in flight
 *   decoder alone, RGB   the same as the decode workers call it: RGB out for an image without alpha
 *   ORT alone        onnxruntime-node on the same model (1 thread, as bulk embedding runs it), the files'
 *                    preprocessed tensors prepared beforehand, one run per image
 *   embed pipeline   embedFiles as `rclip embed` runs it (decode + preprocess on the worker threads, K in
 *                    flight, ORT on this thread), once per batch size
 *   rclip embed      the real command in a new process (start-up and writing the .npy included)
 * images/s and CPU ms per image (process.cpuUsage: every thread of this process) for each; the
 * medians over rounds and the ratio embed pipeline / decoder alone (median of per-round ratios).
 * Writes results/embed-throughput.json; prints a Markdown table.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { decodeImageFile } from '../src/engine/node';
import { closeDecodePool, DECODE_WORKERS } from '../src/engine/node-decode-pool';
import { expandImageArgs } from '../src/engine/node-images';
import { DEFAULT_EMBED_CONCURRENCY, EMBED_THREADS, embedFiles, openModel } from '../src/engine/node-model';
import type { PixelTensor } from '../src/core/preprocess';

const root = path.resolve(import.meta.dirname, '..');
const { values } = parseArgs({
  options: {
    images: { type: 'string', default: path.resolve(root, '../shared/data/imagenet-sample') },
    limit: { type: 'string' },
    rounds: { type: 'string', default: '3' },
    concurrency: { type: 'string', default: String(DEFAULT_EMBED_CONCURRENCY) },
    batches: { type: 'string', default: '1,8' },
    model: { type: 'string' },
  },
});
if (!existsSync(values.images!)) {
  console.error(`bench/embed-throughput: ${values.images} is absent (the shared photos); nothing measured.`);
  process.exit(1);
}
const all = expandImageArgs([values.images!]);
const files = values.limit ? all.slice(0, Number(values.limit)) : all;
const rounds = Number(values.rounds);
const concurrency = Number(values.concurrency);
const batches = values.batches!.split(',').map(Number);

const model = await openModel(values.model, { threads: EMBED_THREADS });
const input = model.info.manifest.input;

interface Sample {
  imagesPerSecond: number;
  cpuMsPerImage: number;
}
async function measure(work: () => Promise<unknown>): Promise<Sample> {
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await work();
  const seconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  return { imagesPerSecond: files.length / seconds, cpuMsPerImage: (cpu.user + cpu.system) / 1000 / files.length };
}

async function inFlight(k: number, each: (file: string) => Promise<unknown>) {
  let next = 0;
  await Promise.all(Array.from({ length: k }, async () => {
    while (next < files.length) await each(files[next++]);
  }));
}

// ORT alone gets the tensors the pipeline would feed it, prepared once, outside the timing.
const pixels: PixelTensor[] = [];
for (const f of files) pixels.push(await model.engine.pixelsFor(model.ref, await decodeImageFile(f)));
// Warm-up: the model's first runs and the decode workers' start-up.
await embedFiles(model, files.slice(0, 16), { concurrency, strict: true });

const out = mkdtempSync(path.join(tmpdir(), 'rclip-bench-'));
const measures: Record<string, () => Promise<unknown>> = {
  'decoder alone': () => inFlight(concurrency, decodeImageFile),
  'decoder alone, RGB': () => inFlight(concurrency, (f) => decodeImageFile(f, { rgb: true })),
  'ORT alone': async () => {
    for (const p of pixels) await model.engine.embedPixels(model.ref, [p]);
  },
  ...Object.fromEntries(batches.map((b) => [`embed pipeline, batch ${b}`, () => embedFiles(model, files, { concurrency, batchSize: b, strict: true })])),
  // The folder, as users pass it (and only without --limit: ~500 file arguments make onnxruntime-node
  // 1.30's InferenceSession.create crash with SIGSEGV, bench/README.md).
  ...(values.limit
    ? {}
    : {
        'rclip embed (new process)': async () => {
          const args = [path.join(root, 'bin/rclip.mjs'), 'embed', values.images!, '--out', path.join(out, 'e.npy'), ...(values.model ? ['--model', values.model] : [])];
          execFileSync(process.execPath, args, { stdio: ['ignore', 'ignore', 'ignore'] });
        },
      }),
};
const names = Object.keys(measures);
const samples: Record<string, Sample[]> = Object.fromEntries(names.map((n) => [n, []]));
const loadBefore = loadavg();
for (let r = 0; r < rounds; r++) {
  for (let i = 0; i < names.length; i++) {
    const name = names[(i + r) % names.length];
    samples[name].push(await measure(measures[name]));
    console.error(`round ${r + 1}/${rounds} ${name}: ${samples[name].at(-1)!.imagesPerSecond.toFixed(0)} images/s`);
  }
}
const loadAfter = loadavg();
rmSync(out, { recursive: true, force: true });
await closeDecodePool();

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const rows = names.map((name) => ({
  what: name,
  imagesPerSecond: +median(samples[name].map((s) => s.imagesPerSecond)).toFixed(1),
  perRound: samples[name].map((s) => +s.imagesPerSecond.toFixed(1)),
  // The new process's CPU is not this process's: not measured.
  cpuMsPerImage: name.startsWith('rclip embed') ? null : +median(samples[name].map((s) => s.cpuMsPerImage)).toFixed(2),
  vsDecoder: +median(samples[name].map((s, r) => s.imagesPerSecond / samples['decoder alone'][r].imagesPerSecond)).toFixed(2),
}));
const result = {
  date: new Date().toISOString(),
  command: `npx tsx bench/embed-throughput.ts ${process.argv.slice(2).join(' ')}`.trim(),
  images: values.images,
  files: files.length,
  model: model.info.id,
  inputSize: input.size,
  concurrency,
  decodeWorkers: DECODE_WORKERS,
  ortThreads: EMBED_THREADS,
  rounds,
  machine: { cpu: cpus()[0]?.model, cores: cpus().length, node: process.version, loadavgBefore: loadBefore, loadavgAfter: loadAfter },
  rows,
};
writeFileSync(path.join(root, 'bench/results/embed-throughput.json'), JSON.stringify(result, null, 2) + '\n');
console.log(`| what | images/s (median of ${rounds}) | per round | CPU ms per image | ÷ decoder alone |\n| --- | --- | --- | --- | --- |`);
for (const r of rows) console.log(`| ${r.what} | ${r.imagesPerSecond} | ${r.perRound.join(' / ')} | ${r.cpuMsPerImage ?? '—'} | ${r.vsDecoder} |`);
console.log(`\n${files.length} files of ${values.images}, ${model.info.id} (${input.size} px), ${concurrency} in flight, ${DECODE_WORKERS} decode workers, ORT ${EMBED_THREADS} thread; load average ${loadBefore.map((x) => x.toFixed(1)).join(' ')} → ${loadAfter.map((x) => x.toFixed(1)).join(' ')}`);
