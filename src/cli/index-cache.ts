/**
 * A folder's embeddings, cached on disk for `rclip match`. The cache key is a sha256 over the model's
 * id and weights (manifest sha256 of encoder.onnx), its input spec, and the folder's image files as
 * (name, size, mtime): adding, removing, replacing or touching a file, or changing the model, rebuilds
 * the index. One cache file per (folder, model); stale ones are overwritten.
 * Default place: $RCLIP_CACHE_DIR, else $XDG_CACHE_HOME/rclip, else ~/.cache/rclip.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import path from 'node:path';
import { toMatrix, type EmbeddingMatrix } from '../core/nearest';
import { expandImageArgs } from '../engine/node-images';
import type { OpenModel, SkippedFile } from '../engine/node-model';
import { embedWithProgress } from './progress';

export interface FolderIndex {
  /** The listed images embedded, in row order; unreadable ones are in `skipped`. */
  files: string[];
  skipped: SkippedFile[];
  matrix: EmbeddingMatrix;
  /** True when read from the cache, false when (re)built now. */
  cached: boolean;
  path: string;
}

export function defaultCacheDir(): string {
  return process.env.RCLIP_CACHE_DIR || path.join(process.env.XDG_CACHE_HOME || path.join(homedir(), '.cache'), 'rclip');
}

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

export function folderIndexKey(model: OpenModel, files: readonly string[]): string {
  const m = model.info.manifest;
  const entries = files.map((f) => {
    const s = statSync(f);
    return [path.basename(f), s.size, s.mtimeMs];
  });
  return sha256(JSON.stringify({ v: 1, model: m.id, encoder: m.files.encoder.sha256, input: m.input, entries }));
}

interface CacheFile {
  key: string;
  model: string;
  folder: string;
  files: string[];
  /** Unreadable files of the folder, remembered so that a cached index still reports them. */
  skipped: SkippedFile[];
  dim: number;
  /** Row-major float32, little-endian, base64. */
  embeddings: string;
}

export async function loadFolderIndex(model: OpenModel, folder: string, options: { cacheDir?: string; rebuild?: boolean; strict?: boolean } = {}): Promise<FolderIndex> {
  const inputs = expandImageArgs([folder]);
  const key = folderIndexKey(model, inputs);
  const dir = options.cacheDir ?? defaultCacheDir();
  const file = path.join(dir, `index-${sha256(`${path.resolve(folder)}\0${model.info.id}`).slice(0, 24)}.json`);
  if (!options.rebuild) {
    try {
      const c = JSON.parse(readFileSync(file, 'utf8')) as CacheFile;
      // A strict run must meet the unreadable files itself, so it does not take an index that skipped some.
      if (c.key === key && Array.isArray(c.skipped) && !(options.strict && c.skipped.length)) {
        const files = c.files.map((name) => path.join(folder, name));
        const bytes = Buffer.from(c.embeddings, 'base64');
        const data = new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
        if (data.length === files.length * c.dim) return { files, skipped: c.skipped, matrix: { rows: files.length, dim: c.dim, data }, cached: true, path: file };
      }
    } catch {
      // No cache yet, or an unreadable one: rebuild.
    }
  }
  const { files, embeddings, skipped } = await embedWithProgress(model, inputs, `indexing ${folder}`, Boolean(options.strict));
  const matrix = toMatrix(embeddings, model.info.manifest.embeddingSize);
  const body: CacheFile = { key, model: model.info.id, folder: path.resolve(folder), files: files.map((f) => path.basename(f)), skipped, dim: matrix.dim, embeddings: Buffer.from(matrix.data.buffer, matrix.data.byteOffset, matrix.data.byteLength).toString('base64') };
  try {
    mkdirSync(dir, { recursive: true });
    writeFileSync(`${file}.tmp`, JSON.stringify(body));
    renameSync(`${file}.tmp`, file);
  } catch (err) {
    process.stderr.write(`rclip: could not write the index cache ${file} (${(err as Error).message}); continuing without it.\n`);
  }
  return { files, skipped, matrix, cached: false, path: file };
}
