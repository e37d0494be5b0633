/**
 * `rclip match <images…> --against <folder>`: each image's nearest listed image and whether it is a
 * match (distance ≤ threshold). The folder's embeddings are cached (src/cli/index-cache.ts) and rebuilt
 * when the folder's file names, sizes or mtimes, or the model's weights (sha256), change.
 */
import { RclipError } from '../core/errors';
import { nearestRow } from '../core/nearest';
import { numberOption } from '../core/options';
import { expandImageArgs, isFolder } from '../engine/node-images';
import { EMBED_THREADS, openModel } from '../engine/node-model';
import type { Output, Values } from './commands';
import { loadFolderIndex } from './index-cache';
import { embedWithProgress } from './progress';
import { answerStdinPaths } from './stdin-lines';

export interface MatchResult {
  file: string;
  nearest: string | null;
  distance: number | null;
  match: boolean;
}

export async function matchCommand(values: Values, positionals: string[]): Promise<Output> {
  const against = values.against;
  if (typeof against !== 'string' || against === '') throw new RclipError('INVALID_ARGUMENT', '--against <folder> is required: the folder of listed images.');
  if (!isFolder(against)) throw new RclipError('INVALID_ARGUMENT', `--against "${against}" is not a folder.`);
  if (positionals.length === 0) throw new RclipError('INVALID_ARGUMENT', 'expected one or more images (or folders) to match.');
  const given = values.threshold === undefined ? undefined : numberOption('threshold', values.threshold, 0);
  if (given !== undefined && given > 2) throw new RclipError('INVALID_ARGUMENT', `--threshold must be at most 2, the largest cosine distance (got ${given}).`);
  const stdin = positionals.length === 1 && positionals[0] === '-';
  const queries = stdin ? [] : expandImageArgs(positionals);
  const model = await openModel(values.model as string | undefined, { threads: EMBED_THREADS });
  const threshold = given ?? model.info.manifest.calibration?.dedupeThreshold;
  if (threshold === undefined) throw new RclipError('INVALID_ARGUMENT', `model "${model.info.id}" has no calibration in its manifest, so it has no default threshold; pass --threshold T.`);
  const strict = Boolean(values.strict);
  const index = await loadFolderIndex(model, against, { cacheDir: typeof values.cache === 'string' ? values.cache : undefined, rebuild: Boolean(values.rebuild), strict });
  const matchOne = (file: string, embedding: Float32Array): MatchResult => {
    const n = nearestRow(embedding, index.matrix);
    return n.index < 0 ? { file, nearest: null, distance: null, match: false } : { file, nearest: index.files[n.index], distance: n.distance, match: n.distance <= threshold };
  };
  if (stdin) {
    // `rclip match --against DIR -`: the index is loaded once, then one JSON line per path on stdin.
    const skipped = [...index.skipped, ...(await answerStdinPaths(model, 'match', strict, matchOne))];
    return { json: { model: model.info.id, threshold, against, listed: index.files.length, skipped }, text: '', skipped: skipped.length, streamed: true };
  }
  const { files: embedded, embeddings, skipped } = await embedWithProgress(model, queries, 'embedding queries', strict);
  skipped.unshift(...index.skipped);
  const t0 = performance.now();
  const results: MatchResult[] = embedded.map((file, i) => matchOne(file, embeddings[i]));
  const searchMs = performance.now() - t0;
  const matched = results.filter((r) => r.match).length;
  const text = [
    `${matched} of ${queries.length} image(s) match a listed image at distance ≤ ${threshold} (${model.info.id}; ${index.files.length} listed in ${against}, index ${index.cached ? 'from cache' : 'built'}: ${index.path}).`,
    ...results.map((r) => `${r.match ? 'MATCH   ' : 'no match'}  ${r.file}  nearest ${r.nearest ?? '-'}  d=${r.distance === null ? '-' : r.distance.toFixed(4)}`),
  ].join('\n');
  return {
    json: { model: model.info.id, threshold, against, listed: index.files.length, index: { path: index.path, cached: index.cached }, search_ms: searchMs, results, skipped },
    text,
    skipped: skipped.length,
  };
}
