export interface LatencyStats {
  n: number;
  median: number;
  p90: number;
  mean: number;
}

/** Nearest-rank percentiles of a sample of times (ms). */
export function latencyStats(times: readonly number[]): LatencyStats {
  const sorted = [...times].sort((a, b) => a - b);
  const rank = (p: number) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))];
  return { n: sorted.length, median: rank(0.5), p90: rank(0.9), mean: sorted.reduce((a, b) => a + b, 0) / Math.max(1, sorted.length) };
}
