/**
 * How well a metric agrees with people, with how sure the figure is: the rank and linear correlations
 * that image-quality data sets are scored by (SRCC, PLCC, KRCC) with a bootstrap interval, and the
 * Wilson interval for a 2AFC agreement rate. Pure: no I/O.
 */
import { seededRandom } from './random';

/** Ranks 1..n with ties given their average rank (as scipy.stats.rankdata's default). */
export function averageRanks(values: readonly number[]): Float64Array {
  const order = values.map((_, i) => i).sort((a, b) => values[a] - values[b]);
  const ranks = new Float64Array(values.length);
  for (let i = 0; i < order.length; ) {
    let j = i;
    while (j + 1 < order.length && values[order[j + 1]] === values[order[i]]) j++;
    const rank = (i + j) / 2 + 1;
    for (let k = i; k <= j; k++) ranks[order[k]] = rank;
    i = j + 1;
  }
  return ranks;
}

/** Pearson's r; NaN when either side is constant (no correlation is defined there). */
export function pearson(x: ArrayLike<number>, y: ArrayLike<number>): number {
  const n = x.length;
  if (n !== y.length) throw new RangeError(`pearson: ${n} x values but ${y.length} y values.`);
  let mx = 0;
  let my = 0;
  for (let i = 0; i < n; i++) {
    mx += x[i];
    my += y[i];
  }
  mx /= n;
  my /= n;
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  for (let i = 0; i < n; i++) {
    const dx = x[i] - mx;
    const dy = y[i] - my;
    sxy += dx * dy;
    sxx += dx * dx;
    syy += dy * dy;
  }
  return sxx === 0 || syy === 0 ? NaN : sxy / Math.sqrt(sxx * syy);
}

/** Spearman's ρ: Pearson's r of the average ranks. */
export function spearman(x: readonly number[], y: readonly number[]): number {
  return pearson(averageRanks(x), averageRanks(y));
}

/** Pairs tied within runs of equal keys of an array sorted by that key: Σ t(t−1)/2. */
function tiedPairs(n: number, same: (i: number) => boolean): number {
  let pairs = 0;
  let run = 1;
  for (let i = 1; i < n; i++) {
    if (same(i)) run++;
    else {
      pairs += (run * (run - 1)) / 2;
      run = 1;
    }
  }
  return pairs + (run * (run - 1)) / 2;
}

/**
 * Kendall's τ-b in O(n log n) (Knight 1966): sort by (x, y), then count the swaps a merge sort by y
 * makes (the discordant pairs). τ-b = (n₀ − n₁ − n₂ + n₃ − 2·swaps) / √((n₀ − n₁)(n₀ − n₂)), with n₁, n₂
 * the pairs tied in x, in y and n₃ those tied in both. Image-quality sets have ~10⁴ pairs and the
 * bootstrap recomputes τ a thousand times, so the O(n²) definition is too slow.
 */
export function kendallTauB(x: readonly number[], y: readonly number[]): number {
  const n = x.length;
  if (n !== y.length) throw new RangeError(`kendallTauB: ${n} x values but ${y.length} y values.`);
  const order = x.map((_, i) => i).sort((a, b) => x[a] - x[b] || y[a] - y[b]);
  const n0 = (n * (n - 1)) / 2;
  const n1 = tiedPairs(n, (i) => x[order[i]] === x[order[i - 1]]);
  const n3 = tiedPairs(n, (i) => x[order[i]] === x[order[i - 1]] && y[order[i]] === y[order[i - 1]]);
  let ys = Float64Array.from(order, (i) => y[i]);
  let buffer = new Float64Array(n);
  let swaps = 0;
  for (let width = 1; width < n; width *= 2) {
    for (let lo = 0; lo < n; lo += 2 * width) {
      const mid = Math.min(lo + width, n);
      const hi = Math.min(lo + 2 * width, n);
      let i = lo;
      let j = mid;
      let k = lo;
      while (i < mid && j < hi) {
        if (ys[j] < ys[i]) {
          swaps += mid - i;
          buffer[k++] = ys[j++];
        } else buffer[k++] = ys[i++];
      }
      while (i < mid) buffer[k++] = ys[i++];
      while (j < hi) buffer[k++] = ys[j++];
    }
    [ys, buffer] = [buffer, ys];
  }
  const n2 = tiedPairs(n, (i) => ys[i] === ys[i - 1]);
  const denominator = Math.sqrt((n0 - n1) * (n0 - n2));
  return denominator === 0 ? NaN : (n0 - n1 - n2 + n3 - 2 * swaps) / denominator;
}

export interface Interval {
  low: number;
  high: number;
}

/** z for a two-sided 95 % interval. */
const Z95 = 1.959963984540054;

/**
 * Wilson's 95 % score interval for a rate of `successes` out of `n`. A 2AFC score with split human
 * votes (BAPPS: 0.2, 0.4, …) is a sum of fractions, not of 0/1 outcomes; the interval is then read as
 * for that many successes, an approximation the docs name.
 */
export function wilsonInterval(successes: number, n: number): Interval {
  if (n === 0) return { low: NaN, high: NaN };
  const p = successes / n;
  const z2 = Z95 * Z95;
  const centre = (p + z2 / (2 * n)) / (1 + z2 / n);
  const half = (Z95 * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n))) / (1 + z2 / n);
  // At p = 0 or 1 the bound on that side is exactly 0 or 1; float rounding would leave 1 − 1e-16.
  return { low: p === 0 ? 0 : Math.max(0, centre - half), high: p === 1 ? 1 : Math.min(1, centre + half) };
}

export const CORRELATIONS = ['srcc', 'plcc', 'krcc'] as const;
export type Correlation = (typeof CORRELATIONS)[number];

const CORRELATION_OF: Record<Correlation, (x: readonly number[], y: readonly number[]) => number> = {
  srcc: spearman,
  plcc: (x, y) => pearson(x, y),
  krcc: kendallTauB,
};

export interface CorrelationWithInterval {
  value: number;
  /** Percentile bootstrap over the pairs (resampled with replacement), 95 %. */
  interval: Interval;
}

export const DEFAULT_BOOTSTRAP_SAMPLES = 1000;

/**
 * SRCC, PLCC and KRCC of x against y, each with a seeded percentile-bootstrap 95 % interval: the
 * pairs are resampled with replacement `samples` times (the same resamples for all three).
 */
export function correlationsWithIntervals(x: readonly number[], y: readonly number[], seed: number, samples = DEFAULT_BOOTSTRAP_SAMPLES): Record<Correlation, CorrelationWithInterval> {
  const n = x.length;
  const random = seededRandom(seed);
  const draws: Record<Correlation, number[]> = { srcc: [], plcc: [], krcc: [] };
  const bx = new Array<number>(n);
  const by = new Array<number>(n);
  for (let s = 0; s < samples && n > 1; s++) {
    for (let i = 0; i < n; i++) {
      const k = Math.floor(random() * n);
      bx[i] = x[k];
      by[i] = y[k];
    }
    for (const c of CORRELATIONS) {
      const v = CORRELATION_OF[c](bx, by);
      if (!Number.isNaN(v)) draws[c].push(v);
    }
  }
  const percentile = (sorted: number[], p: number) => (sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.max(0, Math.round(p * (sorted.length - 1))))]);
  return Object.fromEntries(
    CORRELATIONS.map((c) => {
      const sorted = draws[c].sort((a, b) => a - b);
      return [c, { value: CORRELATION_OF[c](x, y), interval: { low: percentile(sorted, 0.025), high: percentile(sorted, 0.975) } }];
    }),
  ) as Record<Correlation, CorrelationWithInterval>;
}
