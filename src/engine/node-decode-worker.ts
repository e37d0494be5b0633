/**
 * A decode worker thread (node-decode-pool.ts): file → sharp decode → model-input pixels, the same
 * decodeImageFile (RGB for an opaque image: the same bytes, less work) and toModelPixels as the
 * engine, so the numbers cannot differ. The pixels move back without a copy; an error goes back as
 * { name, code, message } and is rebuilt on the other side.
 */
import { parentPort } from 'node:worker_threads';
import { RclipError } from '../core/errors';
import type { InputSpec } from '../core/manifest';
import { toModelPixels } from '../core/preprocess';
import { decodeImageFile } from './node-decode';

export interface DecodeJob {
  id: number;
  file: string;
  spec: Pick<InputSpec, 'size' | 'background'>;
}

export type DecodeReply = { id: number; data: Float32Array; error?: undefined } | { id: number; data?: undefined; error: { name: string; code?: string; message: string } };

parentPort!.on('message', async ({ id, file, spec }: DecodeJob) => {
  try {
    const { data } = toModelPixels(await decodeImageFile(file, { rgb: true }), spec);
    parentPort!.postMessage({ id, data } satisfies DecodeReply, [data.buffer as ArrayBuffer]);
  } catch (err) {
    const e = err as Error;
    const error = { name: e?.name ?? 'Error', code: err instanceof RclipError ? err.code : undefined, message: e?.message ?? String(err) };
    parentPort!.postMessage({ id, error } satisfies DecodeReply);
  }
});
