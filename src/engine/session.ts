import type { InferenceSession, Tensor } from 'onnxruntime-common';
import { RclipError } from '../core/errors';
import { pixelGradient, type DeviceStep } from '../core/attack';
import { l2Normalize } from '../core/distance';
import type { ModelManifest } from '../core/manifest';
import { normalize } from '../core/preprocess';
import type { VerifiedModel } from './model-loader';

/** The part of onnxruntime's API the engine uses; onnxruntime-web and onnxruntime-node both provide it. */
export interface OrtRuntime {
  InferenceSession: typeof InferenceSession;
  Tensor: typeof Tensor;
}

/** 'cpu' is onnxruntime-node's; the browser has 'webgpu' and 'wasm'. */
export type ExecutionProvider = 'webgpu' | 'wasm' | 'cpu';

export interface SessionOptions {
  ep: ExecutionProvider;
  /** ORT's verbose log (0) prints where every node was placed: the proof that WebGPU ran the whole graph. */
  logSeverityLevel?: 0 | 1 | 2 | 3 | 4;
  /** Runtime-specific extras, e.g. onnxruntime-node's thread counts. */
  extra?: Partial<InferenceSession.SessionOptions>;
}

export interface AttackGradient {
  /** 1 − cos(embedding(input), target). */
  distance: number;
  /** ∂distance/∂(normalised input), CHW. */
  grad: Float32Array;
}

async function createSession(ort: OrtRuntime, bytes: Uint8Array, what: string, options: SessionOptions, more: Partial<InferenceSession.SessionOptions> = {}) {
  try {
    return await ort.InferenceSession.create(bytes, {
      ...options.extra,
      ...more,
      executionProviders: [options.ep],
      graphOptimizationLevel: 'all',
      logSeverityLevel: options.logSeverityLevel ?? 3,
    });
  } catch (err) {
    throw new RclipError('MODEL_LOAD_FAILED', `Could not create the ${options.ep} session for ${what}: ${(err as Error).message ?? err}`, { cause: err });
  }
}

/** Runs a session and disposes every tensor it was given or returned, whatever happens. */
async function runAndDispose(session: InferenceSession, feeds: Record<string, Tensor>, read: (out: InferenceSession.ReturnType) => void) {
  let outputs: InferenceSession.ReturnType | undefined;
  try {
    outputs = await session.run(feeds);
    read(outputs);
  } catch (err) {
    if (err instanceof RclipError) throw err;
    throw new RclipError('INFERENCE_FAILED', `Inference failed: ${(err as Error).message ?? err}`, { cause: err });
  } finally {
    for (const t of Object.values(feeds)) t.dispose();
    if (outputs) for (const t of Object.values(outputs)) t.dispose();
  }
}

/** What one run of attack_step.onnx gives: the next iterate (on the GPU on WebGPU) and, when read back, two scalars. */
export interface StepOutput {
  /** d(x) = 1 − cos(f(x), target) and ‖x − x0‖∞, at the input x (before the step); null when not read. */
  stats: { distance: number; deltaNorm: number } | null;
  /** x_next, a GPU-buffer tensor on WebGPU: feed it back as x, dispose it when done. */
  next: Tensor;
}

/** One loaded model: its encoder session and, when asked for, its attack-gradient and attack-step sessions. */
export class ModelSession {
  private attackSession: InferenceSession | null = null;
  private stepSession: InferenceSession | null = null;

  private constructor(
    private readonly ort: OrtRuntime,
    readonly manifest: ModelManifest,
    readonly ep: ExecutionProvider,
    private encoder: InferenceSession,
    private readonly options: SessionOptions,
  ) {}

  static async create(ort: OrtRuntime, model: VerifiedModel, options: SessionOptions): Promise<ModelSession> {
    const encoder = await createSession(ort, model.encoder, `${model.manifest.id}/encoder`, options);
    const session = new ModelSession(ort, model.manifest, options.ep, encoder, options);
    if (model.attack) await session.attachAttackGraph(model.attack);
    return session;
  }

  get hasAttackGraph(): boolean {
    return this.attackSession !== null;
  }

  async attachAttackGraph(bytes: Uint8Array): Promise<void> {
    if (this.attackSession) return;
    this.attackSession = await createSession(this.ort, bytes, `${this.manifest.id}/attack`, this.options);
  }

  get hasStepGraph(): boolean {
    return this.stepSession !== null;
  }

  /**
   * attack_step.onnx; on WebGPU its outputs stay in GPU buffers ('gpu-buffer'), so steps chain without
   * a readback and stats comes back only when asked for (APGD's step from its best point skips it).
   */
  async attachStepGraph(bytes: Uint8Array): Promise<void> {
    if (this.stepSession) return;
    const more: Partial<InferenceSession.SessionOptions> = this.ep === 'webgpu' ? { preferredOutputLocation: { x_next: 'gpu-buffer', stats: 'gpu-buffer' } } : {};
    const session = await createSession(this.ort, bytes, `${this.manifest.id}/attack_step`, this.options, more);
    if (!['x_prev', 'momentum'].every((name) => session.inputNames.includes(name))) {
      await session.release();
      throw new RclipError('MODEL_LOAD_FAILED', `${this.manifest.id}/attack_step.onnx predates APGD's inputs (x_prev, momentum): rebuild it with \`python3 -m rclip_tools.stepgraph <model folder>\` (tools/).`);
    }
    this.stepSession = session;
  }

  /** A float32 tensor of pixels shaped as the model's input, for attackStep. */
  pixelTensor(pixels: Float32Array): Tensor {
    const s = this.manifest.input.size;
    return new this.ort.Tensor('float32', pixels, [1, 3, s, s]);
  }

  /**
   * One L∞ step (DeviceStep: x and previous are tensors from pixelTensor or earlier steps' `next`,
   * which the caller owns and disposes): one run; `stats` (2 floats) is read back only when `read`.
   */
  async attackStep({ x, previous, eps, alpha, momentum }: DeviceStep<Tensor>, x0: Float32Array, target: Float32Array, read: boolean): Promise<StepOutput> {
    if (!this.stepSession) throw new RclipError('ATTACK_UNAVAILABLE', `Model "${this.manifest.id}" has no attack step graph loaded (manifest files.attackStep).`);
    const scalar = (v: number) => new this.ort.Tensor('float32', Float32Array.of(v), [1]);
    const feeds = {
      x0: this.pixelTensor(x0),
      target: new this.ort.Tensor('float32', target, [1, this.manifest.embeddingSize]),
      eps: scalar(eps),
      alpha: scalar(alpha),
      momentum: scalar(momentum),
    };
    let outputs: InferenceSession.ReturnType | undefined;
    try {
      outputs = await this.stepSession.run({ x, x_prev: previous, ...feeds });
      const stats = read ? ((await outputs.stats.getData()) as Float32Array) : null;
      return { stats: stats && { distance: stats[0], deltaNorm: stats[1] }, next: outputs.x_next };
    } catch (err) {
      outputs?.x_next?.dispose();
      throw new RclipError('INFERENCE_FAILED', `Attack step failed: ${(err as Error).message ?? err}`, { cause: err });
    } finally {
      for (const t of Object.values(feeds)) t.dispose();
      outputs?.stats?.dispose();
    }
  }

  /** Embeds a batch of normalised CHW tensors; returns unit-length embeddings. */
  async embed(batch: Float32Array[]): Promise<Float32Array[]> {
    const s = this.manifest.input.size;
    const plane = 3 * s * s;
    const data = new Float32Array(batch.length * plane);
    batch.forEach((x, i) => {
      if (x.length !== plane) throw new RclipError('INVALID_ARGUMENT', `input ${i} has ${x.length} values, expected ${plane}`);
      data.set(x, i * plane);
    });
    const d = this.manifest.embeddingSize;
    const result: Float32Array[] = [];
    await runAndDispose(this.encoder, { input: new this.ort.Tensor('float32', data, [batch.length, 3, s, s]) }, (out) => {
      const emb = out.embedding;
      if (!emb) throw new RclipError('INFERENCE_FAILED', `${this.manifest.id}: encoder has no "embedding" output`);
      const values = emb.data as Float32Array;
      if (values.length !== batch.length * d) {
        throw new RclipError('INFERENCE_FAILED', `${this.manifest.id}: embedding has ${values.length / batch.length} values, the manifest says ${d}`);
      }
      for (let i = 0; i < batch.length; i++) result.push(l2Normalize(values.subarray(i * d, (i + 1) * d)));
    });
    return result;
  }

  /** The objective 1 − cos(f(x), target) and its gradient w.r.t. the normalised input, from attack.onnx. */
  async attackGradient(input: Float32Array, target: Float32Array): Promise<AttackGradient> {
    if (!this.attackSession) {
      throw new RclipError('ATTACK_UNAVAILABLE', `Model "${this.manifest.id}" has no attack graph loaded (manifest files.attack).`);
    }
    const s = this.manifest.input.size;
    let result: AttackGradient | undefined;
    await runAndDispose(
      this.attackSession,
      {
        input: new this.ort.Tensor('float32', input, [1, 3, s, s]),
        target: new this.ort.Tensor('float32', target, [1, this.manifest.embeddingSize]),
      },
      (out) => {
        // Copies: the output buffers die with the tensors.
        result = { distance: (out.distance.data as Float32Array)[0], grad: new Float32Array(out.grad.data as Float32Array) };
      },
    );
    return result!;
  }

  /**
   * The same objective with its gradient w.r.t. model-input pixels in [0,1] (CHW): normalises, runs
   * attack.onnx and applies the chain rule through (p − mean)/std. What every attack perturbs.
   */
  async pixelGradient(pixels: Float32Array, target: Float32Array): Promise<AttackGradient> {
    const input = this.manifest.input;
    const { distance, grad } = await this.attackGradient(normalize({ size: input.size, data: pixels }, input), target);
    return { distance, grad: pixelGradient(grad, input.std) };
  }

  async release(): Promise<void> {
    await this.encoder.release();
    await this.attackSession?.release();
    this.attackSession = null;
    await this.stepSession?.release();
    this.stepSession = null;
  }
}
