/**
 * Test-only (used by the demo page when built with __RCLIP_TEST_HOOKS__; never part of the library's
 * entry points): makes a metric's worker throw an uncaught error, to check that callers are told and recover.
 */
import type * as Comlink from 'comlink';
import type { WorkerApi } from '../../workers/rclip.worker';
import type { Metric } from './metric';

export function simulateWorkerCrash(metric: Metric): void {
  const remote = (metric as unknown as { remote: Comlink.Remote<WorkerApi> | null }).remote;
  void (remote?.simulateCrash as (() => Promise<void>) | undefined)?.();
}
