/**
 * Square Attack on the pHash as a job: the core's evadePhash with the job's cancellation and
 * progress every PROGRESS_EVERY queries. Its score is plain JS that never awaits anything slower
 * than a microtask, so every PROGRESS_EVERY queries it also yields a turn of the event loop: in the
 * worker, that is when a cancel message (a macrotask) can land. The same code runs in Node.
 */
import { evadePhash, type PhashEvasion } from '../core/phash';
import type { RgbaImage } from '../core/preprocess';
import type { SquareProgress, SquareSettings } from '../core/square';
import { throwIfAborted, type JobOptions } from './jobs';

const PROGRESS_EVERY = 20;

export interface PhashEvasionJobOptions extends JobOptions {
  onProgress?: (p: SquareProgress) => void;
}

export async function evadePhashJob(image: RgbaImage, listed: readonly string[], settings: SquareSettings, { signal, onProgress }: PhashEvasionJobOptions = {}): Promise<PhashEvasion> {
  let queries = 0;
  return evadePhash(image, listed, settings, {
    checkCancelled: async () => {
      if (queries % PROGRESS_EVERY === 0) await new Promise<void>((resolve) => setTimeout(resolve, 0));
      throwIfAborted(signal);
    },
    onQuery: (p) => {
      queries = p.query;
      if (p.query % PROGRESS_EVERY === 0 || p.query === p.budget) onProgress?.(p);
    },
  });
}
