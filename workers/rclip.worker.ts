/**
 * The worker: a thin Comlink façade over the browser engine. Failures cross to the page with their
 * code through one Comlink throw handler (./errors).
 */
import * as Comlink from 'comlink';
import { RclipError } from '../src/core/errors';
import { createBrowserEngine, type BackendPreference, type ImageInput } from '../src/engine/browser';
import type { AttackStep } from '../src/core/attack';
import type { AttackRequest } from '../src/engine/attack';
import type { Engine } from '../src/engine/engine';
import type { LoadProgress } from '../src/engine/model-loader';
import { evadePhashJob } from '../src/engine/phash-evasion';
import type { RgbaImage } from '../src/core/preprocess';
import type { SquareProgress, SquareSettings } from '../src/core/square';
import { installErrorTransfer } from './errors';

installErrorTransfer();

export interface WorkerInit {
  modelsBase: string;
  backend: BackendPreference;
  /** ORT log level; 0 logs node placement (used by tests to prove WebGPU ran every node). */
  logSeverityLevel?: 0 | 1 | 2 | 3 | 4;
}

export interface JobOptions {
  model: string;
  /** The page's handle for cancel(jobId); the engine itself only sees the job's AbortSignal. */
  jobId?: string;
}

let engine: Engine<ImageInput> | null = null;
const jobs = new Map<string, AbortController>();

/**
 * One job's life in the worker: an AbortController from the request's arrival (set synchronously,
 * so a cancel that follows the request always finds it) to its end; cancel(jobId) aborts it.
 */
async function job<T>(jobId: string | undefined, work: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const controller = new AbortController();
  if (jobId) jobs.set(jobId, controller);
  try {
    return await work(controller.signal);
  } finally {
    if (jobId && jobs.get(jobId) === controller) jobs.delete(jobId);
  }
}

function current(): Engine<ImageInput> {
  if (!engine) throw new RclipError('INVALID_ARGUMENT', 'The worker was not initialised (call init first).');
  return engine;
}

const api = {
  async init(options: WorkerInit) {
    engine = createBrowserEngine(options);
    return engine.backendInfo();
  },
  async listModels() {
    return current().index();
  },
  async loadModel(id: string, onProgress?: (p: LoadProgress) => void) {
    return current().loadModel(id, onProgress);
  },
  async unloadModel(id: string) {
    return current().unloadModel(id);
  },
  embed(image: ImageInput, options: JobOptions) {
    return job(options.jobId, async (signal) => {
      const result = await current().embed(image, options.model, { signal });
      return Comlink.transfer(result, [result.embedding.buffer]);
    });
  },
  distance(a: ImageInput, b: ImageInput, options: JobOptions) {
    return job(options.jobId, (signal) => current().distance(a, b, options.model, { signal }));
  },
  /** d(a, b) under several models (robust and baseline): each image decoded once in the worker. */
  compare(a: ImageInput, b: ImageInput, options: Omit<JobOptions, 'model'> & { models: string[] }) {
    return job(options.jobId, (signal) => current().compare(a, b, options.models, { signal }));
  },
  /** onStep is its own argument: Comlink proxies only top-level arguments. */
  attack(image: ImageInput, target: ImageInput | null, request: AttackRequest, options: Omit<JobOptions, 'model'>, onStep?: (s: AttackStep) => void) {
    return job(options.jobId, async (signal) => {
      const out = await current().attack(image, target, request, { signal, onStep });
      return Comlink.transfer(out, [out.adversarial.data.buffer, out.adversarialRgba.data.buffer, out.perturbation.buffer, ...(out.fullSize ? [out.fullSize.rgba.data.buffer] : [])]);
    });
  },
  /**
   * Square Attack on the pHash of `image` against the listed hashes: pure JS (no model), run here so
   * the page stays responsive for its thousand-odd hashes; onProgress is its own argument, as for attack.
   */
  evadePhash(image: RgbaImage, listed: string[], settings: SquareSettings, options: Omit<JobOptions, 'model'>, onProgress?: (p: SquareProgress) => void) {
    return job(options.jobId, async (signal) => {
      const out = await evadePhashJob(image, listed, settings, { signal, onProgress });
      return Comlink.transfer(out, [out.adversarial.data.buffer]);
    });
  },
  cancel(jobId: string) {
    jobs.get(jobId)?.abort();
  },
  /** Test hook (compiled in only with __RCLIP_TEST_HOOKS__): an uncaught error in the worker, to check that callers are told and recover. */
  simulateCrash: __RCLIP_TEST_HOOKS__
    ? () => {
        setTimeout(() => {
          throw new Error('simulated worker crash');
        });
      }
    : undefined,
};

export type WorkerApi = typeof api;

// ORT's wasm threads start from this same script (their name starts with "em-pthread"); exposing
// Comlink in them would steal their messages and hang session creation.
if (!self.name?.startsWith('em-pthread')) Comlink.expose(api);
