/**
 * FGSM and PGD under L∞ and L2 in model-input pixel space ([0,1], after resize and crop), against a
 * distance whose gradient a callback supplies, so this code runs unchanged in the worker and in Node.
 */
import { RclipError } from './errors';
import { gaussianSamples, seededRandom } from './random';

export type AttackNorm = 'linf' | 'l2';
export type AttackMethod = 'fgsm' | 'pgd';
/**
 * push-apart: maximise d(x+δ, clean x). pull-together: minimise d(x+δ, other image).
 * push-from-target: maximise d(x+δ, other image) (evading a match: away from the listed image).
 */
export type AttackObjective = 'push-apart' | 'pull-together' | 'push-from-target';

export interface AttackSettings {
  method: AttackMethod;
  norm: AttackNorm;
  /** Radius of the ball, in [0,1] pixel units (4/255 ≈ 0.0157 for L∞). */
  eps: number;
  /** PGD iterations; FGSM always takes one step. */
  steps: number;
  /** PGD step length (L∞: per pixel; L2: of the whole step); FGSM steps by eps. */
  stepSize: number;
  seed: number;
}

export interface DistanceGradient {
  distance: number;
  /** ∂distance/∂pixels, same layout as the pixels. */
  grad: Float32Array;
}

export interface AttackStep {
  /** 0 is the starting point (after the random start); step k is the k-th iterate. */
  step: number;
  distance: number;
  deltaNorm: number;
}

export interface AttackResult {
  adversarial: Float32Array;
  delta: Float32Array;
  steps: AttackStep[];
}

/** The paper's threat model: L∞, ε = 4/255, 10 PGD steps of 1/255. */
export const PAPER_DEFAULTS: AttackSettings = { method: 'pgd', norm: 'linf', eps: 4 / 255, steps: 10, stepSize: 1 / 255, seed: 0 };

export const MAX_ATTACK_STEPS = 1000;

/** Settings with the project's step rule, 2.5·eps/steps (1/255 for PGD-10 at 4/255); FGSM takes one step. */
export function attackSettings(method: AttackMethod, norm: AttackNorm, eps: number, steps = 10, seed = 0): AttackSettings {
  return { method, norm, eps, steps: method === 'fgsm' ? 1 : steps, stepSize: (2.5 * eps) / steps, seed };
}

/** Refuses settings that cannot mean what the user wants, with the reason. */
export function validateAttackSettings(s: AttackSettings, pixelCount: number): void {
  const bad = (message: string): never => {
    throw new RclipError('INVALID_ARGUMENT', message);
  };
  if (s.norm !== 'linf' && s.norm !== 'l2') bad(`norm must be "linf" or "l2", not ${JSON.stringify(s.norm)}.`);
  if (s.method !== 'fgsm' && s.method !== 'pgd') bad(`method must be "fgsm" or "pgd", not ${JSON.stringify(s.method)}.`);
  if (!Number.isFinite(s.eps) || s.eps <= 0) bad(`eps must be a positive number (got ${s.eps}).`);
  const maxEps = s.norm === 'linf' ? 1 : Math.sqrt(pixelCount);
  if (s.eps > maxEps) bad(`eps ${s.eps} is larger than the whole pixel box allows for ${s.norm} (${maxEps.toFixed(3)}): pixels live in [0,1].`);
  if (!Number.isInteger(s.steps) || s.steps < 1 || s.steps > MAX_ATTACK_STEPS) bad(`steps must be a whole number from 1 to ${MAX_ATTACK_STEPS} (got ${s.steps}).`);
  if (!Number.isFinite(s.stepSize) || s.stepSize <= 0) bad(`stepSize must be a positive number (got ${s.stepSize}).`);
  if (!Number.isInteger(s.seed)) bad(`seed must be a whole number (got ${s.seed}).`);
}

export function normOf(delta: Float32Array, norm: AttackNorm): number {
  if (norm === 'linf') {
    let m = 0;
    for (let i = 0; i < delta.length; i++) m = Math.max(m, Math.abs(delta[i]));
    return m;
  }
  let s = 0;
  for (let i = 0; i < delta.length; i++) s += delta[i] * delta[i];
  return Math.sqrt(s);
}

/** Clamps δ into the box: 0 ≤ clean + δ ≤ 1. */
function clampToBox(delta: Float32Array, clean: Float32Array): void {
  for (let i = 0; i < delta.length; i++) delta[i] = Math.min(1, Math.max(0, clean[i] + delta[i])) - clean[i];
}

/**
 * Projects δ onto {‖δ‖∞ ≤ eps} ∩ {0 ≤ clean+δ ≤ 1}, in place. Both sets are boxes, so clamping
 * each coordinate into both is the exact Euclidean projection onto their intersection.
 */
export function projectLinf(delta: Float32Array, clean: Float32Array, eps: number): void {
  for (let i = 0; i < delta.length; i++) delta[i] = Math.min(eps, Math.max(-eps, delta[i]));
  clampToBox(delta, clean);
}

/**
 * Maps δ into {‖δ‖₂ ≤ eps} ∩ {0 ≤ clean+δ ≤ 1}, in place: scale into the ball, then clamp into the
 * box. Clamping only shrinks coordinates towards 0, so the result stays in the ball (it is the
 * standard PGD-L2 step, not the exact projection onto the intersection).
 */
export function projectL2(delta: Float32Array, clean: Float32Array, eps: number): void {
  const n = normOf(delta, 'l2');
  if (n > eps) {
    const k = eps / n;
    for (let i = 0; i < delta.length; i++) delta[i] *= k;
  }
  clampToBox(delta, clean);
}

export function project(delta: Float32Array, clean: Float32Array, norm: AttackNorm, eps: number): void {
  if (norm === 'linf') projectLinf(delta, clean, eps);
  else projectL2(delta, clean, eps);
}

/** attack.onnx differentiates w.r.t. the normalised input (p − mean)/std; the chain rule brings it back to pixels. */
export function pixelGradient(gradNormalized: Float32Array, std: readonly [number, number, number]): Float32Array {
  const plane = gradNormalized.length / 3;
  const out = new Float32Array(gradNormalized.length);
  for (let c = 0; c < 3; c++) for (let i = c * plane; i < (c + 1) * plane; i++) out[i] = gradNormalized[i] / std[c];
  return out;
}

function randomPoint(n: number, norm: AttackNorm, eps: number, random: () => number): Float32Array {
  if (norm === 'linf') return Float32Array.from({ length: n }, () => (random() * 2 - 1) * eps);
  // A uniform direction (normalised Gaussians) at a uniform fraction of the radius.
  const delta = gaussianSamples(n, random);
  const scale = (eps * random()) / (normOf(delta, 'l2') || 1);
  for (let i = 0; i < n; i++) delta[i] *= scale;
  return delta;
}

/** One ascent (direction +1) or descent (−1) step: the sign for L∞, the unit gradient for L2. */
function step(delta: Float32Array, grad: Float32Array, norm: AttackNorm, size: number, direction: 1 | -1): void {
  if (norm === 'linf') {
    for (let i = 0; i < delta.length; i++) delta[i] += direction * size * Math.sign(grad[i]);
    return;
  }
  const g = normOf(grad, 'l2');
  if (g === 0) return;
  const k = (direction * size) / g;
  for (let i = 0; i < delta.length; i++) delta[i] += k * grad[i];
}

export interface AttackStart {
  direction: 1 | -1;
  /** The first δ, projected. */
  delta: Float32Array;
  /** Gradient steps after the starting point (FGSM: 1). */
  iterations: number;
  stepSize: number;
}

/** Validates the settings and gives the starting point and schedule runAttack uses (shared with the engine's step-graph path). */
export function attackStart(clean: Float32Array, objective: AttackObjective, settings: AttackSettings): AttackStart {
  validateAttackSettings(settings, clean.length);
  const { norm, eps } = settings;
  const randomStart = settings.method === 'pgd' || objective === 'push-apart';
  const delta = randomStart ? randomPoint(clean.length, norm, eps, seededRandom(settings.seed)) : new Float32Array(clean.length);
  project(delta, clean, norm, eps);
  return {
    direction: objective === 'pull-together' ? -1 : 1,
    delta,
    iterations: settings.method === 'fgsm' ? 1 : settings.steps,
    stepSize: settings.method === 'fgsm' ? eps : settings.stepSize,
  };
}

/**
 * Runs FGSM or PGD from `clean`. PGD starts from a seeded random point in the ball. FGSM starts at
 * δ = 0 and takes one step of size eps, except for push-apart: there the distance to the clean
 * image is at its minimum at δ = 0, its gradient is zero (only float noise), so FGSM also starts
 * from the seeded random point. `onStep` sees every iterate; `checkCancelled` may throw between steps.
 */
export async function runAttack(
  clean: Float32Array,
  objective: AttackObjective,
  settings: AttackSettings,
  distanceGradient: (pixels: Float32Array) => Promise<DistanceGradient>,
  hooks: { onStep?: (s: AttackStep, pixels: Float32Array) => void; checkCancelled?: () => void } = {},
): Promise<AttackResult> {
  const { norm, eps } = settings;
  const { direction, delta, iterations, stepSize } = attackStart(clean, objective, settings);
  const x = new Float32Array(clean.length);
  const steps: AttackStep[] = [];
  for (let k = 0; ; k++) {
    hooks.checkCancelled?.();
    for (let i = 0; i < x.length; i++) x[i] = clean[i] + delta[i];
    const { distance, grad } = await distanceGradient(x);
    const record = { step: k, distance, deltaNorm: normOf(delta, norm) };
    steps.push(record);
    hooks.onStep?.(record, x);
    if (k === iterations) break;
    step(delta, grad, norm, stepSize, direction);
    project(delta, clean, norm, eps);
  }
  return { adversarial: x, delta, steps };
}
