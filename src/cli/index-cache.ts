/**
 * Where a folder's embedding store lives (src/engine/embedding-store.ts) and bringing it up to date.
 * `--store PATH` puts it where the user wants (beside the data, or a shard to merge); otherwise one
 * store per (folder, model weights) under $RCLIP_CACHE_DIR, else $XDG_CACHE_HOME/rclip, else
 * ~/.cache/rclip. The default place is keyed by the encoder's sha256, so new weights start a new store.
 */
import { createHash } from 'node:crypto';
import { homedir } from 'node:os';
import path from 'node:path';
import type { Values } from '../core/options';
import { EmbeddingStore, storeModel, syncFiles, type SyncedFolder } from '../engine/embedding-store';
import type { OpenModel } from '../engine/node-model';
import { createProgress, skippedLine } from './progress';

export function defaultCacheDir(): string {
  return process.env.RCLIP_CACHE_DIR || path.join(process.env.XDG_CACHE_HOME || path.join(homedir(), '.cache'), 'rclip');
}

export function defaultStoreDir(model: OpenModel, folder: string, cacheDir = defaultCacheDir()): string {
  const key = createHash('sha256').update(`${path.resolve(folder)}\0${model.info.manifest.files.encoder.sha256}`).digest('hex').slice(0, 24);
  return path.join(cacheDir, `store-${model.info.id}-${key}`);
}

/** The store options every folder command takes: --store PATH, --cache DIR (the default's parent), --rebuild. */
export function openFolderStore(model: OpenModel, folder: string, values: Values): EmbeddingStore {
  const dir = typeof values.store === 'string' ? values.store : defaultStoreDir(model, folder, typeof values.cache === 'string' ? values.cache : undefined);
  return EmbeddingStore.open(dir, storeModel(model), { rebuild: Boolean(values.rebuild) });
}

/**
 * `files` (under `folder`) in the store, embedding only the new or changed ones, with a progress line and
 * each unreadable file reported on stderr, one line each, also when its error row is reused (or, with
 * `strict`, thrown).
 */
export async function syncFolder(store: EmbeddingStore, model: OpenModel, folder: string, files: readonly string[], strict = false): Promise<SyncedFolder> {
  let progress: ReturnType<typeof createProgress> | undefined;
  const open = (total: number) => (progress ??= createProgress(`embedding new or changed files of ${folder}`, total));
  const synced = await syncFiles(store, model, folder, files, {
    strict,
    onProgress: (done, total) => open(total).tick(done),
    onSkip: (s, unchanged) =>
      unchanged ? process.stderr.write(`${folder}: ${skippedLine(s)} (unchanged since it failed, so not tried again)\n`) : open(files.length).skip(s),
  });
  progress?.end();
  return synced;
}
