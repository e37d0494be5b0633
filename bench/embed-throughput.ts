/**
 * `rclip embed` throughput against its two parts alone, in one run:
 *   npx tsx bench/embed-throughput.ts [--images DIR] [--limit N] [--rounds 3] [--concurrency K] [--batches 1,8] [--model ID]
 *                                     [--installed DIR | --install]
 * Per round, in an order rotated each round so that no measure always runs first:
 *   decoder alone    decodeImageFile (sharp, the CLI's decode: read, sniff, rotate, RGBA) on every file, K in flight
 *   decoder alone, RGB   the same as the decode workers call it: RGB out for an image without alpha
 *   ORT alone        onnxruntime-node on the same model (1 thread, as bulk embedding runs it), the files'
 *                    preprocessed tensors prepared beforehand, one run per image
 *   embed pipeline   embedFiles as `rclip embed` runs it (decode + preprocess on the worker threads, K in
 *                    flight, ORT on this thread), once per batch size
 *   rclip embed (checkout, through tsx)   the real command in a new process (start-up and writing the
 *                    .npy included), bin/rclip.mjs of this checkout: the TypeScript sources through tsx,
 *                    in the main thread and in each decode worker (what developers run)
 *   rclip embed (installed package)   the same command from the package as a user installs it (built
 *                    JavaScript, dist/cli/): DIR/app/node_modules/.bin/rclip, run as a user runs it
 *                    (its shebang, the same node first on PATH, cwd DIR/app); only with --installed or --install
 * --installed DIR: the packed checkout installed in DIR/app by e2e/installed-package.ts (as
 * e2e/package.spec.ts installs it); when DIR/app has no rclip yet, the bench builds the package
 * (`npm run build:lib`, what `npm pack` ships), packs and installs it there, and keeps it for the
 * next run. --install: the same into a fresh temporary folder, removed afterwards. The installed
 * command must write the same .npy as the checkout's (checked on the last round's files; the JSON says).
 * images/s and CPU ms per image (process.cpuUsage: every thread of this process; for a new process,
 * its own CPU, every thread, from this process's reaped-children times in /proc/self/stat) for each;
 * the medians over rounds and the ratio to the decoder alone (median of per-round ratios).
 * Writes results/embed-throughput.json; prints a Markdown table.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { decodeImageFile } from '../src/engine/node';
import { closeDecodePool, DECODE_WORKERS } from '../src/engine/node-decode-pool';
import { expandImageArgs } from '../src/engine/node-images';
import { DEFAULT_EMBED_CONCURRENCY, EMBED_THREADS, embedFiles, openModel } from '../src/engine/node-model';
import type { PixelTensor } from '../src/core/preprocess';
import { installPackedPackage } from '../e2e/installed-package';
import { inFlight, measureRate, runRclipEmbed, type RateSample, type RclipEmbedPrinted } from './embed-rate';
import { markdownTable } from './markdown';

const root = path.resolve(import.meta.dirname, '..');
const { values } = parseArgs({
  options: {
    images: { type: 'string', default: path.resolve(root, '../shared/data/imagenet-sample') },
    limit: { type: 'string' },
    rounds: { type: 'string', default: '3' },
    concurrency: { type: 'string', default: String(DEFAULT_EMBED_CONCURRENCY) },
    batches: { type: 'string', default: '1,8' },
    model: { type: 'string' },
    installed: { type: 'string' },
    install: { type: 'boolean', default: false },
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
if (values.installed && values.install) {
  console.error('bench/embed-throughput: --installed DIR or --install, not both.');
  process.exit(1);
}

/** The package as a user installs it (--installed DIR, --install), installed first where it is not yet. */
async function installedPackage() {
  const dir = values.install ? mkdtempSync(path.join(tmpdir(), 'rclip-bench-package-')) : path.resolve(values.installed!);
  const app = path.join(dir, 'app');
  const bin = path.join(app, 'node_modules/.bin/rclip');
  const marker = path.join(dir, 'built-from.json');
  let installedNow = false;
  if (!existsSync(bin)) {
    console.error(`bench/embed-throughput: building the package and installing it in ${dir}/app …`);
    execFileSync('npm', ['run', 'build:lib'], { cwd: root, stdio: ['ignore', 'ignore', 'inherit'] });
    mkdirSync(dir, { recursive: true });
    await installPackedPackage(dir);
    const git = (...args: string[]) => execFileSync('git', args, { cwd: root, encoding: 'utf8' }).trim();
    writeFileSync(marker, JSON.stringify({ commit: git('rev-parse', 'HEAD'), uncommitted: git('status', '--porcelain', '--untracked-files=no').split('\n').filter(Boolean), date: new Date().toISOString() }, null, 2) + '\n');
    installedNow = true;
  }
  const version = (pkg: string) => JSON.parse(readFileSync(path.join(app, 'node_modules', pkg, 'package.json'), 'utf8')).version as string;
  return {
    dir,
    app,
    bin,
    temporary: values.install,
    installedNow,
    // Where the bench installed it: the commit it was built from (a folder installed otherwise: null).
    builtFrom: existsSync(marker) ? JSON.parse(readFileSync(marker, 'utf8')) : null,
    versions: Object.fromEntries(['rclip-web', 'onnxruntime-node', 'sharp'].map((p) => [p, version(p)])),
  };
}
const installed = values.installed || values.install ? await installedPackage() : null;

const model = await openModel(values.model, { threads: EMBED_THREADS });
const input = model.info.manifest.input;

const measure = (work: () => Promise<unknown>, newProcess: boolean) => measureRate(files.length, work, newProcess);

// ORT alone gets the tensors the pipeline would feed it, prepared once, outside the timing.
const pixels: PixelTensor[] = [];
for (const f of files) pixels.push(await model.engine.pixelsFor(model.ref, await decodeImageFile(f)));
// Warm-up: the model's first runs and the decode workers' start-up.
await embedFiles(model, files.slice(0, 16), { concurrency, strict: true });

const out = mkdtempSync(path.join(tmpdir(), 'rclip-bench-'));
const CHECKOUT = 'rclip embed (checkout, through tsx)';
const INSTALLED = 'rclip embed (installed package)';
const npy = { [CHECKOUT]: path.join(out, 'checkout.npy'), [INSTALLED]: path.join(out, 'installed.npy') };
/** What each new-process row's last run printed (`--json`). */
const printed: Record<string, RclipEmbedPrinted> = {};
function rclipEmbed(name: typeof CHECKOUT | typeof INSTALLED, command: string, args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}) {
  printed[name] = runRclipEmbed(command, args, values.images!, npy[name], values.model, options);
}
const measures: Record<string, () => Promise<unknown>> = {
  'decoder alone': () => inFlight(files, concurrency, decodeImageFile),
  'decoder alone, RGB': () => inFlight(files, concurrency, (f) => decodeImageFile(f, { rgb: true })),
  'ORT alone': async () => {
    for (const p of pixels) await model.engine.embedPixels(model.ref, [p]);
  },
  ...Object.fromEntries(batches.map((b) => [`embed pipeline, batch ${b}`, () => embedFiles(model, files, { concurrency, batchSize: b, strict: true })])),
  // The folder, as users pass it (and only without --limit: ~500 file arguments make onnxruntime-node
  // 1.30's InferenceSession.create crash with SIGSEGV, bench/README.md).
  ...(values.limit
    ? {}
    : {
        [CHECKOUT]: async () => rclipEmbed(CHECKOUT, process.execPath, [path.join(root, 'bin/rclip.mjs')]),
        ...(installed
          ? {
              // As a user runs it: the bin itself (its `#!/usr/bin/env node`), with this node first on PATH.
              [INSTALLED]: async () =>
                rclipEmbed(INSTALLED, installed.bin, [], { cwd: installed.app, env: { ...process.env, PATH: `${path.dirname(process.execPath)}${path.delimiter}${process.env.PATH}` } }),
            }
          : {}),
      }),
};
const names = Object.keys(measures);
const samples: Record<string, RateSample[]> = Object.fromEntries(names.map((n) => [n, []]));
const loadBefore = loadavg();
for (let r = 0; r < rounds; r++) {
  for (let i = 0; i < names.length; i++) {
    const name = names[(i + r) % names.length];
    samples[name].push(await measure(measures[name], name.startsWith('rclip embed')));
    console.error(`round ${r + 1}/${rounds} ${name}: ${samples[name].at(-1)!.imagesPerSecond.toFixed(0)} images/s`);
  }
}
const loadAfter = loadavg();

/** The installed command's output against the checkout's, from the last round: same bytes, or how far apart. */
function sameOutput() {
  if (!printed[INSTALLED]) return null;
  const a = readFileSync(npy[CHECKOUT]);
  const b = readFileSync(npy[INSTALLED]);
  const floats = (x: Buffer) => {
    const start = 10 + x.readUInt16LE(8);
    return new Float32Array(x.buffer.slice(x.byteOffset + start, x.byteOffset + x.length));
  };
  const fa = floats(a);
  const fb = floats(b);
  let maxAbsDiff = fa.length === fb.length ? 0 : null;
  if (maxAbsDiff !== null) for (let i = 0; i < fa.length; i++) maxAbsDiff = Math.max(maxAbsDiff, Math.abs(fa[i] - fb[i]));
  const sidecar = (f: string) => readFileSync(f.replace(/\.npy$/, '.files.json'), 'utf8');
  return {
    npyByteIdentical: a.equals(b),
    maxAbsDiff,
    npyBytes: [a.length, b.length],
    filesJsonIdentical: sidecar(npy[CHECKOUT]) === sidecar(npy[INSTALLED]),
    printed: { checkout: printed[CHECKOUT], installed: printed[INSTALLED] },
  };
}
const installedVsCheckout = sameOutput();
rmSync(out, { recursive: true, force: true });
if (installed?.temporary) rmSync(installed.dir, { recursive: true, force: true });
await closeDecodePool();

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const rows = names.map((name) => ({
  what: name,
  imagesPerSecond: +median(samples[name].map((s) => s.imagesPerSecond)).toFixed(1),
  perRound: samples[name].map((s) => +s.imagesPerSecond.toFixed(1)),
  // For a new process: its own CPU (start-up included), not this process's.
  cpuMsPerImage: samples[name].some((s) => s.cpuMsPerImage === null) ? null : +median(samples[name].map((s) => s.cpuMsPerImage!)).toFixed(2),
  vsDecoder: +median(samples[name].map((s, r) => s.imagesPerSecond / samples['decoder alone'][r].imagesPerSecond)).toFixed(2),
  vsDecoderPerRound: samples[name].map((s, r) => +(s.imagesPerSecond / samples['decoder alone'][r].imagesPerSecond).toFixed(2)),
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
  installed: installed && { dir: installed.temporary ? '(temporary, removed)' : installed.dir, installedNow: installed.installedNow, builtFrom: installed.builtFrom, versions: installed.versions },
  installedVsCheckout,
  rows,
};
writeFileSync(path.join(root, 'bench/results/embed-throughput.json'), JSON.stringify(result, null, 2) + '\n');
console.log(
  markdownTable(
    ['what', `images/s (median of ${rounds})`, 'per round', 'CPU ms per image', '÷ decoder alone', 'per round'],
    rows.map((r) => [r.what, `${r.imagesPerSecond}`, r.perRound.join(' / '), `${r.cpuMsPerImage ?? '—'}`, `${r.vsDecoder}`, r.vsDecoderPerRound.join(' / ')]),
  ),
);
if (installedVsCheckout) {
  const v = installedVsCheckout;
  console.log(`\ninstalled vs checkout .npy: ${v.npyByteIdentical ? 'byte-identical' : `differ, max |Δ| ${v.maxAbsDiff}`}; .files.json ${v.filesJsonIdentical ? 'identical' : 'differ'}; models ${v.printed.checkout.model} / ${v.printed.installed.model}`);
}
console.log(`\n${files.length} files of ${values.images}, ${model.info.id} (${input.size} px), ${concurrency} in flight, ${DECODE_WORKERS} decode workers, ORT ${EMBED_THREADS} thread; load average ${loadBefore.map((x) => x.toFixed(1)).join(' ')} → ${loadAfter.map((x) => x.toFixed(1)).join(' ')}`);
