/** `--model`: an id from public/models/index.json, or a path to a model folder (one holding manifest.json). */
import { existsSync, statSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import path from 'node:path';
import { RclipError, type ErrorCode } from '../core/errors';
import type { PixelTensor } from '../core/preprocess';
import type { TwoAfcModel } from '../core/twoafc';
import type { Engine, ModelInfo } from './engine';
import { createNodeEngine, DEFAULT_MODELS_DIR, type NodeImage } from './node';
import { decodePool } from './node-decode-pool';

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
  const index = await engine.index();
  // An id the index lacks is a mistyped argument (bad usage), not a model that failed to load.
  if (spec !== undefined && !index.models.some((m) => m.id === spec)) {
    throw new RclipError('INVALID_ARGUMENT', `--model "${spec}" is not a known model id (${index.models.map((m) => m.id).join(', ')}) nor a model folder.`);
  }
  const ref = spec ?? index.default;
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

/** An input file that could not be embedded (missing, empty, not an image, corrupt, too large), with why. */
export interface SkippedFile {
  file: string;
  code: ErrorCode;
  message: string;
}

/** One input's outcome, in input order: its embedding, or why it was skipped. */
export type FileOutcome = { file: string; embedding: Float32Array; skipped?: undefined } | { file: string; embedding?: undefined; skipped: SkippedFile };

export interface EmbedOptions {
  /** Throw the first unreadable file's error (the old stop-at-first-error) instead of reporting it and going on. */
  strict?: boolean;
  /** Files in flight at once, spread over the decode worker threads (node-decode-pool.ts) while this thread runs ORT. */
  concurrency?: number;
  /** Most images per ORT run; a run takes only images already decoded, so a slow input never stalls one. */
  batchSize?: number;
}

/**
 * onnxruntime-node threads for bulk embedding: the pipeline already keeps every core busy decoding
 * and preprocessing, and a second intra-op thread cost more CPU per image than it saved (bench/README.md).
 */
export const EMBED_THREADS = 1;

/** Measured by bench/embed-throughput.ts (bench/README.md): decodes in flight and images per ORT run. */
export const DEFAULT_EMBED_CONCURRENCY = 4;
export const DEFAULT_EMBED_BATCH = 1;

/**
 * `err` as the file's own failure (reported, the run goes on), or null for anything else (no sharp,
 * a broken model, ORT failing), which ends the run.
 */
export function skippedFile(file: string, err: unknown): SkippedFile | null {
  if (err instanceof RclipError) return err.code.startsWith('IMAGE_') ? { file, code: err.code, message: err.message } : null;
  // toModelPixels' RangeError (an image with no pixels) is the file's fault too.
  return err instanceof RangeError ? { file, code: 'IMAGE_DECODE_FAILED', message: `"${file}" has no pixels.` } : null;
}

/** Wakes whoever waits for the window to change (a slot settled, taken, or added, or the input ended). */
class Wakeup {
  private waiters: Array<() => void> = [];
  wait(): Promise<void> {
    return new Promise((resolve) => this.waiters.push(resolve));
  }
  notify(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }
}

interface Slot {
  file: string;
  settled: boolean;
  pixels?: PixelTensor;
  error?: unknown;
  done: Promise<void>;
}

/**
 * Embeds files as they come (an array, or an async source such as stdin's lines), yielding one
 * outcome per file in input order as soon as it is known. Up to `concurrency` files are decoded and
 * preprocessed at once on the decode worker threads; each ORT run takes the decoded files at the head of the queue (at most
 * `batchSize`). An unreadable file yields `skipped` (or, with `strict`, throws).
 */
export async function* embedEach({ engine, ref, info }: OpenModel, files: Iterable<string> | AsyncIterable<string>, options: EmbedOptions = {}): AsyncGenerator<FileOutcome> {
  const concurrency = Math.max(1, options.concurrency ?? DEFAULT_EMBED_CONCURRENCY);
  const batchSize = Math.max(1, options.batchSize ?? DEFAULT_EMBED_BATCH);
  const queue: Slot[] = [];
  const wakeup = new Wakeup();
  let inputEnded = false;
  let inputError: unknown = null;
  let stopped = false;
  const prepare = (file: string): Slot => {
    const slot: Slot = { file, settled: false, done: Promise.resolve() };
    slot.done = decodePool()
      .pixels(file, info.manifest.input)
      .then(
        (pixels) => void (slot.pixels = pixels),
        (err) => void (slot.error = err),
      )
      .finally(() => {
        slot.settled = true;
        wakeup.notify();
      });
    return slot;
  };
  const producer = (async () => {
    try {
      for await (const file of files) {
        while (!stopped && queue.length >= concurrency) await wakeup.wait();
        if (stopped) return;
        queue.push(prepare(file));
        wakeup.notify();
      }
    } catch (err) {
      inputError = err;
    } finally {
      inputEnded = true;
      wakeup.notify();
    }
  })();
  try {
    for (;;) {
      while (queue.length === 0 && !inputEnded) await wakeup.wait();
      if (queue.length === 0) break;
      await queue[0].done;
      let n = 1;
      while (n < queue.length && n < batchSize && queue[n].settled) n++;
      const batch = queue.splice(0, n);
      wakeup.notify();
      const outcomes: Array<SkippedFile | null> = batch.map((slot) => {
        if (slot.pixels) return null;
        const skipped = skippedFile(slot.file, slot.error);
        if (skipped === null || options.strict) throw slot.error;
        return skipped;
      });
      const ready = batch.filter((slot) => slot.pixels);
      const embeddings = ready.length ? await engine.embedPixels(ref, ready.map((slot) => slot.pixels!)) : [];
      let k = 0;
      for (let i = 0; i < batch.length; i++) {
        const skipped = outcomes[i];
        yield skipped ? { file: batch[i].file, skipped } : { file: batch[i].file, embedding: embeddings[k++] };
      }
    }
    await producer;
    if (inputError) throw inputError;
  } finally {
    stopped = true;
    wakeup.notify();
  }
}

export interface EmbeddedFiles {
  /** The files embedded, in input order; `embeddings[i]` is `files[i]`'s. */
  files: string[];
  embeddings: Float32Array[];
  skipped: SkippedFile[];
}

/**
 * embedEach over a list, collected: every readable file embedded, every unreadable one in `skipped`
 * (reported through onSkip as it happens). onDone counts files handled, skipped ones included.
 */
export async function embedFiles(
  model: OpenModel,
  files: readonly string[],
  options: EmbedOptions & { onDone?: (done: number) => void; onSkip?: (skipped: SkippedFile) => void } = {},
): Promise<EmbeddedFiles> {
  const out: EmbeddedFiles = { files: [], embeddings: [], skipped: [] };
  let done = 0;
  for await (const outcome of embedEach(model, files, options)) {
    if (outcome.skipped) {
      out.skipped.push(outcome.skipped);
      options.onSkip?.(outcome.skipped);
    } else {
      out.files.push(outcome.file);
      out.embeddings.push(outcome.embedding);
    }
    options.onDone?.(++done);
  }
  return out;
}
