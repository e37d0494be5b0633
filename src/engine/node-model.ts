/** `--model`: an id from public/models/index.json, or a path to a model folder (one holding manifest.json). */
import { existsSync, statSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import path from 'node:path';
import { RclipError } from '../core/errors';
import type { TwoAfcModel } from '../core/twoafc';
import type { Engine, ModelInfo } from './engine';
import { createNodeEngine, DEFAULT_MODELS_DIR, type NodeImage } from './node';

export interface OpenModel {
  engine: Engine<NodeImage>;
  /** What the engine knows the model by: its id, or its folder ("name/") relative to the engine's base. */
  ref: string;
  info: ModelInfo;
}

const looksLikePath = (spec: string) => spec.includes('/') || spec.includes(path.sep) || spec.startsWith('.') || existsSync(spec);

export async function openModel(spec: string | undefined, options: { modelsDir?: string; threads?: number } = {}): Promise<OpenModel> {
  const threads = options.threads ?? Math.max(1, Math.min(4, availableParallelism()));
  if (spec !== undefined && looksLikePath(spec)) {
    const folder = path.resolve(spec);
    if (!existsSync(folder) || !statSync(folder).isDirectory()) {
      throw new RclipError('MODEL_NOT_FOUND', `Model folder "${spec}" does not exist (--model takes a model id or a folder holding manifest.json).`);
    }
    if (!existsSync(path.join(folder, 'manifest.json'))) throw new RclipError('MODEL_NOT_FOUND', `"${spec}" holds no manifest.json, so it is not a model folder.`);
    const engine = createNodeEngine({ modelsDir: path.dirname(folder), threads });
    const ref = `${path.basename(folder)}/`;
    return { engine, ref, info: await engine.loadModel(ref) };
  }
  const engine = createNodeEngine({ modelsDir: options.modelsDir ?? DEFAULT_MODELS_DIR, threads });
  const ref = spec ?? (await engine.index()).default;
  return { engine, ref, info: await engine.loadModel(ref) };
}

/** The model as the 2AFC benchmark drives it: embeddings, and attack.onnx's gradient brought back to pixel space. */
export async function twoAfcModel({ engine, ref, info }: OpenModel, withAttack: boolean): Promise<TwoAfcModel> {
  if (withAttack) await engine.attackSession(ref);
  return {
    input: info.manifest.input,
    embed: (pixels) => engine.embedPixels(ref, pixels),
    distanceGradient: async (pixels, target) => {
      if (!withAttack) throw new RclipError('ATTACK_UNAVAILABLE', 'The attack graph was not loaded.');
      return engine.distanceGradient(ref, pixels, target);
    },
  };
}

/**
 * Embeds files in batches (decode, preprocess, one ORT run per batch); errors name the file.
 * Default batch 1: in onnxruntime-node on the CPU, batching does not speed up inference of these
 * convnets (MobileNetV2 160 px: 13.5 ms/image at batch 1 and 12.7-13.7 at 16) and end to end
 * batch 16 was ~25% slower than 1 (bench/embed-batch.ts; numbers in bench/README.md).
 */
export async function embedFiles({ engine, ref }: OpenModel, files: readonly string[], onDone?: (done: number) => void, batchSize = 1): Promise<Float32Array[]> {
  const out: Float32Array[] = [];
  for (let i = 0; i < files.length; i += batchSize) {
    const batch = files.slice(i, i + batchSize);
    const pixels = await Promise.all(batch.map(async (f) => engine.pixelsFor(ref, (await engine.decode(f)).rgba)));
    out.push(...(await engine.embedPixels(ref, pixels)));
    onDone?.(out.length);
  }
  return out;
}
