import type { Tensor } from 'onnxruntime-common';
import { attackStart, runAttack, type AttackObjective, type AttackResult, type AttackSettings, type AttackStep } from '../core/attack';
import { cosineDistance } from '../core/distance';
import { RclipError } from '../core/errors';
import { pixelsToRgba, toModelPixels, type PixelTensor, type RgbaImage } from '../core/preprocess';
import type { Engine } from './engine';
import { throwIfAborted, type AttackJobOptions } from './jobs';
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

/**
 * Attacks decoded pixels (Engine.attack decodes images first) against a loaded model's attack graph.
 * Each gradient step is its own engine job (Engine.distanceGradient), so other requests interleave and
 * an abort lands between steps. With attack.onnx the gradient comes back to the CPU every step because
 * the projection runs in JS (src/core). L∞ attacks on WebGPU use attack_step.onnx when the model ships
 * it (runStepGraph): the iterate stays in a GPU buffer and each step reads back two floats.
 */
export async function attackImage<I>(engine: Engine<I>, image: RgbaImage, target: RgbaImage | null, request: AttackRequest, options: AttackJobOptions = {}): Promise<AttackOutcome> {
  const { model, objective } = request;
  const { signal, onStep } = options;
  if (objective === 'pull-together' && !target) throw new RclipError('INVALID_ARGUMENT', 'pull-together needs a second image (B) to pull towards.');
  if (objective === 'push-from-target' && !target) throw new RclipError('INVALID_ARGUMENT', 'push-from-target needs a second image (B) to push away from.');
  const session = await engine.attackSession(model);
  const input = session.manifest.input;
  const clean = toModelPixels(image, input);
  const reference = objective === 'push-apart' ? clean : toModelPixels(target!, input);
  const [referenceEmbedding, cleanEmbedding] = await engine.embedPixels(model, [reference, clean], { signal });
  const stepper = await engine.stepSession(model, request.settings.norm);
  const result = stepper
    ? await runStepGraph(engine, stepper, clean.data, objective, request.settings, referenceEmbedding, options)
    : await runAttack(clean.data, objective, request.settings, (pixels) => engine.distanceGradient(model, pixels, referenceEmbedding, { signal }), {
        onStep,
        checkCancelled: () => throwIfAborted(signal),
      });
  const adversarial = { size: clean.size, data: result.adversarial };
  const adversarialRgba = pixelsToRgba(adversarial);
  const attacked = { model, clean: cosineDistance(cleanEmbedding, referenceEmbedding), after: result.steps[result.steps.length - 1].distance };
  let other: ModelDistances | null = null;
  if (request.otherModel) {
    // The other model sees the adversarial image as an image: resized to its own input if its size differs.
    const otherInput = (await engine.loadModel(request.otherModel)).manifest.input;
    const asImage = (p: PixelTensor | RgbaImage) => ('size' in p ? (p.size === otherInput.size ? p : toModelPixels(pixelsToRgba(p), otherInput)) : toModelPixels(p, otherInput));
    const [adv, cleanOther, refOther] = await engine.embedPixels(request.otherModel, [asImage(adversarial), asImage(clean), asImage(objective === 'push-apart' ? clean : target!)], { signal });
    other = { model: request.otherModel, clean: cosineDistance(cleanOther, refOther), after: cosineDistance(adv, refOther) };
  }
  return { adversarial, adversarialRgba, perturbation: result.delta, steps: result.steps, attacked, other };
}

/**
 * The L∞ attack of runAttack (same start, schedule and step records) through attack_step.onnx: each
 * step is one run and one queued job; x_next is fed back as the next x without leaving the GPU on
 * WebGPU, and only the two stats floats come back per step. The image is read back once, at the end.
 */
async function runStepGraph<I>(
  engine: Engine<I>,
  session: ModelSession,
  clean: Float32Array,
  objective: AttackObjective,
  settings: AttackSettings,
  target: Float32Array,
  { signal, onStep }: AttackJobOptions,
): Promise<AttackResult> {
  const { direction, delta: startDelta, iterations, stepSize } = attackStart(clean, objective, settings);
  const start = new Float32Array(clean.length);
  for (let i = 0; i < start.length; i++) start[i] = clean[i] + startDelta[i];
  let x: Tensor = session.pixelTensor(start);
  const steps: AttackStep[] = [];
  let adversarial: Float32Array;
  try {
    for (let k = 0; ; k++) {
      throwIfAborted(signal);
      const current = x;
      const out = await engine.run(() => session.attackStep(current, clean, target, settings.eps, direction * stepSize), signal);
      const record = { step: k, distance: out.distance, deltaNorm: out.deltaNorm };
      steps.push(record);
      onStep?.(record);
      if (k === iterations) {
        out.next.dispose();
        break;
      }
      x.dispose();
      x = out.next;
    }
    adversarial = new Float32Array((await x.getData()) as Float32Array);
  } finally {
    x.dispose();
  }
  const delta = new Float32Array(clean.length);
  for (let i = 0; i < delta.length; i++) delta[i] = adversarial[i] - clean[i];
  return { adversarial, delta, steps };
}
