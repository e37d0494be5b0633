/**
 * The embedding store on the command line (docs/scale.md): `rclip embed DIR --store PATH [--shard I/N]`
 * fills a store (one shard of the folder per machine), `rclip store merge` joins shard stores into
 * one, `rclip store info` checks one and says what it holds.
 */
import { existsSync } from 'node:fs';
import { RclipError } from '../core/errors';
import { positionalCount, requiredString } from '../core/options';
import { EmbeddingStore, openExistingStore } from '../engine/embedding-store';
import { expandImageArgs } from '../engine/node-images';
import { openModel } from '../engine/node-model';
import type { Output, Values } from './commands';
import { folderArgument } from './folder-argument';
import { openFolderStore, syncFolder } from './index-cache';

/** `--shard I/N`: the files at sorted index i with i % N == I, so N machines split a folder without talking. */
export function parseShard(spec: string | boolean | undefined): { part: number; parts: number } | null {
  if (spec === undefined) return null;
  const m = typeof spec === 'string' ? /^(\d+)\/(\d+)$/.exec(spec) : null;
  const part = Number(m?.[1]);
  const parts = Number(m?.[2]);
  if (!m || parts < 1 || part >= parts) throw new RclipError('INVALID_ARGUMENT', `--shard takes I/N with 0 ≤ I < N, e.g. 0/2 (got "${String(spec)}").`);
  return { part, parts };
}

export async function embedIntoStore(values: Values, positionals: string[]): Promise<Output> {
  positionalCount(positionals, 1, 1, 'one folder (the store keys files by their path inside it)');
  const dir = folderArgument(positionals[0], '--store embeds a folder');
  const shard = parseShard(values.shard);
  const files = expandImageArgs([dir]).filter((_, i) => !shard || i % shard.parts === shard.part);
  const model = await openModel(values.model as string | undefined);
  const store = openFolderStore(model, dir, values);
  const { embedded, skipped } = await syncFolder(store, model, dir, files, Boolean(values.strict));
  const part = shard ? ` (shard ${shard.part}/${shard.parts})` : '';
  const skippedText = skipped.length ? `; ${skipped.length} unreadable file(s) skipped, tried again once they change` : '';
  return {
    json: { model: model.info.id, images: files.length - skipped.length, embedded_now: embedded, store: store.dir, rows: store.rows, shard, skipped },
    text: `${files.length - skipped.length} readable images of ${dir}${part} in the store ${store.dir}: ${embedded} embedded now, ${files.length - embedded} already there (${store.rows} rows)${skippedText}.`,
    skipped: skipped.length,
  };
}

function info(store: EmbeddingStore) {
  const contents = store.read();
  const errors = contents.errors.filter((e) => e !== null).length;
  return { path: store.dir, model: store.model, segments: store.segmentCount, rows: contents.vectors.rows, files: contents.latest.size, errors, index_rows: store.indexRecord?.rows ?? 0 };
}

export async function storeCommand(values: Values, positionals: string[]): Promise<Output> {
  const [sub, ...rest] = positionals;
  if (sub === 'merge') {
    const out = requiredString('out', values.out);
    if (rest.length < 1) throw new RclipError('INVALID_ARGUMENT', 'store merge takes one or more shard stores.');
    if (existsSync(out) && !(EmbeddingStore.isEmptyFolder(out))) throw new RclipError('INVALID_ARGUMENT', `--out "${out}" exists and is not empty; merge into a new folder.`);
    const shards = rest.map(openExistingStore);
    const merged = EmbeddingStore.open(out, shards[0].model);
    merged.mergeFrom(shards);
    const i = info(merged);
    return { json: { merged: rest, ...i }, text: `merged ${rest.length} store(s) into ${out}: ${i.rows} rows, ${i.files} files, ${i.segments} segments (the index is built on first search).` };
  }
  if (sub === 'info') {
    positionalCount(rest, 1, 1, 'one store');
    const i = info(openExistingStore(rest[0]));
    return { json: i, text: `${i.path}: rclip store of ${i.model.id} (${i.model.dim}-d, encoder sha256 ${i.model.encoderSha256}); checksums ok; ${i.rows} rows in ${i.segments} segments, ${i.files} files, ${i.errors} with errors; index covers ${i.index_rows} rows.` };
  }
  throw new RclipError('INVALID_ARGUMENT', `store takes "merge" or "info" (got "${sub ?? ''}").`);
}
