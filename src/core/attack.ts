/**
 * FGSM, PGD and APGD under L∞ and L2 in model-input pixel space ([0,1], after resize and crop),
 * driving an oracle (the objective and its gradient) that the engine or a test supplies, so this code
 * runs unchanged in the worker and in Node.
 */
import { RclipError } from './errors';
import { gaussianSamples, seededRandom } from './random';

export type AttackNorm = 'linf' | 'l2';
export const ATTACK_METHODS = ['fgsm', 'pgd', 'apgd'] as const;
export type AttackMethod = (typeof ATTACK_METHODS)[number];
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
  /** Iterations after the starting point (PGD, APGD); FGSM always takes one step. */
  steps: number;
  /** PGD: the step length (L∞: per pixel; L2: of the whole step). APGD: the first step η₀ (2·eps in the paper), halved at checkpoints. FGSM steps by eps. */
  stepSize: number;
  seed: number;
  /** APGD only: runs from fresh random starts, the best point over all of them kept (1 when absent). */
  restarts?: number;
}

export interface DistanceGradient {
  distance: number;
  /** ∂distance/∂pixels, same layout as the pixels. */
  grad: Float32Array;
}

/** One L∞ step on the device: from the iterate x (and, for APGD's momentum, the one before it). */
export interface DeviceStep<H> {
  x: H;
  /** x_{k−1}; PGD passes x (its momentum is 1, so it does not count). */
  previous: H;
  eps: number;
  /** The step size, signed: + ascends the objective. */
  alpha: number;
  /** APGD's α: the weight of the new projected step against the previous move; 1 is a plain step (PGD). */
  momentum: number;
}

/**
 * L∞ sign steps run where the model runs (attack_step.onnx on WebGPU): iterates stay there as opaque
 * handles `H` and each step reads back two scalars. The clean image and the objective's target are
 * bound by whoever builds it.
 */
export interface DeviceSteps<H> {
  upload(pixels: Float32Array): H;
  /**
   * The objective at x and ‖x − clean‖∞ (read back), and x_next = P(z + (1 − momentum)·((x − z) + (x − previous)))
   * with z = P(x + alpha·sign ∇objective(x)): PGD's step for momentum 1, APGD's otherwise.
   */
  step(s: DeviceStep<H>): Promise<{ distance: number; deltaNorm: number; next: H }>;
  /** The same x_next with nothing read back: APGD's step from its best point, whose objective it already has. */
  move(s: DeviceStep<H>): Promise<H>;
  download(x: H): Promise<Float32Array>;
  dispose(x: H): void;
}

/**
 * What every attack of this module drives, provided by the engine (or a test): the objective and its
 * gradient w.r.t. model-input pixels; optionally device steps, which FGSM/PGD/APGD under L∞ use instead.
 */
export interface AttackOracle {
  gradient(pixels: Float32Array): Promise<DistanceGradient>;
  deviceSteps?: DeviceSteps<unknown>;
}

export interface AttackStep {
  /** 0 is the starting point (after the random start); step k is the k-th iterate (APGD restarts continue the count). */
  step: number;
  distance: number;
  deltaNorm: number;
}

export interface AttackResult {
  /** FGSM/PGD: the last iterate. APGD: the best point found (over all restarts), as the reference implementation returns. */
  adversarial: Float32Array;
  delta: Float32Array;
  /** The objective at `adversarial`. */
  distance: number;
  steps: AttackStep[];
}

export interface AttackHooks {
  /** Sees every iterate; `pixels` is null when the iterate stays on the device (DeviceSteps). */
  onStep?: (s: AttackStep, pixels: Float32Array | null) => void;
  /** May throw between steps. */
  checkCancelled?: () => void;
}

/**
 * The threat model the paper trains and claims (L∞, ε = 4/255) with the quick attack the page and the
 * API default to: PGD-10, steps of 1/255. The paper's own evaluation is APGD-100 (PAPER_EVALUATION).
 */
export const PAPER_DEFAULTS: AttackSettings = { method: 'pgd', norm: 'linf', eps: 4 / 255, steps: 10, stepSize: 1 / 255, seed: 0 };

/** Iterations when none are given: FGSM one step, PGD-10 (the quick column), APGD-100 (as the paper evaluates). */
export const DEFAULT_STEPS: Record<AttackMethod, number> = { fgsm: 1, pgd: 10, apgd: 100 };

export const MAX_ATTACK_STEPS = 1000;
export const MAX_RESTARTS = 20;

/**
 * Settings with each method's step rule: PGD 2.5·eps/steps (1/255 for PGD-10 at 4/255); APGD starts
 * at 2·eps (Croce & Hein 2020); FGSM takes one step of eps.
 */
export function attackSettings(method: AttackMethod, norm: AttackNorm, eps: number, steps = DEFAULT_STEPS[method], seed = 0, restarts = 1): AttackSettings {
  if (method === 'fgsm') return { method, norm, eps, steps: 1, stepSize: eps, seed };
  if (method === 'apgd') return { method, norm, eps, steps, stepSize: 2 * eps, seed, restarts };
  return { method, norm, eps, steps, stepSize: (2.5 * eps) / steps, seed };
}

/** The paper's evaluation: APGD-100 at L∞ 4/255. */
export const PAPER_EVALUATION: AttackSettings = attackSettings('apgd', 'linf', 4 / 255);

/** "PGD-10", "APGD-100 ×3 restarts", "FGSM": how tables and logs name an attack. */
export function attackLabel(s: Pick<AttackSettings, 'method' | 'steps' | 'restarts'>): string {
  if (s.method === 'fgsm') return 'FGSM';
  const restarts = (s.restarts ?? 1) > 1 ? ` ×${s.restarts} restarts` : '';
  return `${s.method.toUpperCase()}-${s.steps}${restarts}`;
}

/** Refuses settings that cannot mean what the user wants, with the reason. */
export function validateAttackSettings(s: AttackSettings, pixelCount: number): void {
  const bad = (message: string): never => {
    throw new RclipError('INVALID_ARGUMENT', message);
  };
  if (s.norm !== 'linf' && s.norm !== 'l2') bad(`norm must be "linf" or "l2", not ${JSON.stringify(s.norm)}.`);
  if (!ATTACK_METHODS.includes(s.method)) bad(`method must be one of ${ATTACK_METHODS.map((m) => `"${m}"`).join(', ')}, not ${JSON.stringify(s.method)}.`);
  if (!Number.isFinite(s.eps) || s.eps <= 0) bad(`eps must be a positive number (got ${s.eps}).`);
  const maxEps = s.norm === 'linf' ? 1 : Math.sqrt(pixelCount);
  if (s.eps > maxEps) bad(`eps ${s.eps} is larger than the whole pixel box allows for ${s.norm} (${maxEps.toFixed(3)}): pixels live in [0,1].`);
  if (!Number.isInteger(s.steps) || s.steps < 1 || s.steps > MAX_ATTACK_STEPS) bad(`steps must be a whole number from 1 to ${MAX_ATTACK_STEPS} (got ${s.steps}).`);
  if (!Number.isFinite(s.stepSize) || s.stepSize <= 0) bad(`stepSize must be a positive number (got ${s.stepSize}).`);
  if (!Number.isInteger(s.seed)) bad(`seed must be a whole number (got ${s.seed}).`);
  if (s.restarts !== undefined) {
    if (!Number.isInteger(s.restarts) || s.restarts < 1 || s.restarts > MAX_RESTARTS) bad(`restarts must be a whole number from 1 to ${MAX_RESTARTS} (got ${s.restarts}).`);
    if (s.restarts > 1 && s.method !== 'apgd') bad(`restarts are APGD's (method "apgd"); ${s.method} runs once (got restarts ${s.restarts}).`);
  }
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

/** PGD's and FGSM's start: uniform in the L∞ box; for L2 a uniform direction at a uniform fraction of the radius. */
function randomPoint(n: number, norm: AttackNorm, eps: number, random: () => number): Float32Array {
  if (norm === 'linf') return Float32Array.from({ length: n }, () => (random() * 2 - 1) * eps);
  const delta = gaussianSamples(n, random);
  const scale = (eps * random()) / (normOf(delta, 'l2') || 1);
  for (let i = 0; i < n; i++) delta[i] *= scale;
  return delta;
}

/**
 * APGD's start, drawn as autopgd_base.py draws it: L∞ a uniform draw in [−1,1]ⁿ scaled so that its
 * largest coordinate is eps (a point on the ball's surface); L2 a Gaussian direction at radius eps.
 */
function apgdStartPoint(n: number, norm: AttackNorm, eps: number, random: () => number): Float32Array {
  const t = norm === 'linf' ? Float32Array.from({ length: n }, () => random() * 2 - 1) : gaussianSamples(n, random);
  const scale = eps / (normOf(t, norm) + 1e-12);
  for (let i = 0; i < n; i++) t[i] *= scale;
  return t;
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

const directionOf = (objective: AttackObjective): 1 | -1 => (objective === 'pull-together' ? -1 : 1);

/**
 * Runs `settings.method` from `clean` (model-input pixels) on the oracle's objective: ascends it, or
 * descends it for pull-together. The settings are validated first. `hooks.onStep` sees every
 * iterate; `hooks.checkCancelled` may throw between steps. Under L∞ every method runs on the
 * oracle's device steps when it has them (same start, same schedule, same decisions).
 */
export async function runAttack(clean: Float32Array, objective: AttackObjective, settings: AttackSettings, oracle: AttackOracle, hooks: AttackHooks = {}): Promise<AttackResult> {
  validateAttackSettings(settings, clean.length);
  if (settings.method === 'apgd') {
    if (settings.norm === 'linf' && oracle.deviceSteps) return runApgdDevice(oracle.deviceSteps, clean, directionOf(objective), settings, hooks);
    return runApgd(clean, directionOf(objective), settings, oracle, hooks);
  }
  const start = pgdStart(clean, objective, settings);
  if (settings.norm === 'linf' && oracle.deviceSteps) return runDeviceSteps(oracle.deviceSteps, clean, start, settings.eps, hooks);
  return runPgd(clean, start, settings, oracle, hooks);
}

interface PgdStart {
  direction: 1 | -1;
  /** The first δ, projected. */
  delta: Float32Array;
  /** Gradient steps after the starting point (FGSM: 1). */
  iterations: number;
  stepSize: number;
}

/**
 * PGD starts from a seeded random point in the ball. FGSM starts at δ = 0 and takes one step of
 * size eps, except for push-apart: there the distance to the clean image is at its minimum at δ = 0,
 * its gradient is zero (only float noise), so FGSM also starts from the seeded random point.
 */
function pgdStart(clean: Float32Array, objective: AttackObjective, settings: AttackSettings): PgdStart {
  const { norm, eps } = settings;
  const randomStart = settings.method === 'pgd' || objective === 'push-apart';
  const delta = randomStart ? randomPoint(clean.length, norm, eps, seededRandom(settings.seed)) : new Float32Array(clean.length);
  project(delta, clean, norm, eps);
  return {
    direction: directionOf(objective),
    delta,
    iterations: settings.method === 'fgsm' ? 1 : settings.steps,
    stepSize: settings.method === 'fgsm' ? eps : settings.stepSize,
  };
}

function addTo(clean: Float32Array, delta: Float32Array, out = new Float32Array(clean.length)): Float32Array {
  for (let i = 0; i < out.length; i++) out[i] = clean[i] + delta[i];
  return out;
}

async function runPgd(clean: Float32Array, { direction, delta, iterations, stepSize }: PgdStart, { norm, eps }: AttackSettings, oracle: AttackOracle, hooks: AttackHooks): Promise<AttackResult> {
  const x = new Float32Array(clean.length);
  const steps: AttackStep[] = [];
  for (let k = 0; ; k++) {
    hooks.checkCancelled?.();
    addTo(clean, delta, x);
    const { distance, grad } = await oracle.gradient(x);
    const record = { step: k, distance, deltaNorm: normOf(delta, norm) };
    steps.push(record);
    hooks.onStep?.(record, x);
    if (k === iterations) return { adversarial: x, delta, distance, steps };
    step(delta, grad, norm, stepSize, direction);
    project(delta, clean, norm, eps);
  }
}

/** PGD's L∞ loop on the device: x_next is fed back as the next x; the image is read back once, at the end. */
async function runDeviceSteps<H>(device: DeviceSteps<H>, clean: Float32Array, { direction, delta: startDelta, iterations, stepSize }: PgdStart, eps: number, hooks: AttackHooks): Promise<AttackResult> {
  let x = device.upload(addTo(clean, startDelta));
  const steps: AttackStep[] = [];
  let adversarial: Float32Array;
  try {
    for (let k = 0; ; k++) {
      hooks.checkCancelled?.();
      const out = await device.step({ x, previous: x, eps, alpha: direction * stepSize, momentum: 1 });
      if (k === iterations) device.dispose(out.next);
      else {
        device.dispose(x);
        x = out.next;
      }
      const record = { step: k, distance: out.distance, deltaNorm: out.deltaNorm };
      steps.push(record);
      hooks.onStep?.(record, null);
      if (k === iterations) break;
    }
    adversarial = await device.download(x);
  } finally {
    device.dispose(x);
  }
  return { adversarial, delta: deltaOf(adversarial, clean), distance: steps[steps.length - 1].distance, steps };
}

function deltaOf(adversarial: Float32Array, clean: Float32Array): Float32Array {
  const delta = new Float32Array(clean.length);
  for (let i = 0; i < delta.length; i++) delta[i] = adversarial[i] - clean[i];
  return delta;
}

/** APGD's step-size rule (Croce & Hein 2020, §3.2): ρ, the share of improving steps below which a checkpoint halves the step. */
export const APGD_RHO = 0.75;
/** APGD's momentum α: the weight of the new projected step against the previous move. */
export const APGD_MOMENTUM = 0.75;

/**
 * The iterations after which APGD checks its progress, for n iterations: w_j = ⌈p_j·n⌉ with p_0 = 0,
 * p_1 = 0.22, p_{j+1} = p_j + max(p_j − p_{j−1} − 0.03, 0.06), computed in whole iterations as
 * autopgd_base.py does (first interval ⌊0.22n⌋, shrinking by ⌊0.03n⌋ down to ⌊0.06n⌋, each at least 1).
 * n = 100: 22, 41, 57, 70, 80, 87, 93, 99.
 */
export function apgdCheckpoints(n: number): number[] {
  const whole = (share: number) => Math.max(Math.floor(share * n), 1);
  const [first, shortest, shrink] = [whole(0.22), whole(0.06), whole(0.03)];
  const out: number[] = [];
  for (let at = first, interval = first; at <= n; interval = Math.max(interval - shrink, shortest), at += interval) out.push(at);
  return out;
}

/**
 * Whether APGD halves its step at a checkpoint (autopgd_base.py check_oscillation and
 * fl_reduce_no_impr): (a) at most ρ of the iterates since the last checkpoint improved on the one
 * before (`values` holds f at iterates `from`−1 … `to`), or (b) the step was not halved at the last
 * checkpoint and the best value has not risen since.
 */
export function apgdHalves(values: readonly number[], rho: number, halvedLast: boolean, bestAtLast: number, best: number): boolean {
  let improved = 0;
  for (let j = 1; j < values.length; j++) if (values[j] > values[j - 1]) improved++;
  return improved <= rho * (values.length - 1) || (!halvedLast && bestAtLast >= best);
}

/**
 * APGD (Croce & Hein 2020, the white-box attack of AutoAttack), following autopgd_base.py
 * (fra31/auto-attack) for L∞ and L2: start on the ball's surface (apgdStartPoint), first step plain,
 * then z = P(x + η·dir(∇f)), x ← P(x + α(z − x) + (1 − α)(x − x_prev)) with α = 0.75; η starts at
 * settings.stepSize (2·eps) and is halved at the checkpoints of apgdCheckpoints when apgdHalves says
 * so, the run then continuing from the best point and its gradient. Restarts draw new starts from the
 * same seeded stream; the best point over all runs is the result.
 * Deviations, each because the reference's behaviour there is an artefact of its batching:
 * - the first checkpoint compares the first iterate with the start (the paper's definition); the
 *   reference compares it with an unwritten slot of its loss buffer (index −1 wraps to a zero).
 * - the result is the point of highest objective (the reference's best_loss mode); its default mode
 *   stops a restart at the first misclassified point, and an embedding distance has no classes.
 */
async function runApgd(clean: Float32Array, direction: 1 | -1, settings: AttackSettings, oracle: AttackOracle, hooks: AttackHooks): Promise<AttackResult> {
  const { norm, eps, steps: n } = settings;
  const random = seededRandom(settings.seed);
  const checkpoints = new Set(apgdCheckpoints(n));
  const steps: AttackStep[] = [];
  let overall: { delta: Float32Array; value: number } | null = null;
  const x = new Float32Array(clean.length);
  const evaluate = async (delta: Float32Array) => {
    hooks.checkCancelled?.();
    addTo(clean, delta, x);
    const { distance, grad } = await oracle.gradient(x);
    const record = { step: steps.length, distance, deltaNorm: normOf(delta, norm) };
    steps.push(record);
    hooks.onStep?.(record, x);
    return { value: direction * distance, grad };
  };
  for (let restart = 0; restart < (settings.restarts ?? 1); restart++) {
    let delta: Float32Array = apgdStartPoint(clean.length, norm, eps, random);
    // The box only: the draw is already in the ball.
    project(delta, clean, norm, Infinity);
    let { value, grad } = await evaluate(delta);
    const values = [value];
    let best = { delta: Float32Array.from(delta), value, grad };
    let previous: Float32Array = Float32Array.from(delta);
    let stepSize = settings.stepSize;
    let lastCheckpoint = 0;
    let halvedLast = true;
    let bestAtLast = value;
    for (let i = 1; i <= n; i++) {
      const momentum = i === 1 ? 1 : APGD_MOMENTUM;
      const z = Float32Array.from(delta);
      step(z, grad, norm, stepSize, direction);
      project(z, clean, norm, eps);
      const next = new Float32Array(delta.length);
      for (let p = 0; p < next.length; p++) next[p] = delta[p] + momentum * (z[p] - delta[p]) + (1 - momentum) * (delta[p] - previous[p]);
      project(next, clean, norm, eps);
      previous = delta;
      delta = next;
      ({ value, grad } = await evaluate(delta));
      values.push(value);
      if (value > best.value) best = { delta: Float32Array.from(delta), value, grad };
      if (!checkpoints.has(i)) continue;
      const halve = apgdHalves(values.slice(lastCheckpoint, i + 1), APGD_RHO, halvedLast, bestAtLast, best.value);
      [lastCheckpoint, halvedLast, bestAtLast] = [i, halve, best.value];
      if (!halve) continue;
      stepSize /= 2;
      // The reference keeps x_prev (the iterate before this one) when it jumps back to the best point.
      delta = Float32Array.from(best.delta);
      grad = best.grad;
    }
    if (overall === null || best.value > overall.value) overall = { delta: best.delta, value: best.value };
  }
  const { delta, value } = overall!;
  return { adversarial: addTo(clean, delta), delta, distance: direction * value, steps };
}

/**
 * runApgd under L∞ on the device, making the same decisions: the run at iterate x_k reads back f(x_k)
 * and proposes x_{k+1} with the step size in force. The checkpoint at k can only be decided from
 * f(x_k), so when it halves the step that proposal is dropped and the step is taken again from the
 * best point with x_{k−1} as the previous iterate (a `move`: one more run, nothing read back; runApgd
 * keeps the best point's gradient instead). Iterates are held by reference (the best ones included,
 * no copies) and disposed as soon as no role holds them.
 */
async function runApgdDevice<H>(device: DeviceSteps<H>, clean: Float32Array, direction: 1 | -1, settings: AttackSettings, hooks: AttackHooks): Promise<AttackResult> {
  const { eps, steps: n } = settings;
  const random = seededRandom(settings.seed);
  const checkpoints = new Set(apgdCheckpoints(n));
  const steps: AttackStep[] = [];
  let x: H | null = null;
  let previous: H | null = null;
  let best: { x: H; value: number } | null = null;
  let overall: { x: H; value: number } | null = null;
  const live = new Set<H>();
  const track = (h: H) => (live.add(h), h);
  const sweep = () => {
    for (const h of live) {
      if (h === x || h === previous || h === best?.x || h === overall?.x) continue;
      device.dispose(h);
      live.delete(h);
    }
  };
  try {
    for (let restart = 0; restart < (settings.restarts ?? 1); restart++) {
      const start = apgdStartPoint(clean.length, 'linf', eps, random);
      // The box only: the draw is already in the ball.
      project(start, clean, 'linf', Infinity);
      x = previous = track(device.upload(addTo(clean, start)));
      best = null;
      let stepSize = settings.stepSize;
      const values: number[] = [];
      let lastCheckpoint = 0;
      let halvedLast = true;
      let bestAtLast = 0;
      for (let i = 0; ; i++) {
        hooks.checkCancelled?.();
        // The step from iterate i is runApgd's iteration i + 1: the first one without momentum.
        const momentum = i === 0 ? 1 : APGD_MOMENTUM;
        const out = await device.step({ x, previous, eps, alpha: direction * stepSize, momentum });
        let next = track(out.next);
        const value = direction * out.distance;
        const record = { step: steps.length, distance: out.distance, deltaNorm: out.deltaNorm };
        steps.push(record);
        hooks.onStep?.(record, null);
        values.push(value);
        if (best === null || value > best.value) best = { x, value };
        if (i === 0) bestAtLast = value;
        if (i === n) break;
        if (checkpoints.has(i)) {
          const halve = apgdHalves(values.slice(lastCheckpoint, i + 1), APGD_RHO, halvedLast, bestAtLast, best.value);
          [lastCheckpoint, halvedLast, bestAtLast] = [i, halve, best.value];
          if (halve) {
            stepSize /= 2;
            x = best.x;
            sweep(); // drops the proposal (and x_k unless it is the best) before the next one exists
            next = track(await device.move({ x, previous, eps, alpha: direction * stepSize, momentum: APGD_MOMENTUM }));
          }
        }
        previous = x;
        x = next;
        sweep();
      }
      if (overall === null || best!.value > overall.value) overall = best!;
      x = previous = best = null;
      sweep();
    }
    const adversarial = await device.download(overall!.x);
    return { adversarial, delta: deltaOf(adversarial, clean), distance: direction * overall!.value, steps };
  } finally {
    for (const h of live) device.dispose(h);
  }
}
