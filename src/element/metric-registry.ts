import { createMetric, type Metric } from '../client/metric';

/**
 * One Metric (one worker, one copy of each loaded model) per models base URL, shared by every
 * element on the page; the worker is terminated when the last element using it is removed.
 */
const shared = new Map<string, { metric: Metric; users: number }>();

export function acquireMetric(modelsBase: string): Metric {
  const key = new URL(modelsBase, document.baseURI).href;
  let entry = shared.get(key);
  if (!entry) {
    entry = { metric: createMetric({ modelsBase: key }), users: 0 };
    shared.set(key, entry);
  }
  entry.users++;
  return entry.metric;
}

export function releaseMetric(modelsBase: string): void {
  const key = new URL(modelsBase, document.baseURI).href;
  const entry = shared.get(key);
  if (!entry) return;
  entry.users--;
  if (entry.users <= 0) {
    entry.metric.terminate();
    shared.delete(key);
  }
}
