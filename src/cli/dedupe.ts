import { existsSync } from 'node:fs';
import { pairsWithin, toMatrix } from '../core/nearest';
import { RclipError } from '../core/errors';
import type { Output, Values } from './commands';
import { expandImageArgs, isFolder } from '../engine/node-images';
import { EMBED_THREADS, openModel } from '../engine/node-model';
import { embedWithProgress } from './progress';
import { numberOption, positionalCount } from '../core/options';

export interface DuplicateGroup {
  files: string[];
  /** The largest distance between two linked members (a chain can span more than T end to end). */
  max_distance: number;
}

/** Connected components of "distance ≤ threshold", by union–find; groups of one are dropped. */
export function duplicateGroups(files: readonly string[], embeddings: readonly Float32Array[], threshold: number): DuplicateGroup[] {
  const parent = files.map((_, i) => i);
  const find = (i: number): number => (parent[i] === i ? i : (parent[i] = find(parent[i])));
  const linkMax = new Map<number, number>();
  const links: Array<[number, number, number]> = [];
  // Exact all-pairs search (src/core/nearest.ts): ~N²/2 dot products, see docs/applications.md for the scale.
  pairsWithin(toMatrix(embeddings, embeddings[0]?.length ?? 0, true), threshold, (i, j, d) => {
    links.push([i, j, d]);
    parent[find(i)] = find(j);
  });
  for (const [i, , d] of links) linkMax.set(find(i), Math.max(linkMax.get(find(i)) ?? 0, d));
  const members = new Map<number, string[]>();
  files.forEach((f, i) => members.set(find(i), [...(members.get(find(i)) ?? []), f]));
  return [...members.entries()].filter(([, fs]) => fs.length > 1).map(([root, fs]) => ({ files: fs, max_distance: linkMax.get(root)! }));
}

export async function dedupeCommand(values: Values, positionals: string[]): Promise<Output> {
  positionalCount(positionals, 1, 1, 'one folder');
  const [dir] = positionals;
  if (!isFolder(dir)) throw new RclipError('IMAGE_FETCH_FAILED', existsSync(dir) ? `"${dir}" is a file; dedupe takes a folder.` : `Folder "${dir}" does not exist.`);
  const given = values.threshold === undefined ? undefined : numberOption('threshold', values.threshold, 0);
  if (given !== undefined && given > 2) throw new RclipError('INVALID_ARGUMENT', `--threshold must be at most 2, the largest cosine distance (got ${given}).`);
  const inputs = expandImageArgs([dir]);
  const model = await openModel(values.model as string | undefined, { threads: EMBED_THREADS });
  // The default is the model's own (manifest calibration.dedupeThreshold): distances differ in scale between models.
  const threshold = given ?? model.info.manifest.calibration?.dedupeThreshold;
  if (threshold === undefined) {
    throw new RclipError('INVALID_ARGUMENT', `model "${model.info.id}" has no calibration in its manifest, so it has no default threshold; pass --threshold T.`);
  }
  const { files, embeddings, skipped } = await embedWithProgress(model, inputs, 'embedding', Boolean(values.strict));
  const groups = duplicateGroups(files, embeddings, threshold);
  const text =
    groups.length === 0
      ? `No near-duplicates among ${files.length} images at distance ≤ ${threshold} (${model.info.id}).`
      : [`${groups.length} group(s) of near-duplicates among ${files.length} images at distance ≤ ${threshold} (${model.info.id}):`, ...groups.map((g, i) => `group ${i + 1} (max link ${g.max_distance.toFixed(4)}):\n  ${g.files.join('\n  ')}`)].join('\n');
  return { json: { model: model.info.id, threshold, images: files.length, groups, skipped }, text, skipped: skipped.length };
}
