/** One job's control for the engine's callers: an AbortSignal, checked before the job's turn and between its steps. */
import type { AttackStep } from '../core/attack';
import { RclipError } from '../core/errors';

export interface JobOptions {
  signal?: AbortSignal;
}

export interface AttackJobOptions extends JobOptions {
  onStep?: (step: AttackStep) => void;
}

/** Throws CANCELLED when the signal has been aborted. */
export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new RclipError('CANCELLED', 'The request was cancelled.');
}
