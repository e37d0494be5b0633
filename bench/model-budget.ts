/**
 * The browser budget of candidate models beside today's robust default, measured in one run:
 *   npx tsx bench/model-budget.ts --candidate DIR [--candidate DIR ...] [--repeats 3] [--panel-repeats N] [--runs 30]
 *                                 [--images DIR] [--fp16-photos 32] [--out bench/results/model-budget.json]
 * A candidate is a model folder anywhere on disk (manifest.json + graphs, as `export` writes it); the
 * page sees it as if it were installed in public/models (bench/browser-bench.ts serves it), so nothing
 * in public/models changes. Per repeat, with the models' order rotated each repeat:
 *   embed (wasm)   Engine.embed per image (decode + preprocess + inference) on the bench page in headless
 *                  Chromium, wasm with the page's thread count; median of --runs; ratio to the default
 *   APGD-100       the demo page's attack panel as a user runs it (image A, method APGD, its 100 steps,
 *                  L∞ 4/255, push apart) with the model as the page's default: robust and baseline
 *                  attacked together, click to "done"; the model files the page fetched before it was
 *                  ready (its first load) and while the attack ran
 *   rclip embed    `rclip embed DIR --model FOLDER` (node bin/rclip.mjs, a new process) over the photos,
 *                  images/s, and sharp's decode alone (decodeImageFile, the CLI's in-flight count) on
 *                  the same photos in the same repeat; the ratio of the two
 * Then the npm tarball (`npm run build:lib`, `npm pack --dry-run --json`) and, for a candidate in the
 * default's place, an estimate (the tarball's size plus the gzip-size difference of the files the
 * package ships for the default: encoder and attack graph, scripts/package-models.mjs); and fp16
 * weights (bench/fp16_weights.py on a copy): sizes, and embeddings and attack gradients against fp32 in
 * onnxruntime-node on real photos. Writes the JSON and prints Markdown tables.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { gzipSync } from 'node:zlib';
import type { ModelIndex, ModelManifest } from '../src/core/manifest';
import { decodeImageFile } from '../src/engine/node';
import { expandImageArgs } from '../src/engine/node-images';
import { DEFAULT_EMBED_CONCURRENCY, openModel } from '../src/engine/node-model';
import { browserLatency, startBrowserBench, type BrowserSession, type ModelFetch, type ModelServing } from './browser-bench';
import { inFlight, measureRate, runRclipEmbed } from './embed-rate';
import { markdownTable } from './markdown';
import { latencyStats } from './stats';

const root = path.resolve(import.meta.dirname, '..');
const { values } = parseArgs({
  options: {
    candidate: { type: 'string', multiple: true, default: [] },
    repeats: { type: 'string', default: '3' },
    // The panel's APGD-100 takes minutes per larger model on this machine: fewer repeats of it than of the rest.
    'panel-repeats': { type: 'string' },
    runs: { type: 'string', default: '30' },
    images: { type: 'string', default: path.resolve(root, '../shared/data/imagenet-sample') },
    'fp16-photos': { type: 'string', default: '32' },
    out: { type: 'string', default: path.join(root, 'bench/results/model-budget.json') },
  },
});
const BUDGET = { embedRatio: 8, apgdSeconds: 45, cliVsDecode: 0.5, firstLoadMB: 30, tarballMB: 40 };
const MB = 1e6;
const repeats = Number(values.repeats);
const panelRepeats = Number(values['panel-repeats'] ?? values.repeats);
const runs = Number(values.runs);
const log = (s: string) => process.stderr.write(`${s}\n`);
if (!existsSync(values.images!)) {
  log(`bench/model-budget: ${values.images} is absent (the shared photos); nothing measured.`);
  process.exit(1);
}
if (values.candidate!.length === 0) {
  log('bench/model-budget: give at least one --candidate DIR (a model folder).');
  process.exit(2);
}

interface BenchModel {
  id: string;
  dir: string;
  manifest: ModelManifest;
  /** Today's default (public/models), or a candidate folder. */
  isDefault: boolean;
}
const modelsDir = path.join(root, 'public/models');
const index: ModelIndex = JSON.parse(readFileSync(path.join(modelsDir, 'index.json'), 'utf8'));
const readModel = (dir: string, isDefault: boolean): BenchModel => {
  const manifest: ModelManifest = JSON.parse(readFileSync(path.join(dir, 'manifest.json'), 'utf8'));
  return { id: manifest.id, dir: path.resolve(dir), manifest, isDefault };
};
const defaultModel = readModel(path.join(modelsDir, index.models.find((m) => m.id === index.default)!.path), true);
const models: BenchModel[] = [defaultModel, ...values.candidate!.map((d) => readModel(d, false))];
for (const m of models.slice(1)) {
  if (path.basename(m.dir) !== m.id) throw new Error(`${m.dir}: the folder's name must be its manifest's id (${m.id}), as in public/models.`);
  if (index.models.some((x) => x.id === m.id)) throw new Error(`${m.id} is already in public/models/index.json: a candidate needs an id of its own.`);
}
/** Every model served to the page: candidates from their folders, under /models/<id>/. */
const folders = Object.fromEntries(models.filter((m) => !m.isDefault).map((m) => [m.id, m.dir]));
/** The page's models with `m` as its default (a candidate gets an index entry), the baseline unchanged. */
const servingAsDefault = (m: BenchModel): ModelServing => ({
  folders,
  index: m.isDefault ? index : { ...index, default: m.id, models: [...index.models, { id: m.id, path: `${m.id}/`, name: m.manifest.name }] },
});
/** How the bench page's engine refers to a model: the default by its id, a candidate by its folder. */
const pageRef = (m: BenchModel) => (m.isDefault ? m.id : `${m.id}/`);
const rotated = <T>(xs: readonly T[], r: number) => xs.map((_, i) => xs[(i + r) % xs.length]);
const median = (xs: readonly number[]) => latencyStats(xs).median;
/** Median over repeats of a repeat's value for `m` divided by the same repeat's value for the default. */
const ratioToDefault = (per: Record<string, number[]>, id: string) => median(per[id].map((x, r) => x / per[defaultModel.id][r]));

const machine = {
  cpu: cpus()[0]?.model ?? 'unknown',
  cores: availableParallelism(),
  node: process.version,
  chromium: null as string | null,
  loadavgBefore: loadavg(),
  loadavgAfter: [] as number[],
  beside: [] as string[],
};
/** What else ran: the other processes using a CPU when the bench started (ps), for the JSON's note. */
function processesBeside(): string[] {
  const ps = execFileSync('ps', ['-eo', 'pcpu,ni,args', '--sort=-pcpu'], { encoding: 'utf8' }).split('\n').slice(1);
  return ps.filter((l) => l.trim() && parseFloat(l) >= 5 && !l.includes('ps -eo') && !l.includes('model-budget')).slice(0, 8).map((l) => l.trim().slice(0, 160));
}
machine.beside = processesBeside();

// ---- Chromium: embedding latency (bench page) and the attack panel's APGD-100 (demo page) ----------

const samples = ['sunset.jpg', 'meadow.jpg', 'sunset-shifted.jpg'].map((s) => `/samples/${s}`);
const PANEL_TIMEOUT_MS = 900_000;

interface PanelRun {
  seconds: number;
  status: string;
  backend: string;
  /** Model files fetched before the page was ready (index, manifests, graphs). */
  firstLoad: ModelFetch[];
  /** Model files fetched from the click to "done" (the attack graphs). */
  duringAttack: ModelFetch[];
}

async function attackPanel(session: BrowserSession, m: BenchModel): Promise<PanelRun> {
  return session.run(
    'wasm-threads',
    async (page, fetched) => {
      await page.waitForSelector('body[data-ready="true"]', { timeout: 300_000 });
      const firstLoad = [...fetched];
      const backend = (await page.locator('#ep-badge').textContent()) ?? '';
      if (!backend.startsWith('wasm')) throw new Error(`the page chose "${backend}", not wasm`);
      await page.setInputFiles('#file-a', path.join(root, 'public/samples/sunset.jpg'));
      await page.locator('#attack-panel select[name="method"]').selectOption('apgd');
      const steps = await page.locator('#attack-panel input[name="steps"]').inputValue();
      if (steps !== '100') throw new Error(`the panel's APGD default is ${steps} steps, not 100`);
      const t0 = performance.now();
      await page.locator('#attack-panel .run').click();
      await page.waitForSelector('#attack-panel[data-state="done"], #attack-panel[data-state="failed"]', { timeout: PANEL_TIMEOUT_MS });
      const seconds = (performance.now() - t0) / 1000;
      const status = (await page.locator('#attack-panel .attack-status').textContent()) ?? '';
      if ((await page.locator('#attack-panel').getAttribute('data-state')) !== 'done') throw new Error(`the attack failed: ${status}`);
      return { seconds, status, backend, firstLoad, duringAttack: fetched.slice(firstLoad.length) };
    },
    { path: '/', models: servingAsDefault(m) },
  );
}

const embedMs: Record<string, number[]> = Object.fromEntries(models.map((m) => [m.id, []]));
const inferenceMs: Record<string, number[]> = Object.fromEntries(models.map((m) => [m.id, []]));
const pgdStepMs: Record<string, number[]> = Object.fromEntries(models.map((m) => [m.id, []]));
const panel: Record<string, PanelRun[]> = Object.fromEntries(models.map((m) => [m.id, []]));
let wasmThreads = 0;
const session = await startBrowserBench();
machine.chromium = session.version;
try {
  for (let r = 0; r < repeats; r++) {
    const order = rotated(models, r);
    log(`repeat ${r + 1}/${repeats}: Chromium wasm, ${runs} embeddings per model (${order.map((m) => m.id).join(', ')})`);
    const results = await browserLatency(session, 'wasm-threads', order.map(pageRef), samples, runs, 5, { folders });
    for (const [i, m] of order.entries()) {
      embedMs[m.id].push(results[i].embed.median);
      inferenceMs[m.id].push(results[i].inference.median);
      pgdStepMs[m.id].push(results[i].attackStepMs);
      wasmThreads = results[i].threads;
    }
    for (const m of r < panelRepeats ? order : []) {
      log(`repeat ${r + 1}/${panelRepeats}: the attack panel's APGD-100 with ${m.id} as the page's default`);
      panel[m.id].push(await attackPanel(session, m));
      log(`  ${panel[m.id].at(-1)!.seconds.toFixed(1)} s: ${panel[m.id].at(-1)!.status}`);
    }
  }
} finally {
  await session.close();
}

// ---- Node: rclip embed over the photos vs sharp's decode alone ---------------------------------

const photos = expandImageArgs([values.images!]);
const cliRate: Record<string, number[]> = Object.fromEntries(models.map((m) => [m.id, []]));
const decodeRate: number[] = [];
const npyDir = mkdtempSync(path.join(tmpdir(), 'rclip-model-budget-'));
// Warm-up: the file cache and sharp's start-up, outside the timing.
await inFlight(photos, DEFAULT_EMBED_CONCURRENCY, decodeImageFile);
for (let r = 0; r < repeats; r++) {
  const order = rotated(['sharp decode', ...models.map((m) => m.id)], r);
  for (const what of order) {
    const m = models.find((x) => x.id === what);
    const sample = m
      ? await measureRate(photos.length, async () => runRclipEmbed(process.execPath, [path.join(root, 'bin/rclip.mjs')], values.images!, path.join(npyDir, `${m.id}.npy`), m.dir), true)
      : await measureRate(photos.length, () => inFlight(photos, DEFAULT_EMBED_CONCURRENCY, decodeImageFile), false);
    (m ? cliRate[m.id] : decodeRate).push(sample.imagesPerSecond);
    log(`repeat ${r + 1}/${repeats} ${m ? `rclip embed --model ${m.id}` : 'sharp decode alone'}: ${sample.imagesPerSecond.toFixed(1)} images/s`);
  }
}
rmSync(npyDir, { recursive: true, force: true });
machine.loadavgAfter = loadavg();

// ---- files: first load, tarball, fp16 weights --------------------------------------------------

const gzipBytes = (file: string) => gzipSync(readFileSync(file)).length;
/** What the package ships for the default model (scripts/package-models.mjs): its encoder and attack graph. */
const shippedAsDefault = (m: BenchModel) => [m.manifest.files.encoder, m.manifest.files.attack].filter((f) => f !== undefined).map((f) => path.join(m.dir, f.path));
log('npm run build:lib, npm pack --dry-run --json');
execFileSync('npm', ['run', 'build:lib'], { cwd: root, stdio: ['ignore', 'ignore', 'inherit'] });
const [pack] = JSON.parse(execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] })) as Array<{ size: number; unpackedSize: number; entryCount: number }>;
const defaultShipped = { bytes: shippedAsDefault(defaultModel).reduce((s, f) => s + readFileSync(f).length, 0), gzipBytes: shippedAsDefault(defaultModel).reduce((s, f) => s + gzipBytes(f), 0) };
const tarballWith = (files: string[]) => {
  const bytes = files.reduce((s, f) => s + readFileSync(f).length, 0);
  const gz = files.reduce((s, f) => s + gzipBytes(f), 0);
  return { packedBytes: pack.size + gz - defaultShipped.gzipBytes, unpackedBytes: pack.unpackedSize + bytes - defaultShipped.bytes };
};

interface Fp16Check {
  copy: string;
  sizes: { graphs: Record<string, { fp32Bytes: number; fp16Bytes: number; weightBytesFp32: number; weights: number }>; sharedWeights: { distinct: number; fp32Bytes: number; fp16Bytes: number; graphsWithoutWeightsBytes: number } };
  photos: number;
  embedding: { maxAbsDiff: number; maxAbs: number; minCosine: number; medianCosine: number };
  gradient: { maxAbsDiff: number; maxAbs: number; relative: number; maxDistanceDiff: number };
}
const fp16Root = mkdtempSync(path.join(tmpdir(), 'rclip-fp16-'));
async function fp16Check(m: BenchModel): Promise<Fp16Check> {
  const copy = path.join(fp16Root, `${m.id}-fp16`);
  const sizes = JSON.parse(execFileSync('/usr/bin/python3', [path.join(root, 'bench/fp16_weights.py'), m.dir, copy], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }));
  const a = await openModel(m.dir, { threads: 1 });
  const b = await openModel(copy, { threads: 1 });
  const files = photos.slice(0, Number(values['fp16-photos']));
  const e = { maxAbsDiff: 0, maxAbs: 0, cosines: [] as number[] };
  const g = { maxAbsDiff: 0, maxAbs: 0, maxDistanceDiff: 0 };
  let target: Float32Array | null = null;
  for (const f of files) {
    const pixels = await a.engine.pixelsFor(a.ref, await decodeImageFile(f));
    const [x] = await a.engine.embedPixels(a.ref, [pixels]);
    const [y] = await b.engine.embedPixels(b.ref, [pixels]);
    let dot = 0;
    let nx = 0;
    let ny = 0;
    for (let i = 0; i < x.length; i++) {
      e.maxAbsDiff = Math.max(e.maxAbsDiff, Math.abs(x[i] - y[i]));
      e.maxAbs = Math.max(e.maxAbs, Math.abs(x[i]));
      dot += x[i] * y[i];
      nx += x[i] * x[i];
      ny += y[i] * y[i];
    }
    e.cosines.push(dot / Math.sqrt(nx * ny));
    // The attack graph: distance to the previous photo's embedding and its gradient.
    if (target) {
      const ga = await a.engine.distanceGradient(a.ref, pixels.data, target);
      const gb = await b.engine.distanceGradient(b.ref, pixels.data, target);
      g.maxDistanceDiff = Math.max(g.maxDistanceDiff, Math.abs(ga.distance - gb.distance));
      for (let i = 0; i < ga.grad.length; i++) {
        g.maxAbsDiff = Math.max(g.maxAbsDiff, Math.abs(ga.grad[i] - gb.grad[i]));
        g.maxAbs = Math.max(g.maxAbs, Math.abs(ga.grad[i]));
      }
    }
    target = x;
  }
  await a.engine.unloadModel(a.ref);
  await b.engine.unloadModel(b.ref);
  const cos = latencyStats(e.cosines);
  return {
    copy,
    sizes,
    photos: files.length,
    embedding: { maxAbsDiff: e.maxAbsDiff, maxAbs: e.maxAbs, minCosine: Math.min(...e.cosines), medianCosine: cos.median },
    gradient: { ...g, relative: g.maxAbsDiff / g.maxAbs },
  };
}

const rows = [];
for (const m of models) {
  log(`fp16 weights of ${m.id}`);
  const fp16 = await fp16Check(m);
  const p = panel[m.id];
  const firstLoad = median(p.map((x) => x.firstLoad.reduce((s, f) => s + f.bytes, 0)));
  const firstLoadGraphs = [...new Set(p.flatMap((x) => x.firstLoad.filter((f) => f.path.endsWith('.onnx')).map((f) => f.path)))];
  const attackFetched = [...new Set(p.flatMap((x) => x.duringAttack.map((f) => f.path)))];
  const fp16Encoder = fp16.sizes.graphs.encoder.fp16Bytes - fp16.sizes.graphs.encoder.fp32Bytes;
  rows.push({
    model: m.id,
    isDefault: m.isDefault,
    architecture: m.manifest.architecture,
    inputSize: m.manifest.input.size,
    encoderParameters: fp16.sizes.graphs.encoder.weightBytesFp32 / 4,
    graphs: Object.fromEntries(Object.entries(m.manifest.files).map(([role, f]) => [role, f.bytes])),
    embed: {
      msPerRepeat: embedMs[m.id],
      medianMs: median(embedMs[m.id]),
      inferenceMsPerRepeat: inferenceMs[m.id],
      ratioToDefault: ratioToDefault(embedMs, m.id),
      inferenceRatioToDefault: ratioToDefault(inferenceMs, m.id),
      pgdStepMsPerRepeat: pgdStepMs[m.id],
    },
    apgdPanel: { secondsPerRepeat: p.map((x) => +x.seconds.toFixed(2)), medianSeconds: median(p.map((x) => x.seconds)), ratioToDefault: ratioToDefault(Object.fromEntries(models.map((x) => [x.id, panel[x.id].map((y) => y.seconds)])), m.id), status: p[0]?.status, backend: p[0]?.backend },
    cli: { imagesPerSecondPerRepeat: cliRate[m.id].map((x) => +x.toFixed(1)), medianImagesPerSecond: median(cliRate[m.id]), vsDecode: median(cliRate[m.id].map((x, r) => x / decodeRate[r])) },
    firstLoad: { bytes: firstLoad, graphs: firstLoadGraphs, fetchedDuringAttack: attackFetched, fp16Bytes: firstLoad + fp16Encoder },
    tarball: { ...tarballWith(shippedAsDefault(m)), estimate: !m.isDefault },
    fp16: { ...fp16, tarballPackedBytes: tarballWith(shippedAsDefault(m).map((f) => path.join(fp16.copy, path.relative(m.dir, f)))).packedBytes },
  });
}
rmSync(fp16Root, { recursive: true, force: true });

const within = (ok: boolean) => (ok ? 'within' : '**over**');
const f1 = (x: number) => x.toFixed(1);
const mb = (x: number) => (x / MB).toFixed(2);
const result = {
  date: new Date().toISOString(),
  command: `npx tsx bench/model-budget.ts ${process.argv.slice(2).join(' ')}`.trim(),
  budgets: BUDGET,
  repeats,
  panelRepeats,
  runs,
  wasmThreads,
  photos: { dir: values.images, count: photos.length },
  decodeImagesPerSecondPerRepeat: decodeRate.map((x) => +x.toFixed(1)),
  tarball: { packedBytes: pack.size, unpackedBytes: pack.unpackedSize, entries: pack.entryCount, defaultShipped },
  machine,
  note: 'A candidate\'s cost does not depend on its weights (its manifest says where they come from). Ratios are per repeat within this one run (median over repeats); absolute times hold only on a quiet machine (machine.beside lists what ran beside).',
  rows,
};
mkdirSync(path.dirname(values.out!), { recursive: true });
writeFileSync(values.out!, `${JSON.stringify(result, null, 1)}\n`);

console.log(
  markdownTable(
    ['model', 'px', 'encoder params', `embed, wasm ${wasmThreads} threads (median ms)`, '÷ default (≤ 8×)', 'inference ÷ default', 'APGD-100 panel (s, ≤ 45)', '`rclip embed` images/s', '÷ sharp decode (≥ 0.5)', 'first load MB (≤ 30)', 'tarball MB (≤ 40)'],
    rows.map((r) => [
      r.model,
      String(r.inputSize),
      `${(r.encoderParameters / 1e6).toFixed(2)} M`,
      f1(r.embed.medianMs),
      `${r.embed.ratioToDefault.toFixed(2)}× (${within(r.embed.ratioToDefault <= BUDGET.embedRatio)})`,
      `${r.embed.inferenceRatioToDefault.toFixed(2)}×`,
      `${f1(r.apgdPanel.medianSeconds)} (${within(r.apgdPanel.medianSeconds <= BUDGET.apgdSeconds)})`,
      f1(r.cli.medianImagesPerSecond),
      `${r.cli.vsDecode.toFixed(2)} (${within(r.cli.vsDecode >= BUDGET.cliVsDecode)})`,
      `${mb(r.firstLoad.bytes)} (${within(r.firstLoad.bytes <= BUDGET.firstLoadMB * MB)})`,
      `${mb(r.tarball.packedBytes)}${r.tarball.estimate ? ' est.' : ''} (${within(r.tarball.packedBytes <= BUDGET.tarballMB * MB)})`,
    ]),
  ),
);
console.log(
  '\n' +
    markdownTable(
      ['model', 'graphs fp32 (encoder / attack / step, MB)', 'fp16 weights (MB)', 'one shared weights file: fp32 / fp16 (MB) + graphs without weights', 'fp16 first load MB', 'fp16 tarball MB est.', `fp16 vs fp32, ${rows[0].fp16.photos} photos: embedding max |Δ| (max |e|)`, 'cosine min / median', 'attack gradient max |Δ| / max |g|'],
      rows.map((r) => {
        const g = r.fp16.sizes.graphs;
        const s = r.fp16.sizes.sharedWeights;
        return [
          r.model,
          [g.encoder, g.attack, g.attackStep].map((x) => (x ? mb(x.fp32Bytes) : '—')).join(' / '),
          [g.encoder, g.attack, g.attackStep].map((x) => (x ? mb(x.fp16Bytes) : '—')).join(' / '),
          `${mb(s.fp32Bytes)} / ${mb(s.fp16Bytes)} + ${mb(s.graphsWithoutWeightsBytes)}`,
          mb(r.firstLoad.fp16Bytes),
          mb(r.fp16.tarballPackedBytes),
          `${r.fp16.embedding.maxAbsDiff.toExponential(1)} (${r.fp16.embedding.maxAbs.toFixed(2)})`,
          `${r.fp16.embedding.minCosine.toFixed(6)} / ${r.fp16.embedding.medianCosine.toFixed(6)}`,
          `${r.fp16.gradient.maxAbsDiff.toExponential(1)} / ${r.fp16.gradient.maxAbs.toExponential(1)} (rel ${r.fp16.gradient.relative.toExponential(1)})`,
        ];
      }),
    ),
);
console.log(
  `\n${repeats} repeats (the attack panel: ${panelRepeats}), models' order rotated each repeat; embed = Engine.embed (decode + preprocess + inference) of the 3 bundled samples, ${runs} per repeat, on the bench page (Vite dev server); APGD-100 = the demo page's attack panel (image A sunset.jpg, L∞ 4/255, push apart; robust and baseline together), click to done; ` +
    `rclip embed = node bin/rclip.mjs embed over ${photos.length} photos of ${values.images}, a new process (start-up included), ÷ sharp's decode of the same photos (${DEFAULT_EMBED_CONCURRENCY} in flight) in the same repeat; first load = the model files the demo page fetched before it was ready; tarball = npm pack --dry-run (packed), a candidate's an estimate (+ gzip-size difference of the default's shipped encoder and attack graph). ` +
    `Machine: ${machine.cpu}, ${machine.cores} cores, Chromium ${machine.chromium}; load average ${machine.loadavgBefore.map(f1).join(' ')} → ${machine.loadavgAfter.map(f1).join(' ')}.`,
);
log(`written: ${path.relative(root, values.out!)}`);
