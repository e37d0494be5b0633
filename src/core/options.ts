/** Option values (the CLI's and the bench's): parsed strictly, refused with INVALID_ARGUMENT naming the option. */
import { ATTACK_METHODS, attackSettings, DEFAULT_STEPS, type AttackMethod, type AttackNorm, type AttackSettings } from './attack';
import { RclipError } from './errors';

/** Parsed command-line values, as node:util parseArgs gives them. */
export type Values = Record<string, string | boolean | undefined>;

const bad = (message: string): never => {
  throw new RclipError('INVALID_ARGUMENT', message);
};

/** A number, or a fraction "a/b" (eps is usually written 4/255). */
export function numberOption(name: string, raw: string | boolean | undefined, fallback: number): number {
  if (raw === undefined) return fallback;
  const text = String(raw).trim();
  const m = /^([0-9]*\.?[0-9]+(?:e[-+]?[0-9]+)?)(?:\/([0-9]*\.?[0-9]+))?$/i.exec(text);
  const value = m ? Number(m[1]) / (m[2] === undefined ? 1 : Number(m[2])) : NaN;
  if (!Number.isFinite(value)) bad(`--${name} must be a non-negative number or a fraction like 4/255 (got "${text}").`);
  return value;
}

/** A radius in [0,1] pixel units written the way numberOption reads it back: 0.0157 → "4/255". */
export function per255(value: number): string {
  return `${+(value * 255).toFixed(2)}/255`;
}

export function integerOption(name: string, raw: string | boolean | undefined, fallback: number, min: number): number {
  if (raw === undefined) return fallback;
  const text = String(raw).trim();
  if (!/^-?[0-9]+$/.test(text) || Number(text) < min) bad(`--${name} must be a whole number ≥ ${min} (got "${text}").`);
  return Number(text);
}

export function choiceOption<T extends string>(name: string, raw: string | boolean | undefined, allowed: readonly T[], fallback: T): T {
  if (raw === undefined) return fallback;
  if (!allowed.includes(raw as T)) bad(`--${name} must be one of ${allowed.join(', ')} (got "${raw}").`);
  return raw as T;
}

export function requiredString(name: string, raw: string | boolean | undefined): string {
  if (typeof raw !== 'string' || raw === '') bad(`--${name} is required.`);
  return raw as string;
}

export function positionalCount(positionals: string[], min: number, max: number, what: string): void {
  if (positionals.length < min || positionals.length > max) bad(`expected ${what}, got ${positionals.length} argument(s)${positionals.length ? `: ${positionals.join(' ')}` : ''}.`);
}

/** L2 radius when --eps is not given: at 64×64×3 an L∞ ball of 4/255 reaches L2 ≈ 1.74, so 0.5 is the milder threat. */
export const DEFAULT_L2_EPS = 0.5;

/** --norm, --eps, --steps, --seed and --restarts for one attack method, with that method's defaults and step rule (attackSettings). */
export function methodSettings(method: AttackMethod, values: Values): AttackSettings {
  const norm = choiceOption<AttackNorm>('norm', values.norm, ['linf', 'l2'], 'linf');
  const eps = numberOption('eps', values.eps, norm === 'linf' ? 4 / 255 : DEFAULT_L2_EPS);
  if (!(eps > 0)) bad(`--eps must be positive (got ${eps}).`);
  const steps = integerOption('steps', values.steps, DEFAULT_STEPS[method], 1);
  const seed = integerOption('seed', values.seed, 0, 0);
  const restarts = integerOption('restarts', values.restarts, 1, 1);
  if (restarts > 1 && method !== 'apgd') bad(`--restarts only means something with apgd (got ${restarts} with ${method}).`);
  return attackSettings(method, norm, eps, steps, seed, restarts);
}

/** `rclip eval`'s --attack none|fgsm|pgd|apgd and the settings that go with it; null for none. */
export function attackFromOptions(values: Values): AttackSettings | null {
  const method = choiceOption('attack', values.attack, ['none', ...ATTACK_METHODS] as const, 'none');
  if (method === 'none') {
    const given = ['norm', 'eps', 'steps', 'restarts'].filter((k) => values[k] !== undefined);
    if (given.length) bad(`--${given.join(', --')} only mean(s) something with --attack ${ATTACK_METHODS.join(', ')}.`);
    return null;
  }
  return methodSettings(method, values);
}

/** The paper's L2 radius, 3.0 on 224×224 inputs. */
export const PAPER_L2_EPS = 3.0;
export const PAPER_INPUT_SIZE = 224;

/** The paper's L2 radius on a model's own input: an L2 ball scales with √(pixel count), i.e. size / 224. */
export function paperL2Eps(inputSize: number): number {
  return (PAPER_L2_EPS * inputSize) / PAPER_INPUT_SIZE;
}

/**
 * The radius an evaluation attacks a model at: `eps` when given (--eps, on every model's input as is), else
 * the shipped claim L∞ 4/255, or in L2 the paper's 3.0 at 224 px scaled to the model's input (paperL2Eps):
 * an L2 ball's radius grows with √(pixel count), so one figure across input sizes is one threat per pixel.
 */
export function evaluationEps(norm: AttackNorm, eps: number | undefined, inputSize: number): number {
  if (eps !== undefined) return eps;
  return norm === 'linf' ? 4 / 255 : paperL2Eps(inputSize);
}

/**
 * The benches' --attack: a comma-separated list of METHOD or METHOD-STEPS (apgd, pgd-10, apgd-50, fgsm),
 * each with its method's step rule (attackSettings) at radius `eps` in `norm` (the bench's --norm: one list, one
 * norm, as a run reports one radius).
 */
export function attackListOption(name: string, raw: string | boolean | undefined, fallback: string, eps: number, seed: number, norm: AttackNorm = 'linf'): AttackSettings[] {
  const text = raw === undefined ? fallback : String(raw);
  const attacks = text.split(',').map((part) => {
    const m = /^(fgsm|pgd|apgd)(?:-([0-9]+))?$/.exec(part.trim());
    if (!m || (m[2] !== undefined && Number(m[2]) < 1)) bad(`--${name} takes a comma-separated list of ${ATTACK_METHODS.join(', ')}, each optionally with its iterations (apgd-100, pgd-10; the norm is --norm); got "${part}".`);
    const method = m![1] as AttackMethod;
    return attackSettings(method, norm, eps, m![2] === undefined ? DEFAULT_STEPS[method] : Number(m![2]), seed);
  });
  const labels = attacks.map((a) => `${a.method}-${a.steps}`);
  if (new Set(labels).size !== labels.length) bad(`--${name} lists an attack twice ("${text}").`);
  return attacks;
}
