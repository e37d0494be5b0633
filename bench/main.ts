/**
 * `npm run bench [-- --quick] [-- --limit N] [-- --no-browser] [-- --no-quality]`: latency per model
 * and backend (onnxruntime-node; Chromium wasm 1 thread, wasm threads, WebGPU), PGD step cost,
 * memory over 1,000 comparisons (2 images × both models) and 100 attack steps, batch scaling, and 2AFC quality. Prints
 * markdown tables and writes bench/results/bench-<quick|full>.json with the machine and versions.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, totalmem } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { attackSettings } from '../src/core/attack';
import { browserComparison, browserLatency, browserMemory, startBrowserBench, type HeapMark } from './browser-bench';
import type { BenchBackend, BrowserModelResult, ComparisonResult, MemoryResult } from './browser/bench-page';
import { batchScaling, nodeComparison, nodeLatency, quality, type BatchScaling, type NodeLatency, type QualityRow } from './node-bench';
import type { LatencyStats } from './stats';
import { markdownTable } from './markdown';

const root = path.resolve(import.meta.dirname, '..');
const version = (pkg: string) => JSON.parse(readFileSync(path.join(root, 'node_modules', pkg, 'package.json'), 'utf8')).version as string;
const ms = (x: number) => (x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(2));
const pct = (x: number | null) => (x === null ? '—' : `${(100 * x).toFixed(1)}%`);

const BACKENDS: Array<{ id: BenchBackend; label: string }> = [
  { id: 'wasm-1', label: 'Chromium wasm, 1 thread' },
  { id: 'wasm-threads', label: 'Chromium wasm, threads (cross-origin isolated)' },
  { id: 'webgpu', label: 'Chromium WebGPU (SwiftShader, software: no GPU here)' },
];

export async function main(argv: string[]): Promise<void> {
  const { values } = parseArgs({ args: argv, options: { quick: { type: 'boolean' }, limit: { type: 'string' }, 'no-browser': { type: 'boolean' }, 'no-quality': { type: 'boolean' } } });
  const quick = Boolean(values.quick);
  const index = JSON.parse(readFileSync(path.join(root, 'public/models/index.json'), 'utf8'));
  const models: string[] = [index.default, index.baseline];
  const samples = ['sunset.jpg', 'meadow.jpg', 'sunset-shifted.jpg'];
  const size = {
    runs: quick ? 20 : 100,
    webgpuRuns: quick ? 5 : 30,
    steps: quick ? 5 : 20,
    webgpuSteps: quick ? 2 : 10,
    memory: { comparisons: 1000, steps: 100 },
    // WebGPU here is SwiftShader (software, ~1 s per embedding): 1,000 comparisons would take an hour.
    webgpuMemory: quick ? { comparisons: 25, steps: 10 } : { comparisons: 100, steps: 20 },
    scalingImages: quick ? 64 : 256,
    limit: values.limit !== undefined ? Number(values.limit) : quick ? 8 : undefined,
  };
  const log = (s: string) => process.stderr.write(`${s}\n`);
  const machine = {
    cpu: cpus()[0]?.model ?? 'unknown',
    cores: availableParallelism(),
    memoryGiB: +(totalmem() / 2 ** 30).toFixed(1),
    node: process.version,
    onnxruntimeNode: version('onnxruntime-node'),
    onnxruntimeWeb: version('onnxruntime-web'),
    chromium: null as string | null,
    note: 'Shared 2-core machine without a GPU (WebGPU is SwiftShader): absolute times are noisy; ratios from one run are the useful part.',
  };

  log(`Node: latency (${size.runs} embeddings per model), attack step cost (${size.steps} steps)`);
  const nodeImages = samples.map((s) => path.join(root, 'public/samples', s));
  const node: NodeLatency[] = await nodeLatency(models, nodeImages, size.runs, size.steps);
  // wasm with 1 thread is compared with onnxruntime-node on 1 thread too (the issue's "per thread").
  if (node[0].threads !== 1) node.push(...(await nodeLatency(models, nodeImages, size.runs, size.steps, 1)));
  log('Node: one comparison (2 images × both models)');
  const nodeCompare: LatencyStats = await nodeComparison(models, nodeImages, size.runs);
  log('Node: batch scaling');
  const scaling: BatchScaling[] = [];
  for (const m of models) scaling.push(...(await batchScaling(m, nodeImages[0], [1, 8, 32], size.scalingImages)));

  const browser: Array<{ backend: BenchBackend; results: BrowserModelResult[] } | { backend: BenchBackend; error: string }> = [];
  const comparisons: Array<{ backend: BenchBackend; result: ComparisonResult } | { backend: BenchBackend; error: string }> = [];
  const memory: Array<(MemoryResult & { backend: BenchBackend; heap: HeapMark[] }) | { backend: BenchBackend; error: string }> = [];
  if (!values['no-browser']) {
    const session = await startBrowserBench();
    machine.chromium = session.version;
    try {
      for (const b of BACKENDS) {
        const webgpu = b.id === 'webgpu';
        log(`Chromium ${b.id}: latency and attack step cost`);
        try {
          browser.push({ backend: b.id, results: await browserLatency(session, b.id, models, samples.map((s) => `/samples/${s}`), webgpu ? size.webgpuRuns : size.runs, webgpu ? size.webgpuSteps : size.steps) });
        } catch (err) {
          browser.push({ backend: b.id, error: (err as Error).message });
        }
      }
      for (const b of BACKENDS) {
        const webgpu = b.id === 'webgpu';
        log(`Chromium ${b.id}: one comparison (2 images × both models)`);
        try {
          comparisons.push({ backend: b.id, result: await browserComparison(session, b.id, models, samples.map((s) => `/samples/${s}`), webgpu ? size.webgpuRuns : size.runs) });
        } catch (err) {
          comparisons.push({ backend: b.id, error: (err as Error).message });
        }
      }
      for (const b of ['wasm-threads', 'webgpu'] as const) {
        const m = b === 'webgpu' ? size.webgpuMemory : size.memory;
        log(`Chromium ${b}: memory over ${m.comparisons} comparisons (2 images × both models) and ${m.steps} attack steps`);
        try {
          memory.push({ backend: b, ...(await browserMemory(session, b, models, ['/samples/sunset.jpg', '/samples/meadow.jpg'], m.comparisons, m.steps)) });
        } catch (err) {
          memory.push({ backend: b, error: (err as Error).message });
        }
      }
    } finally {
      await session.close();
    }
  }

  let qualityRows: QualityRow[] = [];
  const imagesDir = path.resolve(root, '../shared/data/imagenet-sample');
  if (!values['no-quality']) {
    try {
      const attacks = [
        { label: 'PGD-10 L∞ ε=4/255', args: '--attack pgd --norm linf --eps 4/255 --steps 10', settings: attackSettings('pgd', 'linf', 4 / 255) },
        { label: 'PGD-10 L2 ε=0.5', args: '--attack pgd --norm l2 --eps 0.5 --steps 10', settings: attackSettings('pgd', 'l2', 0.5) },
      ];
      log(`2AFC quality on ${size.limit ?? 'all'} evaluation images of ${imagesDir}`);
      qualityRows = await quality(models, imagesDir, size.limit, attacks);
    } catch (err) {
      log(`quality skipped: ${(err as Error).message}`);
    }
  }

  const nodeFor = (model: string, threads: number) => node.find((n) => n.model === model && n.threads === threads) ?? node.find((n) => n.model === model)!;
  const latencyRows: string[][] = [];
  for (const n of node) latencyRows.push([n.model, `onnxruntime-node (CPU, ${n.threads} thread${n.threads === 1 ? '' : 's'})`, ms(n.embed.median), ms(n.embed.p90), ms(n.inference.median), '1.00', ms(n.attackStepMs)]);
  for (const b of browser) {
    const label = BACKENDS.find((x) => x.id === b.backend)!.label;
    if ('error' in b) {
      latencyRows.push(['—', label, `failed: ${b.error}`, '', '', '', '']);
      continue;
    }
    for (const r of b.results) {
      const ratio = r.inference.median / nodeFor(r.model, r.threads).inference.median;
      latencyRows.push([r.model, `${label}${r.threads > 1 ? ` [${r.threads} threads]` : ''}`, ms(r.embed.median), ms(r.embed.p90), ms(r.inference.median), ratio.toFixed(2), ms(r.attackStepMs)]);
    }
  }
  const tables = [
    '### Embedding latency and attack step cost (ms)',
    'embed = decode + preprocess + inference of one image; ratio = inference median / onnxruntime-node\'s with the same number of threads (the default count where that was not run); one attack step = attack.onnx (distance + gradient) + projection.',
    markdownTable(['model', 'backend', 'embed median', 'embed p90', 'inference median', 'ratio', 'PGD step'], latencyRows),
    '### One comparison (2 images × both models) and GPU→CPU readbacks',
    'compare = Engine.compare of a pair under both models (each image decoded once, one run of 2 per model), decode included; ratio = median / onnxruntime-node\'s; readbacks = GPUBuffer.mapAsync(READ) calls (WebGPU only).',
    markdownTable(
      ['backend', 'compare median', 'compare p90', 'ratio', 'readbacks per comparison', 'readbacks per PGD step (per model)'],
      [
        ['onnxruntime-node (CPU)', ms(nodeCompare.median), ms(nodeCompare.p90), '1.00', '—', '—'],
        ...comparisons.map((c) => {
          const label = BACKENDS.find((x) => x.id === c.backend)!.label;
          if ('error' in c) return [label, `failed: ${c.error}`, '', '', '', ''];
          const steps = browser.find((b) => b.backend === c.backend);
          const perStep = steps && 'results' in steps ? steps.results.map((r) => `${r.model}: ${r.readbacksPerAttackStep ?? '—'}`).join(', ') : '—';
          return [label, ms(c.result.compare.median), ms(c.result.compare.p90), (c.result.compare.median / nodeCompare.median).toFixed(2), c.result.readbacksPerCompare === null ? '—' : String(c.result.readbacksPerCompare), c.result.ep === 'webgpu' ? perStep : '—'];
        }),
      ],
    ),
    '### Memory in Chromium (comparisons under both models, then PGD steps and an APGD of as many iterates on the default)',
    markdownTable(
      ['backend', 'comparisons', 'attack steps', 'JS heap after warm-up', 'after comparisons', 'after PGD', 'after APGD', 'live GPU buffers (warm-up → comparisons → PGD → APGD)'],
      memory.map((m) =>
        'error' in m
          ? [m.backend, `failed: ${m.error}`, '', '', '', '', '', '']
          : [m.backend, String(m.comparisons), String(m.attackSteps), ...m.heap.map((h) => `${(h.jsHeapUsedBytes / 2 ** 20).toFixed(2)} MiB`), m.ep === 'webgpu' ? `${m.gpuBuffersLive.afterWarmup} → ${m.gpuBuffersLive.afterComparisons} → ${m.gpuBuffersLive.afterAttack} → ${m.gpuBuffersLive.afterApgd}` : 'n/a (wasm)'],
      ),
    ),
    '### Batch scaling in Node (inference only)',
    markdownTable(['model', 'batch', 'ms per batch', 'images/s'], scaling.map((s) => [s.model, String(s.batch), ms(s.msPerBatch), s.imagesPerSecond.toFixed(0)])),
    '### 2AFC quality (`rclip eval`, seed 0)',
    markdownTable(
      ['model', 'attack', 'images', 'triplets', 'clean', 'robust'],
      qualityRows.map((q) => [q.model, q.attack, String(q.report.images), String(q.report.n), pct(q.report.clean_accuracy), pct(q.report.robust_accuracy)]),
    ),
    `Machine: ${machine.cpu}, ${machine.cores} cores, Node ${machine.node}, onnxruntime-node ${machine.onnxruntimeNode}, onnxruntime-web ${machine.onnxruntimeWeb}, Chromium ${machine.chromium ?? '—'}. ${machine.note}`,
  ].join('\n\n');
  process.stdout.write(`${tables}\n`);
  mkdirSync(path.join(root, 'bench/results'), { recursive: true });
  const file = path.join(root, 'bench/results', `bench-${quick ? 'quick' : 'full'}.json`);
  writeFileSync(file, JSON.stringify({ date: new Date().toISOString(), mode: quick ? 'quick' : 'full', sizes: size, machine, node, nodeCompare, browser, comparisons, memory, scaling, quality: qualityRows }, null, 1) + '\n');
  log(`written: ${path.relative(root, file)}`);
}
