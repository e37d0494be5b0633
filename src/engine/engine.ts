import { runAttack } from '../core/attack';
import { cosineDistance } from '../core/distance';
import { RclipError } from '../core/errors';
import type { ModelIndex, ModelManifest } from '../core/manifest';
import { fullSizeSpace, throughPreprocess } from '../core/preprocess-linear';
import { normalize, pixelsToRgba, toModelPixels, type PixelTensor, type RgbaImage, type RgbImage } from '../core/preprocess';
import { fullSizeCopy, sessionOracle, type AttackOutcome, type AttackRequest, type ModelDistances } from './attack';
import { throwIfAborted, type AttackJobOptions, type JobOptions } from './jobs';
import { loadModelIndex, loadVerifiedModel, modelFolder, type LoadProgress, type ModelSource } from './model-loader';
import { ModelSession, type AttackGradient, type ExecutionProvider, type OrtRuntime, type SessionOptions } from './session';


/** Largest cosine distance between WebGPU's and wasm's embedding of the probe image for WebGPU to be used. */
const WEBGPU_PROBE_TOLERANCE = 1e-4;

/** A deterministic, textured probe image (smooth ramps and a fine pattern), normalised for the model. */
function probeImage(manifest: ModelManifest): Float32Array {
  const s = manifest.input.size;
  const data = new Float32Array(3 * s * s);
  for (let c = 0; c < 3; c++) {
    for (let y = 0; y < s; y++) {
      for (let x = 0; x < s; x++) {
        data[c * s * s + y * s + x] = 0.5 + 0.25 * Math.sin((x * (c + 1) + 2 * y) / 3) * Math.cos((y - c * x) / 5);
      }
    }
  }
  return normalize({ size: s, data }, manifest.input);
}

export interface BackendChoice {
  ep: ExecutionProvider;
  /** Why this EP: the adapter found, or why WebGPU was not used. Shown to users as it is. */
  reason: string;
  /**
   * The WebGPU adapter found, also when it was not used (a software fallback under 'auto');
   * shaderF16: whether it offers 'shader-f16', without which fp16 weights cannot run on WebGPU.
   */
  adapter: { vendor: string; architecture: string; description: string; isFallbackAdapter: boolean; shaderF16: boolean } | null;
  threads: number;
}

export interface ModelInfo {
  id: string;
  name: string;
  manifest: ModelManifest;
  ep: ExecutionProvider;
  /** Set when this model wanted WebGPU and runs on wasm instead. */
  fallbackReason: string | null;
  hasAttackGraph: boolean;
  loadMs: number;
}

export interface Timings {
  decodeMs: number;
  preprocessMs: number;
  inferenceMs: number;
  totalMs: number;
}

export interface EmbedResult {
  embedding: Float32Array;
  model: string;
  ep: ExecutionProvider;
  timings: Timings;
}

export interface DistanceResult {
  distance: number;
  similarity: number;
  model: string;
  ep: ExecutionProvider;
  timings: Timings;
}

/** Several models' distances of one pair: each image decoded once, preprocessed once per distinct model input. */
export interface CompareResult {
  /** One per model, in the order asked. Each model's timings: the shared decode, its own preprocessing (0 when it reused another model's pixels) and inference. */
  results: DistanceResult[];
  /** The whole comparison. */
  timings: Timings;
}

export interface EngineDeps<Image> {
  ort: OrtRuntime;
  source: ModelSource;
  /** Decides the execution provider once, before the first session. */
  chooseBackend: () => Promise<BackendChoice>;
  decode: (image: Image) => Promise<RgbaImage>;
  logSeverityLevel?: 0 | 1 | 2 | 3 | 4;
  sessionOptions?: SessionOptions['extra'];
  /**
   * When L∞ attacks run through attack_step.onnx (the projection in the graph, the image kept in GPU
   * buffers between steps) instead of attack.onnx + the JS projection: 'webgpu' (default) on the WebGPU
   * EP when the manifest lists files.attackStep; 'always' wherever it is listed (tests); 'never'.
   */
  attackStepGraph?: 'webgpu' | 'always' | 'never';
}

interface LoadedModel {
  session: ModelSession;
  info: ModelInfo;
  folder: string;
}

const now = () => performance.now();

// setTimeout(0) is clamped to 4 ms once nested; a MessageChannel round trip is a macrotask without the clamp.
// Node's ports have ref/unref: the port keeps the process alive only while a yield is pending, so an
// idle engine never holds Node open and a working one never lets it exit mid-job.
type NodePort = MessagePort & { ref?: () => void; unref?: () => void };
const waiting: Array<() => void> = [];
let channel: MessageChannel | null = null;
function nextMacrotask(): Promise<void> {
  if (!channel) {
    channel = new MessageChannel();
    const port = channel.port1 as NodePort;
    port.onmessage = () => {
      waiting.shift()?.();
      if (waiting.length === 0) port.unref?.();
    };
  }
  if (waiting.length === 0) (channel.port1 as NodePort).ref?.();
  return new Promise((resolve) => {
    waiting.push(resolve);
    channel!.port2.postMessage(null);
  });
}

/**
 * Owns the ORT sessions of every loaded model and runs all work on them one job at a time: ORT
 * sessions (WebGPU's especially) must not run concurrently, and a queue makes cancellation simple.
 */
export class Engine<Image> {
  private backend: Promise<BackendChoice> | null = null;
  private indexPromise: Promise<ModelIndex> | null = null;
  private readonly models = new Map<string, Promise<LoadedModel>>();
  private tail: Promise<unknown> = Promise.resolve();

  constructor(private readonly deps: EngineDeps<Image>) {}

  backendInfo(): Promise<BackendChoice> {
    this.backend ??= this.deps.chooseBackend();
    return this.backend;
  }

  index(): Promise<ModelIndex> {
    this.indexPromise ??= loadModelIndex(this.deps.source).catch((err) => {
      this.indexPromise = null;
      throw err;
    });
    return this.indexPromise;
  }

  /** Loads a model by its id in index.json, or by a folder path ending in "/". Loading twice returns the first load. */
  loadModel(ref: string, onProgress?: (p: LoadProgress) => void): Promise<ModelInfo> {
    let pending = this.models.get(ref);
    if (!pending) {
      pending = this.load(ref, onProgress);
      this.models.set(ref, pending);
      pending.catch(() => this.models.delete(ref));
    }
    return pending.then((m) => m.info);
  }

  private async load(ref: string, onProgress?: (p: LoadProgress) => void): Promise<LoadedModel> {
    const t0 = now();
    const folder = ref.endsWith('/') ? ref : modelFolder(await this.index(), ref);
    const verified = await loadVerifiedModel(this.deps.source, folder, { withAttack: false, onProgress });
    const backend = await this.backendInfo();
    const common = { logSeverityLevel: this.deps.logSeverityLevel, extra: this.deps.sessionOptions };
    let fallbackReason: string | null = null;
    // Sessions are created one at a time, through the job queue: two concurrent creations on the
    // WebGPU EP never resolve (seen with onnxruntime-web 1.30 in Chromium).
    const session = await this.run(async () => {
      let gpu: ModelSession;
      try {
        gpu = await ModelSession.create(this.deps.ort, verified, { ...common, ep: backend.ep });
      } catch (err) {
        if (backend.ep !== 'webgpu') throw err;
        // A graph WebGPU cannot run still runs on wasm; the reason is reported, never hidden.
        fallbackReason = `WebGPU could not run this model (${(err as Error).message}); using wasm.`;
        return ModelSession.create(this.deps.ort, verified, { ...common, ep: 'wasm' });
      }
      if (backend.ep !== 'webgpu') return gpu;
      // WebGPU kernels can be wrong for a graph without failing (seen: onnxruntime-web 1.30 fused
      // Conv -> Clip(min) -> Clip(max) and dropped the min, cosine distance 0.8 from wasm; the
      // exporter now writes one Clip, tools/rclip_tools/gradgraph.py merge_clip_pairs). Any graph can
      // meet such a fault, so one probe image through both EPs decides.
      const cpu = await ModelSession.create(this.deps.ort, verified, { ...common, ep: 'wasm' });
      const probe = probeImage(verified.manifest);
      const [[onGpu], [onCpu]] = [await gpu.embed([probe.slice()]), await cpu.embed([probe.slice()])];
      const gap = cosineDistance(onGpu, onCpu);
      if (gap <= WEBGPU_PROBE_TOLERANCE) {
        await cpu.release();
        return gpu;
      }
      await gpu.release();
      fallbackReason = `WebGPU computed this model differently from wasm (cosine distance ${gap.toFixed(4)} between the two embeddings of a probe image; tolerance ${WEBGPU_PROBE_TOLERANCE}), so it runs on wasm.`;
      return cpu;
    });
    const info: ModelInfo = {
      id: verified.manifest.id,
      name: verified.manifest.name,
      manifest: verified.manifest,
      ep: session.ep,
      fallbackReason,
      hasAttackGraph: Boolean(verified.manifest.files.attack),
      loadMs: now() - t0,
    };
    return { session, info, folder };
  }

  private async loaded(ref: string): Promise<LoadedModel> {
    const pending = this.models.get(ref);
    if (!pending) throw new RclipError('MODEL_NOT_LOADED', `Model "${ref}" is not loaded; call loadModel("${ref}") first.`);
    return pending;
  }

  /** The model's session with its attack graph attached (loaded and verified on first use). */
  async attackSession(ref: string, onProgress?: (p: LoadProgress) => void): Promise<ModelSession> {
    const m = await this.loaded(ref);
    if (m.session.hasAttackGraph) return m.session;
    if (!m.info.manifest.files.attack) {
      throw new RclipError('ATTACK_UNAVAILABLE', `Model "${ref}" ships no attack graph (manifest files.attack), so it cannot be attacked in the page.`);
    }
    const verified = await loadVerifiedModel(this.deps.source, m.folder, { withAttack: true, onProgress });
    await this.run(() => m.session.attachAttackGraph(verified.attack!));
    return m.session;
  }

  /** The model's session with attack_step.onnx attached when this engine should use it for `norm`, else null. */
  async stepSession(ref: string, norm: 'linf' | 'l2', onProgress?: (p: LoadProgress) => void): Promise<ModelSession | null> {
    const m = await this.loaded(ref);
    const mode = this.deps.attackStepGraph ?? 'webgpu';
    if (norm !== 'linf' || mode === 'never' || (mode === 'webgpu' && m.session.ep !== 'webgpu') || !m.info.manifest.files.attackStep) return null;
    if (m.session.hasStepGraph) return m.session;
    const verified = await loadVerifiedModel(this.deps.source, m.folder, { withAttackStep: true, onProgress });
    await this.run(() => m.session.attachStepGraph(verified.attackStep!));
    return m.session;
  }

  /** Queues `task`; when `signal` was aborted before its turn, it fails with CANCELLED instead of running. */
  run<T>(task: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    const result = this.tail.then(async () => {
      // A macrotask turn between jobs lets the worker read its messages (an abort, another request);
      // a chain of ORT runs that resolve as microtasks would otherwise hold them until it ends.
      await nextMacrotask();
      throwIfAborted(signal);
      return task();
    });
    this.tail = result.catch(() => undefined);
    return result;
  }

  async decode(image: Image): Promise<{ rgba: RgbaImage; decodeMs: number }> {
    const t0 = now();
    const rgba = await this.deps.decode(image);
    return { rgba, decodeMs: now() - t0 };
  }

  /** Model-input pixels in [0,1] for a model: what attacks perturb. */
  async pixelsFor(ref: string, rgba: RgbaImage): Promise<PixelTensor> {
    const m = await this.loaded(ref);
    return toModelPixels(rgba, m.info.manifest.input);
  }

  /** Embeds model-input pixels (already resized and cropped); unit length. */
  async embedPixels(ref: string, pixels: PixelTensor[], options: JobOptions = {}): Promise<Float32Array[]> {
    const m = await this.loaded(ref);
    return this.run(() => m.session.embed(pixels.map((p) => normalize(p, m.info.manifest.input))), options.signal);
  }

  /**
   * 1 − cos(f(pixels), target) and its gradient w.r.t. model-input pixels, from the model's attack
   * graph (attached on first use), as one queued job: one attack step.
   */
  async distanceGradient(ref: string, pixels: Float32Array, target: Float32Array, options: JobOptions = {}): Promise<AttackGradient> {
    const session = await this.attackSession(ref);
    return this.run(() => session.pixelGradient(pixels, target), options.signal);
  }

  async embed(image: Image, ref: string, options: JobOptions = {}): Promise<EmbedResult> {
    const { embeddings, ...rest } = await this.embedImages([image], ref, options);
    return { embedding: embeddings[0], ...rest };
  }

  async distance(a: Image, b: Image, ref: string, options: JobOptions = {}): Promise<DistanceResult> {
    const { results } = await this.compare(a, b, [ref], options);
    return results[0];
  }

  /**
   * d(a, b) under each model in `refs`: both images are decoded once (in parallel) and preprocessed
   * (resize, crop) once per distinct model input, whatever the number of models; each model then
   * embeds both images in one run (a batch of 2), as its own queued job.
   */
  async compare(a: Image, b: Image, refs: readonly string[], options: JobOptions = {}): Promise<CompareResult> {
    if (refs.length === 0) throw new RclipError('INVALID_ARGUMENT', 'compare needs at least one model.');
    const t0 = now();
    const models = await Promise.all(refs.map((ref) => this.loaded(ref)));
    throwIfAborted(options.signal);
    const decoded = await Promise.all([this.decode(a), this.decode(b)]);
    const decodeMs = Math.max(...decoded.map((d) => d.decodeMs));
    // toModelPixels depends only on the input size and the background: models that share those share pixels.
    const pixelsByInput = new Map<string, PixelTensor[]>();
    const results: DistanceResult[] = [];
    for (const m of models) {
      const input = m.info.manifest.input;
      const key = `${input.size}|${input.background.join(',')}`;
      const p0 = now();
      let pixels = pixelsByInput.get(key);
      if (!pixels) {
        pixels = decoded.map((d) => toModelPixels(d.rgba, input));
        pixelsByInput.set(key, pixels);
      }
      const p1 = now();
      const [ea, eb] = await this.run(() => m.session.embed(pixels.map((p) => normalize(p, input))), options.signal);
      const p2 = now();
      const distance = cosineDistance(ea, eb);
      results.push({
        distance,
        similarity: 1 - distance,
        model: m.info.id,
        ep: m.info.ep,
        timings: { decodeMs, preprocessMs: p1 - p0, inferenceMs: p2 - p1, totalMs: decodeMs + (p2 - p0) },
      });
    }
    const t2 = now();
    const preprocessMs = results.reduce((sum, r) => sum + r.timings.preprocessMs, 0);
    const inferenceMs = results.reduce((sum, r) => sum + r.timings.inferenceMs, 0);
    if (results.length === 1) results[0].timings.totalMs = t2 - t0;
    return { results, timings: { decodeMs, preprocessMs, inferenceMs, totalMs: t2 - t0 } };
  }

  /** Decodes both images (in parallel), then attackDecoded. */
  async attack(image: Image, target: Image | null, request: AttackRequest, options: AttackJobOptions = {}): Promise<AttackOutcome> {
    const [a, b] = await Promise.all([this.decode(image), target === null ? null : this.decode(target)]);
    return this.attackDecoded(a.rgba, b?.rgba ?? null, request, options);
  }

  /**
   * FGSM/PGD/APGD (src/core/attack.ts) on decoded pixels against a loaded model's attack graph, through
   * the model's oracle (sessionOracle): each gradient or device step is its own queued job, so other
   * requests interleave and an abort lands between steps. L∞ FGSM/PGD/APGD on WebGPU run on
   * attack_step.onnx when the model ships it (the image stays on the GPU; two floats read back a step).
   * With request.size 'full' the attack runs on the image's own pixels through the preprocessing
   * (src/core/preprocess-linear.ts: the same oracle, its gradient carried back by Pᵀ; no device steps).
   */
  async attackDecoded(image: RgbaImage | RgbImage, target: RgbaImage | RgbImage | null, request: AttackRequest, options: AttackJobOptions = {}): Promise<AttackOutcome> {
    const { model, objective, settings } = request;
    const { signal, onStep } = options;
    if (objective === 'pull-together' && !target) throw new RclipError('INVALID_ARGUMENT', 'pull-together needs a second image (B) to pull towards.');
    if (objective === 'push-from-target' && !target) throw new RclipError('INVALID_ARGUMENT', 'push-from-target needs a second image (B) to push away from.');
    const session = await this.attackSession(model);
    const input = session.manifest.input;
    const clean = toModelPixels(image, input);
    const reference = objective === 'push-apart' ? clean : toModelPixels(target!, input);
    const [referenceEmbedding, cleanEmbedding] = await this.embedPixels(model, [reference, clean], { signal });
    const full = request.size === 'full' ? fullSizeSpace(image, input) : null;
    const steps = full ? null : await this.stepSession(model, settings.norm);
    const modelOracle = sessionOracle(session, (task) => this.run(task, signal), clean.data, referenceEmbedding, steps);
    const oracle = full ? throughPreprocess(modelOracle, full.map) : modelOracle;
    // onStep gets the record only: in the worker it is a Comlink proxy, and the pixels would be copied every step.
    const result = await runAttack(full ? full.clean : clean.data, objective, settings, oracle, { onStep: onStep && ((s) => onStep(s)), checkCancelled: () => throwIfAborted(signal) });
    const fullSize = full && fullSizeCopy(image, input.background, full.map, result.adversarial);
    // A full-size copy reaches the model as any image does: its 8-bit pixels through toModelPixels.
    const adversarial = fullSize ? toModelPixels(fullSize.rgba, input) : { size: clean.size, data: result.adversarial };
    const attacked = { model, clean: cosineDistance(cleanEmbedding, referenceEmbedding), after: result.distance };
    let other: ModelDistances | null = null;
    if (request.otherModel) {
      // The other model sees the adversarial image as an image: resized to its own input if its size differs.
      const otherInput = (await this.loadModel(request.otherModel)).manifest.input;
      const asImage = (p: PixelTensor | RgbaImage | RgbImage) => ('size' in p ? (p.size === otherInput.size ? p : toModelPixels(pixelsToRgba(p), otherInput)) : toModelPixels(p, otherInput));
      // A full-size copy is measured at its own size too, against the original images.
      const seen = fullSize ? [fullSize.rgba, image, objective === 'push-apart' ? image : target!] : [adversarial, clean, objective === 'push-apart' ? clean : target!];
      const [adv, cleanOther, refOther] = await this.embedPixels(request.otherModel, seen.map(asImage), { signal });
      other = { model: request.otherModel, clean: cosineDistance(cleanOther, refOther), after: cosineDistance(adv, refOther) };
    }
    const perturbation = fullSize ? adversarial.data.map((v, i) => v - clean.data[i]) : result.delta;
    return { adversarial, adversarialRgba: pixelsToRgba(adversarial), perturbation, steps: result.steps, attacked, other, fullSize };
  }

  /** Decodes (in parallel), preprocesses and embeds images as one job; decodeMs is the slowest decode. */
  private async embedImages(images: Image[], ref: string, options: JobOptions) {
    const t0 = now();
    const m = await this.loaded(ref);
    const decoded = await Promise.all(images.map((image) => this.decode(image)));
    const t1 = now();
    const pixels = decoded.map((d) => toModelPixels(d.rgba, m.info.manifest.input));
    const t2 = now();
    const embeddings = await this.embedPixels(ref, pixels, options);
    const t3 = now();
    return {
      embeddings,
      model: m.info.id,
      ep: m.info.ep,
      timings: { decodeMs: Math.max(...decoded.map((d) => d.decodeMs)), preprocessMs: t2 - t1, inferenceMs: t3 - t2, totalMs: t3 - t0 },
    };
  }

  async unloadModel(ref: string): Promise<void> {
    const pending = this.models.get(ref);
    if (!pending) return;
    this.models.delete(ref);
    const m = await pending;
    await this.run(() => m.session.release());
  }
}
