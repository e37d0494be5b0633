/**
 * Decoding and preprocessing on worker threads, for bulk embedding (node-model.ts embedEach): the
 * Pillow-exact resize is JavaScript, so on one thread it would cap throughput at one core however
 * many decodes sharp runs at once. One pool per process, started on first use, unref'd so it never
 * keeps the process alive; each worker takes several files at a time (sharp decodes off-thread).
 */
import { availableParallelism } from 'node:os';
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import { isErrorCode, RclipError } from '../core/errors';
import type { InputSpec } from '../core/manifest';
import type { PixelTensor } from '../core/preprocess';
import type { DecodeJob, DecodeReply } from './node-decode-worker';

/** Worker threads in the pool: one per core (bench/README.md, `rclip embed` throughput). */
export const DECODE_WORKERS = Math.max(1, availableParallelism());

// In a checkout the worker runs from its TypeScript source through tsx (as bin/rclip.mjs does: worker
// threads do not inherit the main thread's loader hooks); in the package, the built file beside this one.
const fromSource = import.meta.url.endsWith('.ts');
const BOOTSTRAP = `
const { workerData } = require('node:worker_threads');
(async () => {
  if (workerData.tsx) (await import(workerData.tsx)).register();
  await import(workerData.entry);
})();`;

interface Pending {
  resolve: (pixels: PixelTensor) => void;
  reject: (err: Error) => void;
  size: number;
  worker: Worker;
}

function rebuild(error: NonNullable<DecodeReply['error']>): Error {
  if (error.code && isErrorCode(error.code)) return new RclipError(error.code, error.message);
  return error.name === 'RangeError' ? new RangeError(error.message) : new Error(error.message);
}

class DecodePool {
  private readonly workers: Worker[] = [];
  private readonly load = new Map<Worker, number>();
  private readonly pending = new Map<number, Pending>();
  private nextId = 0;

  constructor(size: number) {
    const entry = new URL(fromSource ? './node-decode-worker.ts' : './node-decode-worker.js', import.meta.url).href;
    const tsx = fromSource ? createRequire(import.meta.url).resolve('tsx/esm/api').replace(/\.cjs$/, '.mjs') : null;
    for (let i = 0; i < size; i++) {
      const worker = new Worker(BOOTSTRAP, { eval: true, workerData: { entry, tsx: tsx && new URL(`file://${tsx}`).href } });
      worker.on('message', (reply: DecodeReply) => this.settle(worker, reply));
      worker.on('error', (err) => this.fail(worker, err));
      worker.on('exit', (code) => this.fail(worker, new Error(`exit code ${code}`)));
      // Idle workers never hold the process open; busy ones do (busy() below). After the listeners:
      // adding a 'message' listener refs the worker's port again.
      worker.unref();
      this.workers.push(worker);
      this.load.set(worker, 0);
    }
  }

  /** Model-input pixels of `file`, decoded and preprocessed on the least busy worker. */
  pixels(file: string, spec: Pick<InputSpec, 'size' | 'background'>): Promise<PixelTensor> {
    if (this.workers.length === 0) return Promise.reject(new RclipError('WORKER_CRASHED', 'Every decode worker thread has stopped.'));
    const worker = this.workers.reduce((a, b) => (this.load.get(b)! < this.load.get(a)! ? b : a));
    const id = this.nextId++;
    this.busy(worker, +1);
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject, size: spec.size, worker });
      worker.postMessage({ id, file, spec: { size: spec.size, background: spec.background } } satisfies DecodeJob);
    });
  }

  async close(): Promise<void> {
    const workers = this.workers.splice(0);
    // A worker being terminated does not hold Node 20's event loop open, even ref'd: the loop could
    // empty with this await unsettled and the process exit 13 (`rclip embed --strict` did, about one
    // run in two under vitest). A timer holds the loop until every worker has exited.
    const hold = setInterval(() => {}, 1000);
    try {
      await Promise.all(workers.map((w) => w.terminate()));
    } finally {
      clearInterval(hold);
    }
  }

  private busy(worker: Worker, change: 1 | -1) {
    const load = this.load.get(worker)! + change;
    this.load.set(worker, load);
    if (load === 1 && change === 1) worker.ref();
    if (load === 0) worker.unref();
  }

  private settle(worker: Worker, reply: DecodeReply) {
    const job = this.pending.get(reply.id);
    if (!job) return;
    this.pending.delete(reply.id);
    this.busy(worker, -1);
    if (reply.error) job.reject(rebuild(reply.error));
    else job.resolve({ size: job.size, data: reply.data });
  }

  /** A worker that died takes its jobs with it: they fail (the run ends; nothing is silently lost), the others go on. */
  private fail(worker: Worker, err: Error) {
    const index = this.workers.indexOf(worker);
    if (index < 0) return;
    this.workers.splice(index, 1);
    this.load.delete(worker);
    for (const [id, job] of this.pending) {
      if (job.worker !== worker) continue;
      this.pending.delete(id);
      job.reject(new RclipError('WORKER_CRASHED', `A decode worker thread stopped (${err.message}).`, { cause: err }));
    }
  }
}

let shared: DecodePool | null = null;

/** The process's decode pool, started on first use. */
export function decodePool(): DecodePool {
  shared ??= new DecodePool(DECODE_WORKERS);
  return shared;
}

/**
 * Stops the pool's workers (a later decodePool() starts new ones). Call it before the process exits:
 * letting Node tear down threads that hold libvips at exit crashed once (SIGSEGV) in 4 runs of
 * `rclip embed` on 800 files; stopping them first has not.
 */
export async function closeDecodePool(): Promise<void> {
  const pool = shared;
  shared = null;
  await pool?.close();
}
