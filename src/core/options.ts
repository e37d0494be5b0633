/** Option values (the CLI's and the bench's): parsed strictly, refused with INVALID_ARGUMENT naming the option. */
import { attackSettings, type AttackNorm, type AttackSettings } from './attack';
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

export function attackFromOptions(values: Values): AttackSettings | null {
  const method = choiceOption('attack', values.attack, ['none', 'fgsm', 'pgd'] as const, 'none');
  const norm = choiceOption<AttackNorm>('norm', values.norm, ['linf', 'l2'], 'linf');
  const eps = numberOption('eps', values.eps, norm === 'linf' ? 4 / 255 : DEFAULT_L2_EPS);
  const steps = integerOption('steps', values.steps, 10, 1);
  const seed = integerOption('seed', values.seed, 0, 0);
  if (method === 'none') {
    const given = ['norm', 'eps', 'steps'].filter((k) => values[k] !== undefined);
    if (given.length) throw new RclipError('INVALID_ARGUMENT', `--${given.join(', --')} only mean(s) something with --attack fgsm or pgd.`);
    return null;
  }
  if (!(eps > 0)) throw new RclipError('INVALID_ARGUMENT', `--eps must be positive (got ${eps}).`);
  return attackSettings(method, norm, eps, steps, seed);
}
