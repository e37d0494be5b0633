import { quantile } from '../src/core/stats';

export interface LatencyStats {
  n: number;
  median: number;
  p90: number;
  mean: number;
}

/** Nearest-rank percentiles of a sample of times (ms). */
export function latencyStats(times: readonly number[]): LatencyStats {
  const sorted = [...times].sort((a, b) => a - b);
  return { n: sorted.length, median: quantile(sorted, 0.5), p90: quantile(sorted, 0.9), mean: sorted.reduce((a, b) => a + b, 0) / Math.max(1, sorted.length) };
}
