/**
 * The oracle a loaded model offers the core's attacks (src/core/attack.ts), and what an attack
 * request and its outcome look like. Engine.attack owns the request's lifecycle; this file only turns
 * a ModelSession into the objective, its gradient and (L∞ on WebGPU) device steps, each run as one
 * queued engine job, so other requests interleave and an abort lands between steps.
 */
import type { Tensor } from 'onnxruntime-common';
import type { AttackObjective, AttackOracle, AttackSettings, AttackStep, DeviceSteps } from '../core/attack';
import type { LinearPreprocess } from '../core/preprocess-linear';
import { withRegion, type PixelRegion, type PixelTensor, type RgbaImage, type RgbImage } from '../core/preprocess';
import type { ModelSession } from './session';

export interface AttackRequest {
  model: string;
  /** The model the same adversarial image is also measured with (the robust/baseline counterpart). */
  otherModel?: string;
  objective: AttackObjective;
  settings: AttackSettings;
  /**
   * 'model' (default): the attack perturbs the model-input pixels (resized and cropped), the copy is
   * size×size. 'full': it perturbs the image at its own size through the preprocessing (the ball and
   * eps are in full-size pixels; src/core/preprocess-linear.ts), the copy is the image's size.
   */
  size?: AttackSize;
}

export type AttackSize = 'model' | 'full';

/** A full-size attack's copy. */
export interface FullSizeCopy {
  /** The whole image, opaque (alpha composited onto the model's background), 8-bit: the region perturbed, the rest the original's. */
  rgba: RgbaImage;
  /** The pixels the model's crop reads, the only ones the attack changes. */
  region: PixelRegion;
  /** ‖P‖∞→∞ of this image's preprocessing: a full-size L∞ eps moves the model input by at most linfGain·eps. */
  linfGain: number;
}

/** The full-size copy of `image` whose region (map.region) is replaced by an attack's result `adversarial` (region planes in [0,1]). */
export function fullSizeCopy(image: RgbaImage | RgbImage, background: readonly [number, number, number], map: LinearPreprocess, adversarial: Float32Array): FullSizeCopy {
  return { rgba: withRegion(image, background, map.region, adversarial), region: map.region, linfGain: map.linfGain };
}

export interface ModelDistances {
  model: string;
  /** Distance before the attack: 0 for push-apart (the image and itself), d(A, B) for pull-together and push-from-target. */
  clean: number;
  /** At the adversarial image: PGD's last iterate, APGD's best point. */
  after: number;
}

export interface AttackOutcome {
  /** Model-input pixels (CHW, [0,1]) of the adversarial image, and as RGBA for a canvas (for a full-size attack: its 8-bit copy as the model sees it). */
  adversarial: PixelTensor;
  adversarialRgba: RgbaImage;
  /** δ = adversarial − clean, CHW, in model-input pixels. */
  perturbation: Float32Array;
  /** Each step's deltaNorm is measured where the attack runs: model-input pixels, or full-size ones for size 'full'. */
  steps: AttackStep[];
  attacked: ModelDistances;
  other: ModelDistances | null;
  /** The full-size copy (request.size 'full'), else null. */
  fullSize: FullSizeCopy | null;
}

/** The engine's job queue: runs a task in its turn, or fails with CANCELLED when the signal was aborted first. */
export type JobQueue = <T>(task: () => Promise<T>) => Promise<T>;

/**
 * d(x) = 1 − cos(f(x), target) on a session with its attack graph attached: the gradient from
 * attack.onnx (read back every step: the projection runs in JS), and, when `steps` is given (the
 * session has attack_step.onnx attached), device steps (L∞ PGD and APGD) whose iterates stay in GPU
 * buffers on WebGPU with at most two floats read back a step.
 */
export function sessionOracle(session: ModelSession, queue: JobQueue, clean: Float32Array, target: Float32Array, steps: ModelSession | null): AttackOracle {
  return {
    gradient: (pixels) => queue(() => session.pixelGradient(pixels, target)),
    deviceSteps: steps ? stepGraphSteps(steps, queue, clean, target) : undefined,
  };
}

function stepGraphSteps(session: ModelSession, queue: JobQueue, clean: Float32Array, target: Float32Array): DeviceSteps<Tensor> {
  return {
    upload: (pixels) => session.pixelTensor(pixels),
    step: async (s) => {
      const { stats, next } = await queue(() => session.attackStep(s, clean, target, true));
      return { ...stats!, next };
    },
    move: async (s) => (await queue(() => session.attackStep(s, clean, target, false))).next,
    download: async (x) => new Float32Array((await x.getData()) as Float32Array),
    dispose: (x) => x.dispose(),
  };
}
