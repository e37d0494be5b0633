/**
 * The programmatic API (`createMetric`): typed, async, one worker per metric. It hides Comlink,
 * turns worker failures into RclipError with stable codes, supports AbortSignal, and replaces a
 * crashed worker on the next call (reloading the models it had).
 */
import * as Comlink from 'comlink';
import { RclipError, toRclipError } from '../core/errors';
import type { ModelIndex } from '../core/manifest';
import type { BackendPreference, ImageInput } from '../engine/browser';
import type { BackendChoice, CompareResult, DistanceResult, EmbedResult, ModelInfo } from '../engine/engine';
import type { LoadProgress } from '../engine/model-loader';
import { installErrorTransfer } from '../../workers/errors';
import type { WorkerApi } from '../../workers/rclip.worker';
import { attackSettings, PAPER_DEFAULTS, type AttackObjective, type AttackSettings, type AttackStep } from '../core/attack';
import type { AttackOutcome, AttackSize, FullSizeCopy } from '../engine/attack';
import type { PhashEvasion } from '../core/phash';
import type { RgbaImage } from '../core/preprocess';
import { squareSettings, SQUARE_DEFAULTS, type SquareProgress } from '../core/square';

// Errors thrown in the worker arrive as RclipError with their code.
installErrorTransfer();

export type { AttackOutcome, AttackSize, FullSizeCopy, AttackSettings, AttackStep, PhashEvasion, SquareProgress, BackendChoice, CompareResult, DistanceResult, EmbedResult, ImageInput, LoadProgress, ModelIndex, ModelInfo };

export interface AttackOptions extends Partial<AttackSettings> {
  /** The attacked model; default: the default (robust) model. */
  model?: string;
  /** Also measure the adversarial image with this model (e.g. the baseline). */
  otherModel?: string;
  objective?: AttackObjective;
  /** Image B, required for pull-together. */
  target?: ImageInput;
  /** 'model' (default): attack the resized, cropped model input; 'full': the image at its own size through the preprocessing (outcome.fullSize holds the copy). */
  size?: AttackSize;
  signal?: AbortSignal;
  onStep?: (step: AttackStep) => void;
}

export interface PhashEvasionOptions {
  /** L∞ radius in [0,1] pixel units; default 4/255. */
  eps?: number;
  /** Square's query budget; default 1,000. */
  queries?: number;
  seed?: number;
  signal?: AbortSignal;
  onProgress?: (p: SquareProgress) => void;
}

export interface MetricOptions {
  /** URL of the folder holding index.json; default: "models/" next to the page. */
  modelsBase?: string;
  /**
   * 'auto' (default): WebGPU on a hardware adapter, else wasm; a software fallback adapter (SwiftShader)
   * counts as no GPU. 'webgpu' forces WebGPU on any adapter (wasm only when there is none); 'wasm'.
   * backend() tells which EP was chosen and why.
   */
  backend?: BackendPreference;
  logSeverityLevel?: 0 | 1 | 2 | 3 | 4;
  /** Builds the worker; the default is the bundled one. */
  createWorker?: () => Worker;
  /** Told when the worker dies, even with no request in flight; the next request starts a new one. */
  onWorkerCrash?: (err: RclipError) => void;
}

export interface CallOptions {
  model?: string;
  signal?: AbortSignal;
}

export interface CompareOptions {
  /** The models to measure with, in order; default: the default (robust) model and the index's baseline. */
  models?: string[];
  signal?: AbortSignal;
}

function defaultWorker(): Worker {
  return new Worker(new URL('../../workers/rclip.worker.ts', import.meta.url), { type: 'module', name: 'rclip' });
}

let jobCounter = 0;

export class Metric {
  private worker: Worker | null = null;
  private remote: Comlink.Remote<WorkerApi> | null = null;
  private backendPromise: Promise<BackendChoice> | null = null;
  private readonly pending = new Set<(err: RclipError) => void>();
  private indexPromise: Promise<ModelIndex> | null = null;
  readonly modelsBase: string;

  constructor(private readonly options: MetricOptions = {}) {
    this.modelsBase = new URL(options.modelsBase ?? 'models/', globalThis.location?.href).href;
  }

  /** Starts the worker if needed; after a crash, a fresh one. */
  private connect(): Comlink.Remote<WorkerApi> {
    if (this.remote) return this.remote;
    const worker = (this.options.createWorker ?? defaultWorker)();
    const remote = Comlink.wrap<WorkerApi>(worker);
    worker.addEventListener('error', (event) => {
      event.preventDefault();
      this.onCrash(event.message || 'the worker stopped unexpectedly');
    });
    worker.addEventListener('messageerror', () => this.onCrash('a message from the worker could not be read'));
    this.worker = worker;
    this.remote = remote;
    this.backendPromise = remote.init({
      modelsBase: this.modelsBase,
      backend: this.options.backend ?? 'auto',
      logSeverityLevel: this.options.logSeverityLevel,
    });
    return remote;
  }

  private onCrash(reason: string) {
    const err = new RclipError('WORKER_CRASHED', `The model worker crashed (${reason}). It will be restarted on the next request.`);
    this.worker?.terminate();
    this.worker = null;
    this.remote = null;
    this.backendPromise = null;
    for (const reject of this.pending) reject(err);
    this.pending.clear();
    this.options.onWorkerCrash?.(err);
  }

  /** Calls the worker, rejecting on crash or abort, and mapping errors to RclipError. */
  private call<T>(work: (remote: Comlink.Remote<WorkerApi>) => Promise<T>, signal?: AbortSignal, onAbort?: () => void): Promise<T> {
    if (signal?.aborted) return Promise.reject(new RclipError('CANCELLED', 'The request was cancelled.'));
    return new Promise<T>((resolve, reject) => {
      const fail = (err: RclipError) => {
        cleanup();
        reject(err);
      };
      const abort = () => {
        onAbort?.();
        fail(new RclipError('CANCELLED', 'The request was cancelled.'));
      };
      const cleanup = () => {
        this.pending.delete(fail);
        signal?.removeEventListener('abort', abort);
      };
      this.pending.add(fail);
      signal?.addEventListener('abort', abort, { once: true });
      let remote: Comlink.Remote<WorkerApi>;
      try {
        remote = this.connect();
      } catch (err) {
        fail(toRclipError(err));
        return;
      }
      work(remote).then(
        (value) => {
          cleanup();
          resolve(value);
        },
        (err) => fail(toRclipError(err)),
      );
    });
  }

  /** The execution provider chosen for this metric's worker and the reason, shown to users as it is. */
  backend(): Promise<BackendChoice> {
    return this.call(async () => this.backendPromise!);
  }

  models(): Promise<ModelIndex> {
    this.indexPromise ??= this.call((r) => r.listModels()).catch((err) => {
      this.indexPromise = null;
      throw err;
    });
    return this.indexPromise;
  }

  private async modelId(model?: string): Promise<string> {
    return model ?? (await this.models()).default;
  }

  async loadModel(model?: string, options: { onProgress?: (p: LoadProgress) => void } = {}): Promise<ModelInfo> {
    const id = await this.modelId(model);
    const progress = options.onProgress ? Comlink.proxy(options.onProgress) : undefined;
    // The worker answers a repeated load from its own cache; after a crash this reloads into the new worker.
    return this.call(async (r) => {
      await this.backendPromise;
      return r.loadModel(id, progress);
    });
  }

  async embed(image: ImageInput, options: CallOptions = {}): Promise<EmbedResult> {
    const model = await this.modelId(options.model);
    await this.loadModel(model);
    const jobId = `job-${++jobCounter}`;
    return this.call((r) => r.embed(transferable(image), { model, jobId }), options.signal, () => this.remote?.cancel(jobId));
  }

  async distance(a: ImageInput, b: ImageInput, options: CallOptions = {}): Promise<DistanceResult> {
    const model = await this.modelId(options.model);
    await this.loadModel(model);
    const jobId = `job-${++jobCounter}`;
    return this.call((r) => r.distance(transferable(a), transferable(b), { model, jobId }), options.signal, () => this.remote?.cancel(jobId));
  }

  /**
   * d(a, b) under several models in one request: the worker decodes each image once and preprocesses
   * it once per distinct model input, and each model embeds both images in one run.
   */
  async compare(a: ImageInput, b: ImageInput, options: CompareOptions = {}): Promise<CompareResult> {
    const index = options.models ? null : await this.models();
    const models = options.models ?? [index!.default, ...(index!.baseline && index!.baseline !== index!.default ? [index!.baseline] : [])];
    for (const model of models) await this.loadModel(model);
    const jobId = `job-${++jobCounter}`;
    return this.call((r) => r.compare(transferable(a), transferable(b), { models, jobId }), options.signal, () => this.remote?.cancel(jobId));
  }

  /**
   * FGSM/PGD/APGD against a model's attack graph. Unset settings default to the paper's threat model
   * with PGD-10 (PAPER_DEFAULTS); with method 'apgd', to APGD-100 with a first step of 2·eps.
   */
  async attack(image: ImageInput, options: AttackOptions = {}): Promise<AttackOutcome> {
    const model = await this.modelId(options.model);
    await this.loadModel(model);
    if (options.otherModel) await this.loadModel(options.otherModel);
    const jobId = `job-${++jobCounter}`;
    const method = options.method ?? PAPER_DEFAULTS.method;
    // Unset fields take the paper's threat model; APGD's iterations and first step follow its own rule (100, 2·eps).
    const defaults = method === 'apgd' ? attackSettings('apgd', options.norm ?? PAPER_DEFAULTS.norm, options.eps ?? PAPER_DEFAULTS.eps, options.steps) : PAPER_DEFAULTS;
    const settings: AttackSettings = {
      method,
      norm: options.norm ?? defaults.norm,
      eps: options.eps ?? defaults.eps,
      steps: options.steps ?? defaults.steps,
      stepSize: options.stepSize ?? defaults.stepSize,
      seed: options.seed ?? defaults.seed,
      ...(options.restarts !== undefined || defaults.restarts !== undefined ? { restarts: options.restarts ?? defaults.restarts } : {}),
    };
    const onStep = options.onStep ? Comlink.proxy(options.onStep) : undefined;
    return this.call(
      (r) => r.attack(transferable(image), options.target ? transferable(options.target) : null, { model, otherModel: options.otherModel, objective: options.objective ?? 'push-apart', settings, size: options.size }, { jobId }, onStep),
      options.signal,
      () => this.remote?.cancel(jobId),
    );
  }

  /**
   * Square Attack (score-based, L∞) on `image`'s pHash against `listed` hashes, in the worker: a copy
   * no listed hash matches (≤ PHASH_MATCH_BITS) if the budget finds one. `image` is copied, not moved.
   */
  evadePhash(image: RgbaImage, listed: string[], options: PhashEvasionOptions = {}): Promise<PhashEvasion> {
    const settings = squareSettings(options.eps ?? PAPER_DEFAULTS.eps, options.queries ?? SQUARE_DEFAULTS.queries, options.seed ?? 0);
    const jobId = `job-${++jobCounter}`;
    const onProgress = options.onProgress ? Comlink.proxy(options.onProgress) : undefined;
    return this.call((r) => r.evadePhash(image, listed, settings, { jobId }, onProgress), options.signal, () => this.remote?.cancel(jobId));
  }

  async unloadModel(model: string): Promise<void> {
    if (this.remote) await this.call((r) => r.unloadModel(model));
  }

  terminate(): void {
    this.worker?.terminate();
    this.worker = null;
    this.remote = null;
    this.backendPromise = null;
    for (const reject of this.pending) reject(new RclipError('CANCELLED', 'The metric was terminated.'));
    this.pending.clear();
  }
}

/**
 * ImageBitmaps move to the worker instead of being copied; a relative { url } is resolved against the
 * page here, as the element does, because in the worker it would resolve against the worker's script.
 */
function transferable(image: ImageInput): ImageInput {
  if (image instanceof ImageBitmap) return Comlink.transfer(image, [image]);
  if (isUrlInput(image) && globalThis.document) return { ...image, url: new URL(image.url, document.baseURI).href };
  return image;
}

function isUrlInput(image: ImageInput): image is { url: string; name?: string } {
  return typeof image === 'object' && image !== null && typeof (image as { url?: unknown }).url === 'string' && !(image instanceof Blob);
}

export function createMetric(options?: MetricOptions): Metric {
  return new Metric(options);
}
