/**
 * The browser half of `npm run bench`: the engine (onnxruntime-web, the same code the worker runs)
 * on the page's main thread, timed per EP. GPU buffers are counted (liveGpuBuffers) from before ORT
 * asks for a device, so leaks show up as a growing live count.
 */
import * as ort from 'onnxruntime-web/webgpu';
import { chooseBackend, decodeImage } from '../../src/engine/browser';
import { Engine, type BackendChoice } from '../../src/engine/engine';
import { FetchModelSource } from '../../src/engine/fetch-source';
import { attackStepCost, msPerAttackStep } from '../attack-timing';
import { attackSettings } from '../../src/core/attack';
import { liveGpuBuffers, readbackCounter } from './gpu-readbacks';
import { latencyStats, type LatencyStats } from '../stats';

export type BenchBackend = 'wasm-1' | 'wasm-threads' | 'webgpu';

const gpuBuffers = liveGpuBuffers();
const readbacks = readbackCounter();

async function backendFor(kind: BenchBackend): Promise<BackendChoice> {
  if (kind === 'webgpu') {
    const choice = await chooseBackend('webgpu');
    if (choice.ep !== 'webgpu') throw new Error(`WebGPU unavailable: ${choice.reason}`);
    return choice;
  }
  const threads = kind === 'wasm-1' ? 1 : Math.max(1, Math.min(4, navigator.hardwareConcurrency || 1));
  if (threads > 1 && !self.crossOriginIsolated) throw new Error('wasm threads need a cross-origin-isolated page');
  ort.env.wasm.numThreads = threads;
  return { ep: 'wasm', reason: `wasm, ${threads} thread(s)`, adapter: null, threads };
}

function createEngine(kind: BenchBackend) {
  return new Engine<Uint8Array>({
    ort,
    source: new FetchModelSource(new URL('/models/', location.href)),
    chooseBackend: () => backendFor(kind),
    decode: (bytes) => decodeImage(bytes),
  });
}

async function imageBytes(url: string): Promise<Uint8Array> {
  return new Uint8Array(await (await fetch(url)).arrayBuffer());
}

export interface BrowserModelResult {
  model: string;
  ep: string;
  reason: string;
  threads: number;
  adapter: BackendChoice['adapter'];
  loadMs: number;
  /** Whole engine.embed (decode + preprocess + inference) per image. */
  embed: LatencyStats;
  inference: LatencyStats;
  /** One PGD step = one attack.onnx run (distance + gradient) plus the projection in JS, or one attack_step.onnx run on WebGPU when the model ships it. */
  attackStepMs: number;
  /** GPU→CPU readbacks (GPUBuffer.mapAsync for reading) per PGD step; null on wasm. */
  readbacksPerAttackStep: number | null;
}

export interface ComparisonResult {
  ep: string;
  models: string[];
  /** Engine.compare of 2 images under all models: decode once per image, one run of 2 per model. */
  compare: LatencyStats;
  /** GPU→CPU readbacks per comparison; null on wasm. */
  readbacksPerCompare: number | null;
}

export interface MemoryResult {
  /** Compared under all of these; the attack steps run on models[0] (the default). */
  models: string[];
  ep: string;
  comparisons: number;
  /** PGD steps, then an APGD of as many iterates (both on attack_step.onnx on WebGPU). */
  attackSteps: number;
  gpuBuffersLive: { afterWarmup: number; afterComparisons: number; afterAttack: number; afterApgd: number };
  gpuBuffersCreated: number;
}

async function latency(kind: BenchBackend, models: string[], images: string[], runs: number, steps: number): Promise<BrowserModelResult[]> {
  const engine = createEngine(kind);
  const backend = await engine.backendInfo();
  const bytes = await Promise.all(images.map(imageBytes));
  const out: BrowserModelResult[] = [];
  for (const model of models) {
    const info = await engine.loadModel(model);
    await engine.embed(bytes[0], model); // warm-up: first runs compile shaders / allocate
    const total: number[] = [];
    const inference: number[] = [];
    for (let i = 0; i < runs; i++) {
      const r = await engine.embed(bytes[i % bytes.length], model);
      total.push(r.timings.totalMs);
      inference.push(r.timings.inferenceMs);
    }
    const rgba = (await engine.decode(bytes[0])).rgba;
    await msPerAttackStep(engine, model, rgba, 1);
    const cost = await attackStepCost(engine, model, rgba, steps, info.ep === 'webgpu' ? readbacks : undefined);
    out.push({ model, ep: info.ep, reason: backend.reason, threads: backend.threads, adapter: backend.adapter, loadMs: info.loadMs, embed: latencyStats(total), inference: latencyStats(inference), attackStepMs: cost.msPerStep, readbacksPerAttackStep: cost.readbacksPerStep });
    await engine.unloadModel(model);
  }
  return out;
}

async function comparison(kind: BenchBackend, models: string[], images: string[], runs: number): Promise<ComparisonResult> {
  const engine = createEngine(kind);
  const bytes = await Promise.all(images.map(imageBytes));
  let ep = '';
  for (const model of models) ep = (await engine.loadModel(model)).ep;
  await engine.compare(bytes[0], bytes[1], models); // warm-up
  const total: number[] = [];
  const before = readbacks();
  for (let i = 0; i < runs; i++) total.push((await engine.compare(bytes[i % bytes.length], bytes[(i + 1) % bytes.length], models)).timings.totalMs);
  const perCompare = (readbacks() - before) / runs;
  for (const model of models) await engine.unloadModel(model);
  return { ep, models, compare: latencyStats(total), readbacksPerCompare: ep === 'webgpu' ? perCompare : null };
}

/** The issue-14 memory check: `comparisons` × Engine.compare (2 images under all models), then PGD steps and an APGD of as many iterates on models[0]. */
async function memory(kind: BenchBackend, models: string[], images: string[], comparisons: number, steps: number, mark: (label: string) => Promise<void>): Promise<MemoryResult> {
  const engine = createEngine(kind);
  const [a, b] = await Promise.all(images.map(imageBytes));
  let ep = '';
  for (const model of models) ep = (await engine.loadModel(model)).ep;
  await engine.compare(a, b, models);
  const rgba = (await engine.decode(a)).rgba;
  await msPerAttackStep(engine, models[0], rgba, 1);
  const apgd = { model: models[0], objective: 'push-apart' as const };
  await engine.attackDecoded(rgba, null, { ...apgd, settings: attackSettings('apgd', 'linf', 4 / 255, 1) });
  const afterWarmup = gpuBuffers().live;
  await mark('warm');
  for (let i = 0; i < comparisons; i++) await engine.compare(i % 2 ? b : a, i % 2 ? a : b, models);
  const afterComparisons = gpuBuffers().live;
  await mark('comparisons');
  await msPerAttackStep(engine, models[0], rgba, steps);
  const afterAttack = gpuBuffers().live;
  await mark('attack');
  await engine.attackDecoded(rgba, null, { ...apgd, settings: attackSettings('apgd', 'linf', 4 / 255, steps) });
  const afterApgd = gpuBuffers().live;
  await mark('apgd');
  for (const model of models) await engine.unloadModel(model);
  return { models, ep, comparisons, attackSteps: steps, gpuBuffersLive: { afterWarmup, afterComparisons, afterAttack, afterApgd }, gpuBuffersCreated: gpuBuffers().created };
}

declare global {
  interface Window {
    rclipBench: { latency: typeof latency; comparison: typeof comparison; memory: (kind: BenchBackend, models: string[], images: string[], comparisons: number, steps: number) => Promise<MemoryResult>; crossOriginIsolated: boolean };
    /** Exposed by Playwright: lets the runner read CDP heap metrics at the page's checkpoints. */
    rclipMark?: (label: string) => Promise<void>;
  }
}

window.rclipBench = {
  latency,
  comparison,
  memory: (kind, models, images, comparisons, steps) => memory(kind, models, images, comparisons, steps, async (label) => window.rclipMark?.(label)),
  crossOriginIsolated: self.crossOriginIsolated,
};
