/**
 * The Node side that `rclip eval` and the benchmarks (bench/) share: opening a model by id or
 * folder, the model as the benchmarks drive it (embeddings + attack.onnx's gradient in pixel space),
 * image folders and their 2AFC sources, and the one 2AFC runner over a folder.
 *
 * NOTE: imports the Node engine from src/cli/node-engine.ts until issue 12 moves it to src/engine/node.ts.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { pixelGradient, type AttackSettings } from '../core/attack';
import { RclipError } from '../core/errors';
import { normalize, pixelsToRgba, toModelPixels, type PixelTensor } from '../core/preprocess';
import { evaluationImageNames, runTwoAfc, WORK_BACKGROUND, WORK_SIZE, type TripletResult, type TripletSources, type TwoAfcModel, type TwoAfcReport } from '../core/twoafc';
import { createNodeEngine, decodeImageFile, DEFAULT_MODELS_DIR, type NodeImage } from '../cli/node-engine';
import type { Engine, ModelInfo } from './engine';

export interface OpenModel {
  engine: Engine<NodeImage>;
  /** What the engine knows the model by: its id, or its folder ("name/") relative to the engine's base. */
  ref: string;
  info: ModelInfo;
}

const looksLikePath = (spec: string) => spec.includes('/') || spec.includes(path.sep) || spec.startsWith('.') || existsSync(spec);

/** `--model`: an id from public/models/index.json (default: the index's default), or a path to a model folder. */
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

/** The index's default (robust) and baseline model ids. */
export async function indexModels(modelsDir = DEFAULT_MODELS_DIR): Promise<{ default: string; baseline: string }> {
  const index = await createNodeEngine({ modelsDir }).index();
  return { default: index.default, baseline: index.baseline };
}

/** The model as the benchmarks drive it: embeddings, and attack.onnx's gradient brought back to pixel space. */
export async function twoAfcModel({ engine, ref, info }: OpenModel, withAttack: boolean): Promise<TwoAfcModel> {
  const input = info.manifest.input;
  const session = withAttack ? await engine.attackSession(ref) : null;
  return {
    input,
    embed: (pixels) => engine.embedPixels(ref, pixels),
    distanceGradient: async (pixels, target) => {
      if (!session) throw new RclipError('ATTACK_UNAVAILABLE', 'The attack graph was not loaded.');
      const { distance, grad } = await engine.run(undefined, () => session.attackGradient(normalize({ size: input.size, data: pixels }, input), target));
      return { distance, grad: pixelGradient(grad, input.std) };
    },
  };
}

export function isFolder(p: string): boolean {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
}

/** The file names (not paths) in a folder. */
export function readFolder(dir: string): string[] {
  try {
    return readdirSync(dir).filter((n) => statSync(path.join(dir, n)).isFile());
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new RclipError('IMAGE_FETCH_FAILED', code === 'ENOENT' ? `Folder "${dir}" does not exist.` : `Cannot read folder "${dir}": ${(err as Error).message}`, { cause: err });
  }
}

/** The file names (not paths) in a folder, unfiltered: the 2AFC split rule filters them itself. */
export function folderEntries(dir: string): string[] {
  if (existsSync(dir) && !isFolder(dir)) throw new RclipError('IMAGE_FETCH_FAILED', `"${dir}" is a file, not a folder.`);
  return readFolder(dir);
}

/** Encodes at a JPEG quality (sharp/libjpeg) and decodes again, at the tensor's size. */
export async function jpegRoundTrip(pixels: PixelTensor, quality: number): Promise<PixelTensor> {
  const s = pixels.size;
  const encoded = await sharp(Buffer.from(pixelsToRgba(pixels).data), { raw: { width: s, height: s, channels: 4 } }).jpeg({ quality }).toBuffer();
  const { data, info } = await sharp(encoded).ensureAlpha().raw().toBuffer({ resolveWithObject: true });
  return toModelPixels({ width: info.width, height: info.height, data }, { size: s, background: WORK_BACKGROUND });
}

/** 2AFC inputs from a folder: decoded like every CLI image, centre-cropped to WORK_SIZE, cached (other photos are reused). */
export function folderTripletSources(dir: string, evaluation: readonly string[]): TripletSources {
  const cache = new Map<string, Promise<PixelTensor>>();
  const load = (name: string) => {
    let pending = cache.get(name);
    if (!pending) {
      pending = decodeImageFile(path.join(dir, name)).then((rgba) => toModelPixels(rgba, { size: WORK_SIZE, background: WORK_BACKGROUND }));
      cache.set(name, pending);
    }
    return pending;
  };
  return { evaluation, load, jpeg: jpegRoundTrip };
}

/**
 * The one 2AFC runner over a folder (rclip eval, npm run bench, the suite): the evaluation split of
 * `dir`, the first `limit` of it, triplets drawn from the whole split.
 */
export async function runFolderTwoAfc(
  model: TwoAfcModel,
  dir: string,
  options: { limit?: number; seed: number; attack: AttackSettings | null; onImage?: (done: number, total: number) => void },
): Promise<{ report: TwoAfcReport; results: TripletResult[]; images: string[] }> {
  const all = evaluationImageNames(folderEntries(dir));
  if (all.length < 2) throw new RclipError('INVALID_ARGUMENT', `"${dir}" has ${all.length} evaluation image(s) (sorted index i % 5 == 4 of its jpg/jpeg/png/webp files); at least 2 are needed.`);
  const images = options.limit === undefined ? all : all.slice(0, options.limit);
  const { report, results } = await runTwoAfc(model, folderTripletSources(dir, all), { images, seed: options.seed, attack: options.attack, onImage: options.onImage });
  return { report, results, images };
}
