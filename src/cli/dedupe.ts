import { groupsFromEdges, type DuplicateGroup, type Edge } from '../core/duplicate-groups';
import { RclipError } from '../core/errors';
import { EXACT_SEARCH_BELOW, pairsWithin, toMatrix, type EmbeddingMatrix } from '../core/nearest';
import { numberOption, positionalCount } from '../core/options';
import { gatherRows } from '../engine/embedding-store';
import { expandImageArgs } from '../engine/node-images';
import { EMBED_THREADS, openModel } from '../engine/node-model';
import { ensureIndex, indexedPairsWithin } from '../engine/vector-index';
import type { Output, Values } from './commands';
import { folderArgument } from './folder-argument';
import { openFolderStore, syncFolder } from './index-cache';
import { createProgress, type Progress } from './progress';

export type { DuplicateGroup };

/** Exact all-pairs edges (src/core/nearest.ts): ~N²/2 dot products, the reference for the index. */
export function exactEdges(matrix: EmbeddingMatrix, threshold: number): Edge[] {
  const edges: Edge[] = [];
  pairsWithin(matrix, threshold, (i, j, d) => edges.push([i, j, d]));
  return edges;
}

/** Groups by exact search over embeddings given as rows (normalised here). */
export function duplicateGroups(files: readonly string[], embeddings: readonly Float32Array[], threshold: number): DuplicateGroup[] {
  return groupsFromEdges(files, exactEdges(toMatrix(embeddings, embeddings[0]?.length ?? 0, true), threshold));
}

/** The model's calibrated threshold unless --threshold gives one. */
export function thresholdFor(values: Values, calibrated: number | undefined, modelId: string): number {
  const given = values.threshold === undefined ? undefined : numberOption('threshold', values.threshold, 0);
  if (given !== undefined && given > 2) throw new RclipError('INVALID_ARGUMENT', `--threshold must be at most 2, the largest cosine distance (got ${given}).`);
  // The default is the model's own (manifest calibration.dedupeThreshold): distances differ in scale between models.
  const threshold = given ?? calibrated;
  if (threshold === undefined) throw new RclipError('INVALID_ARGUMENT', `model "${modelId}" has no calibration in its manifest, so it has no default threshold; pass --threshold T.`);
  return threshold;
}

/** --exact or --index, else exact below EXACT_SEARCH_BELOW rows (where it is the faster). */
export function exactSearch(values: Values, rows: number): boolean {
  if (values.exact && values.index) throw new RclipError('INVALID_ARGUMENT', '--exact and --index exclude each other.');
  return values.index ? false : Boolean(values.exact) || rows < EXACT_SEARCH_BELOW;
}

export async function dedupeCommand(values: Values, positionals: string[]): Promise<Output> {
  positionalCount(positionals, 1, 1, 'one folder');
  const dir = folderArgument(positionals[0], 'dedupe takes a folder');
  const inputs = expandImageArgs([dir]);
  const model = await openModel(values.model as string | undefined, { threads: EMBED_THREADS });
  const threshold = thresholdFor(values, model.info.manifest.calibration?.dedupeThreshold, model.info.id);
  const store = openFolderStore(model, dir, values);
  const synced = await syncFolder(store, model, dir, inputs, Boolean(values.strict));
  const { files, skipped } = synced;
  const exact = exactSearch(values, files.length);
  const t0 = performance.now();
  let edges: Edge[];
  let search: string;
  if (exact) {
    edges = exactEdges(gatherRows(synced.contents, synced.rows), threshold);
    search = 'exact';
  } else {
    // Sized on the first report: only the rows not yet in the saved index are added.
    let progress = null as Progress | null;
    const index = ensureIndex(store, synced.contents, (done, total) => (progress ??= createProgress('indexing', total)).tick(done));
    progress?.end();
    edges = [];
    const { secondLooks, joined } = indexedPairsWithin(index, synced.contents, synced.rows, threshold, (i, j, d) => edges.push([i, j, d]));
    search = `index (usearch HNSW, ${index.added} rows added now; ${secondLooks} rows searched again; ${joined} pairs found by the shared-neighbour join; candidates verified exactly)`;
  }
  const groups = groupsFromEdges(files, edges);
  const searchMs = performance.now() - t0;
  const text =
    groups.length === 0
      ? `No near-duplicates among ${files.length} images at distance ≤ ${threshold} (${model.info.id}).`
      : [`${groups.length} group(s) of near-duplicates among ${files.length} images at distance ≤ ${threshold} (${model.info.id}):`, ...groups.map((g, i) => `group ${i + 1} (max link ${g.max_distance.toFixed(4)}):\n  ${g.files.join('\n  ')}`)].join('\n');
  return {
    json: { model: model.info.id, threshold, images: files.length, store: { path: store.dir, embedded_now: synced.embedded }, search, search_ms: searchMs, groups, skipped },
    text: `${text}\n(store ${store.dir}: ${synced.embedded} embedded now, ${inputs.length - synced.embedded} already there; search: ${search})`,
    skipped: skipped.length,
  };
}
