/**
 * The worker: a thin Comlink façade over the browser engine. Every method turns failures into plain
 * { code, message } objects, because Comlink would drop an Error subclass's code on the way out.
 */
import * as Comlink from 'comlink';
import { serializeError } from '../src/core/errors';
import { createBrowserEngine, type BackendPreference, type ImageInput } from '../src/engine/browser';
import type { AttackStep } from '../src/core/attack';
import { attackImage, type AttackRequest } from '../src/engine/attack';
import type { Engine } from '../src/engine/engine';
import type { LoadProgress } from '../src/engine/model-loader';

export interface WorkerInit {
  modelsBase: string;
  backend: BackendPreference;
  /** ORT log level; 0 logs node placement (used by tests to prove WebGPU ran every node). */
  logSeverityLevel?: 0 | 1 | 2 | 3 | 4;
}

export interface JobOptions {
  model: string;
  jobId?: string;
}

let engine: Engine<ImageInput> | null = null;

function current(): Engine<ImageInput> {
  if (!engine) throw { code: 'INVALID_ARGUMENT', message: 'The worker was not initialised (call init first).' };
  return engine;
}

async function guarded<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (err) {
    throw serializeError(err);
  }
}

const api = {
  init(options: WorkerInit) {
    return guarded(async () => {
      engine = createBrowserEngine(options);
      return engine.backendInfo();
    });
  },
  listModels() {
    return guarded(() => current().index());
  },
  loadModel(id: string, onProgress?: (p: LoadProgress) => void) {
    return guarded(() => current().loadModel(id, onProgress));
  },
  unloadModel(id: string) {
    return guarded(() => current().unloadModel(id));
  },
  embed(image: ImageInput, options: JobOptions) {
    return guarded(async () => {
      const result = await current().embed(image, options.model, options.jobId);
      return Comlink.transfer(result, [result.embedding.buffer]);
    });
  },
  distance(a: ImageInput, b: ImageInput, options: JobOptions) {
    return guarded(() => current().distance(a, b, options.model, options.jobId));
  },
  attack(image: ImageInput, target: ImageInput | null, request: AttackRequest, onStep?: (s: AttackStep) => void) {
    return guarded(async () => {
      const engine = current();
      try {
        const [a, b] = await Promise.all([engine.decode(image), target ? engine.decode(target) : null]);
        const out = await attackImage(engine, a.rgba, b?.rgba ?? null, request, onStep);
        return Comlink.transfer(out, [out.adversarial.data.buffer, out.adversarialRgba.data.buffer, out.perturbation.buffer]);
      } finally {
        engine.finish(request.jobId);
      }
    });
  },
  cancel(jobId: string) {
    engine?.cancel(jobId);
  },
  /** Test hook: an uncaught error in the worker, to check that callers are told and recover. */
  simulateCrash() {
    setTimeout(() => {
      throw new Error('simulated worker crash');
    });
  },
};

export type WorkerApi = typeof api;

// ORT's wasm threads start from this same script (their name starts with "em-pthread"); exposing
// Comlink in them would steal their messages and hang session creation.
if (!self.name?.startsWith('em-pthread')) Comlink.expose(api);
