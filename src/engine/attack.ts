/**
 * The oracle a loaded model offers the core's attacks (src/core/attack.ts), and what an attack
 * request and its outcome look like. Engine.attack owns the request's lifecycle; this file only turns
 * a ModelSession into the objective, its gradient and (L∞ on WebGPU) device steps, each run as one
 * queued engine job, so other requests interleave and an abort lands between steps.
 */
import type { Tensor } from 'onnxruntime-common';
import type { AttackObjective, AttackOracle, AttackSettings, AttackStep, DeviceSteps } from '../core/attack';
import type { PixelTensor, RgbaImage } from '../core/preprocess';
import type { ModelSession } from './session';

export interface AttackRequest {
  model: string;
  /** The model the same adversarial image is also measured with (the robust/baseline counterpart). */
  otherModel?: string;
  objective: AttackObjective;
  settings: AttackSettings;
}

export interface ModelDistances {
  model: string;
  /** Distance before the attack: 0 for push-apart (the image and itself), d(A, B) for pull-together and push-from-target. */
  clean: number;
  /** At the adversarial image: PGD's last iterate, APGD's best point. */
  after: number;
}

export interface AttackOutcome {
  /** Model-input pixels (CHW, [0,1]) of the adversarial image, and as RGBA for a canvas. */
  adversarial: PixelTensor;
  adversarialRgba: RgbaImage;
  /** δ = adversarial − clean, CHW. */
  perturbation: Float32Array;
  steps: AttackStep[];
  attacked: ModelDistances;
  other: ModelDistances | null;
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
