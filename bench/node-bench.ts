/** The Node half of `npm run bench`: onnxruntime-node latency, attack step cost, batch scaling, and 2AFC quality. */
import type { AttackSettings } from '../src/core/attack';
import type { TwoAfcReport } from '../src/core/twoafc';
import { availableParallelism } from 'node:os';
import { createNodeEngine } from '../src/engine/node';
import { runFolderTwoAfc } from '../src/engine/node-eval';
import { openModel, twoAfcModel } from '../src/engine/node-model';
import { msPerAttackStep } from './attack-timing';
import { latencyStats, type LatencyStats } from './stats';

export interface NodeLatency {
  model: string;
  threads: number;
  embed: LatencyStats;
  inference: LatencyStats;
  attackStepMs: number;
}

/** `threads`: onnxruntime-node's intra-op threads (default: the CLI's, up to 4), so wasm can be compared per thread. */
export async function nodeLatency(models: string[], images: string[], runs: number, steps: number, threads?: number): Promise<NodeLatency[]> {
  const out: NodeLatency[] = [];
  for (const id of models) {
    const m = await openModel(id, { threads });
    await m.engine.embed(images[0], m.ref);
    const total: number[] = [];
    const inference: number[] = [];
    for (let i = 0; i < runs; i++) {
      const r = await m.engine.embed(images[i % images.length], m.ref);
      total.push(r.timings.totalMs);
      inference.push(r.timings.inferenceMs);
    }
    const rgba = (await m.engine.decode(images[0])).rgba;
    await msPerAttackStep(m.engine, m.ref, rgba, 1);
    out.push({ model: id, threads: (await m.engine.backendInfo()).threads, embed: latencyStats(total), inference: latencyStats(inference), attackStepMs: await msPerAttackStep(m.engine, m.ref, rgba, steps) });
    await m.engine.unloadModel(m.ref);
  }
  return out;
}

/** One comparison as the page makes it: 2 images × all `models` in one Engine.compare (one decode per image). */
export async function nodeComparison(models: string[], images: string[], runs: number): Promise<LatencyStats> {
  const engine = createNodeEngine({ threads: Math.max(1, Math.min(4, availableParallelism())) });
  for (const m of models) await engine.loadModel(m);
  await engine.compare(images[0], images[1], models);
  const total: number[] = [];
  for (let i = 0; i < runs; i++) total.push((await engine.compare(images[i % images.length], images[(i + 1) % images.length], models)).timings.totalMs);
  for (const m of models) await engine.unloadModel(m);
  return latencyStats(total);
}

export interface BatchScaling {
  model: string;
  batch: number;
  msPerBatch: number;
  imagesPerSecond: number;
}

/** Inference only (pixels prepared beforehand), so the batch size is the one thing that changes. */
export async function batchScaling(model: string, image: string, batches: number[], images: number): Promise<BatchScaling[]> {
  const m = await openModel(model);
  const pixels = await m.engine.pixelsFor(m.ref, (await m.engine.decode(image)).rgba);
  const out: BatchScaling[] = [];
  for (const batch of batches) {
    const input = Array.from({ length: batch }, () => pixels);
    await m.engine.embedPixels(m.ref, input);
    const rounds = Math.max(2, Math.ceil(images / batch));
    const times: number[] = [];
    for (let r = 0; r < rounds; r++) {
      const t0 = performance.now();
      await m.engine.embedPixels(m.ref, input);
      times.push(performance.now() - t0);
    }
    const msPerBatch = latencyStats(times).median;
    out.push({ model, batch, msPerBatch, imagesPerSecond: (1000 * batch) / msPerBatch });
  }
  await m.engine.unloadModel(m.ref);
  return out;
}

export interface QualityRow {
  model: string;
  attack: string;
  command: string;
  report: TwoAfcReport;
  seconds: number;
}

export async function quality(models: string[], dir: string, limit: number | undefined, attacks: Array<{ label: string; args: string; settings: AttackSettings }>): Promise<QualityRow[]> {
  const rows: QualityRow[] = [];
  for (const id of models) {
    const opened = await openModel(id);
    const model = await twoAfcModel(opened, true);
    for (const a of attacks) {
      const t0 = performance.now();
      const { report, images } = await runFolderTwoAfc(model, dir, { limit, seed: 0, attack: a.settings });
      const command = `rclip eval --images ${dir} --model ${id} ${a.args}${limit === undefined ? '' : ` --limit ${limit}`} --json`;
      rows.push({ model: id, attack: a.label, command, report, seconds: (performance.now() - t0) / 1000 });
      process.stderr.write(`  quality ${id} ${a.label}: clean ${report.clean_accuracy.toFixed(3)} robust ${report.robust_accuracy?.toFixed(3)} (${images.length} images)\n`);
    }
    await opened.engine.unloadModel(opened.ref);
  }
  return rows;
}
