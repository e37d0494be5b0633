/**
 * `rclip match <images…> --against <folder>`: each image's nearest listed image and whether it is a
 * match (distance ≤ threshold). The folder's embeddings live in its store (src/cli/index-cache.ts),
 * where only new or changed files are embedded; large lists are searched through the store's index.
 */
import { RclipError } from '../core/errors';
import { nearestRow, toMatrix } from '../core/nearest';
import { gatherRows } from '../engine/embedding-store';
import { expandImageArgs } from '../engine/node-images';
import { EMBED_THREADS, openModel } from '../engine/node-model';
import { ensureIndex, indexedNearest } from '../engine/vector-index';
import type { Output, Values } from './commands';
import { exactSearch, thresholdFor } from './dedupe';
import { folderArgument } from './folder-argument';
import { openFolderStore, syncFolder } from './index-cache';
import { embedWithProgress } from './progress';
import { answerStdinPaths } from './stdin-lines';

export interface MatchResult {
  file: string;
  nearest: string | null;
  distance: number | null;
  match: boolean;
}

export async function matchCommand(values: Values, positionals: string[]): Promise<Output> {
  if (typeof values.against !== 'string' || values.against === '') throw new RclipError('INVALID_ARGUMENT', '--against <folder> is required: the folder of listed images.');
  const against = folderArgument(values.against, '--against takes the folder of listed images');
  if (positionals.length === 0) throw new RclipError('INVALID_ARGUMENT', 'expected one or more images (or folders) to match.');
  const stdin = positionals.length === 1 && positionals[0] === '-';
  const queries = stdin ? [] : expandImageArgs(positionals);
  const model = await openModel(values.model as string | undefined, { threads: EMBED_THREADS });
  const threshold = thresholdFor(values, model.info.manifest.calibration?.dedupeThreshold, model.info.id);
  const strict = Boolean(values.strict);
  const store = openFolderStore(model, against, values);
  const listed = await syncFolder(store, model, against, expandImageArgs([against]), strict);
  const exact = exactSearch(values, listed.files.length);
  const matrix = exact ? gatherRows(listed.contents, listed.rows) : null;
  const index = exact ? null : ensureIndex(store, listed.contents).index;
  const nearestOf = (embeddings: Float32Array[]) =>
    matrix ? embeddings.map((e) => nearestRow(e, matrix)) : indexedNearest(index!, listed.contents, listed.rows, toMatrix(embeddings, model.info.manifest.embeddingSize));
  const matchOne = (file: string, n: { index: number; distance: number }): MatchResult =>
    n.index < 0 ? { file, nearest: null, distance: null, match: false } : { file, nearest: listed.files[n.index], distance: n.distance, match: n.distance <= threshold };
  if (stdin) {
    // `rclip match --against DIR -`: the store and its index are opened once, then one JSON line per path on stdin.
    const skipped = [...listed.skipped, ...(await answerStdinPaths(model, 'match', strict, (file, embedding) => matchOne(file, nearestOf([embedding])[0])))];
    return { json: { model: model.info.id, threshold, against, listed: listed.files.length, skipped }, text: '', skipped: skipped.length, streamed: true };
  }
  const { files: embedded, embeddings, skipped: unreadableQueries } = await embedWithProgress(model, queries, 'embedding queries', strict);
  const skipped = [...listed.skipped, ...unreadableQueries];
  const t0 = performance.now();
  const nearest = nearestOf(embeddings);
  const searchMs = performance.now() - t0;
  const results: MatchResult[] = embedded.map((file, i) => matchOne(file, nearest[i]));
  const matched = results.filter((r) => r.match).length;
  // Counts over the readable queries only: an unreadable one neither matches nor fails to.
  const unreadable = [unreadableQueries.length && `${unreadableQueries.length} unreadable quer${unreadableQueries.length === 1 ? 'y' : 'ies'} skipped`, listed.skipped.length && `${listed.skipped.length} unreadable listed file(s) left out`].filter(Boolean);
  const text = [
    `${matched} of ${embedded.length} readable image(s) match a listed image at distance ≤ ${threshold}${unreadable.length ? ` (${unreadable.join('; ')})` : ''}.`,
    `(${model.info.id}; ${listed.files.length} listed in ${against}; store ${store.dir}, ${listed.embedded} embedded now; ${exact ? 'exact' : 'index'} search)`,
    ...results.map((r) => `${r.match ? 'MATCH   ' : 'no match'}  ${r.file}  nearest ${r.nearest ?? '-'}  d=${r.distance === null ? '-' : r.distance.toFixed(4)}`),
  ].join('\n');
  return {
    json: { model: model.info.id, threshold, against, listed: listed.files.length, store: { path: store.dir, embedded_now: listed.embedded }, search: exact ? 'exact' : 'index', search_ms: searchMs, results, skipped },
    text,
    skipped: skipped.length,
  };
}
