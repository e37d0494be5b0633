import { runAttack, type AttackObjective, type AttackSettings, type AttackStep } from '../core/attack';
import { cosineDistance } from '../core/distance';
import { RclipError } from '../core/errors';
import { pixelsToRgba, toModelPixels, type PixelTensor, type RgbaImage } from '../core/preprocess';
import type { Engine } from './engine';
import { throwIfAborted, type AttackJobOptions } from './jobs';

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
 * an abort lands between steps. The gradient comes back to the CPU every step because the projection
 * runs in JS (src/core); at 64×64 that is 48 KB a step.
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
  const result = await runAttack(clean.data, objective, request.settings, (pixels) => engine.distanceGradient(model, pixels, referenceEmbedding, { signal }), {
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
