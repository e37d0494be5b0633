import { writeFile } from 'node:fs/promises';
import { RclipError } from '../core/errors';
import type { Output, Values } from './commands';
import { expandImageArgs } from '../engine/node-images';
import { EMBED_THREADS, openModel } from '../engine/node-model';
import { embedWithProgress } from './progress';
import { answerStdinPaths } from './stdin-lines';
import { requiredString } from '../core/options';

/** NumPy's .npy v1.0: magic, header dict padded with spaces to a 64-byte boundary, then little-endian float32 rows. */
export function npyBytes(rows: readonly Float32Array[], width: number): Uint8Array {
  const header = `{'descr': '<f4', 'fortran_order': False, 'shape': (${rows.length}, ${width}), }`;
  const unpadded = 10 + header.length + 1;
  const padded = header + ' '.repeat((64 - (unpadded % 64)) % 64) + '\n';
  const out = new Uint8Array(10 + padded.length + rows.length * width * 4);
  out.set([0x93, ...Buffer.from('NUMPY'), 1, 0]);
  new DataView(out.buffer).setUint16(8, padded.length, true);
  out.set(Buffer.from(padded, 'latin1'), 10);
  const body = new DataView(out.buffer, 10 + padded.length);
  rows.forEach((row, r) => row.forEach((v, c) => body.setFloat32((r * width + c) * 4, v, true)));
  return out;
}

export const sidecarPath = (npy: string) => npy.replace(/\.npy$/i, '.files.json');

export async function embedCommand(values: Values, positionals: string[]): Promise<Output> {
  if (positionals.length === 1 && positionals[0] === '-') return embedStdin(values);
  if (values.store !== undefined) return (await import('./store')).embedIntoStore(values, positionals);
  if (values.shard !== undefined) throw new RclipError('INVALID_ARGUMENT', '--shard needs --store: a shard is written to its own store.');
  const out = requiredString('out', values.out);
  const format = /\.jsonl$/i.test(out) ? 'jsonl' : /\.npy$/i.test(out) ? 'npy' : null;
  if (!format) throw new RclipError('INVALID_ARGUMENT', `--out must end in .jsonl or .npy (got "${out}").`);
  if (positionals.length === 0) throw new RclipError('INVALID_ARGUMENT', 'expected a folder or image files to embed.');
  const inputs = expandImageArgs(positionals);
  const model = await openModel(values.model as string | undefined, { threads: EMBED_THREADS });
  const { files, embeddings, skipped } = await embedWithProgress(model, inputs, 'embedding', Boolean(values.strict));
  const width = model.info.manifest.embeddingSize;
  if (format === 'jsonl') {
    await writeFile(out, files.map((file, i) => JSON.stringify({ file, embedding: Array.from(embeddings[i]) }) + '\n').join(''));
  } else {
    await writeFile(out, npyBytes(embeddings, width));
    await writeFile(sidecarPath(out), JSON.stringify(files, null, 1) + '\n');
  }
  const written = format === 'npy' ? `${out} and ${sidecarPath(out)}` : out;
  const skippedText = skipped.length ? `; ${skipped.length} unreadable file(s) skipped` : '';
  return {
    json: { model: model.info.id, images: files.length, dimensions: width, out: written, skipped },
    text: `${files.length} embeddings (${width}-d, ${model.info.id}) written to ${written}${skippedText}`,
    skipped: skipped.length,
  };
}

/** `rclip embed -`: paths from stdin, one JSON line per path on stdout, in input order, as each is done. */
async function embedStdin(values: Values): Promise<Output> {
  if (values.out !== undefined) throw new RclipError('INVALID_ARGUMENT', '"rclip embed -" writes JSON lines to stdout; drop --out.');
  const model = await openModel(values.model as string | undefined, { threads: EMBED_THREADS });
  let embedded = 0;
  const skipped = await answerStdinPaths(model, 'embed', Boolean(values.strict), (file, embedding) => {
    embedded++;
    return { file, embedding: Array.from(embedding) };
  });
  return { json: { model: model.info.id, images: embedded, skipped }, text: '', skipped: skipped.length, streamed: true };
}
