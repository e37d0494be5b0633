/**
 * The store's approximate index: usearch's HNSW over the rows' embeddings, int8-quantised (chosen by
 * bench/ann-candidates.ts; docs/scale.md). The index only proposes candidates: every pair or match it
 * returns is re-measured exactly on the stored float32 embeddings, so quantisation can cost recall
 * but never a wrong distance.
 */
import { existsSync, renameSync, rmSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import path from 'node:path';
import usearch from 'usearch';
import { sharedAnchorCandidates, type EmbeddingMatrix } from '../core/nearest';
import { seededRandom, shuffleInPlace } from '../core/random';
import type { EmbeddingStore, StoreContents } from './embedding-store';

const { Index, MetricKind, ScalarKind } = usearch;

export const INDEX_FILE = 'index.usearch';
/**
 * HNSW settings: M = 16 links per node, candidate lists of 128 when building and 64 when searching.
 * Rows added to an index that already exists get a candidate list of 1,024: a row that arrives in a
 * graph already full finds its near-duplicates only with a long list. At a million rows, 2,400 real
 * photos and copies appended to an index of the rest: 0.86 of their pairs found at 128, 0.99 at
 * 1,024, for 3.4 ms a row (docs/scale.md). A whole build at 1,024 would take ~8× as long.
 */
export const INDEX_CONFIG = { quantization: 'i8', connectivity: 16, expansion_add: 128, expansion_append: 1024, expansion_search: 64 } as const;
/**
 * The candidate list of the second look at rows whose own search missed them (see indexedPairsWithin):
 * 8× the default, affordable because such rows are few (1.7 % of a million real-shaped rows).
 */
const SECOND_LOOK_EXPANSION = 512;
/** Neighbours asked for first; a query whose k-th is still within the threshold asks again for 4×. */
const FIRST_K = 16;
const MAX_K = 4096;
const QUERY_BATCH = 16384;
/** Anchors per row for the shared-neighbour join (indexedPairsWithin): its first non-self neighbours. */
const ANCHORS = 3;
const ADD_BATCH = 65536;

type UsearchIndex = InstanceType<typeof Index>;

const threads = () => Math.max(1, availableParallelism());

function newIndex(dim: number, { expansionAdd = INDEX_CONFIG.expansion_add as number, expansionSearch = INDEX_CONFIG.expansion_search as number } = {}): UsearchIndex {
  return new Index({ dimensions: dim, metric: MetricKind.Cos, quantization: ScalarKind.I8, connectivity: INDEX_CONFIG.connectivity, expansion_add: expansionAdd, expansion_search: expansionSearch, multi: false });
}

export interface VectorIndex {
  index: UsearchIndex;
  /** Rows added by this call (0 when the index on disk already covered the store). */
  added: number;
  /** The saved index (the same graph as `index`), for a wider read-only view of it. */
  file: string;
}

/**
 * The store's index, brought up to date: loaded from disk and extended with rows appended since it
 * was written (rows with an error have no embedding and are left out), or built when there is none.
 */
export function ensureIndex(store: EmbeddingStore, contents: StoreContents, onProgress?: (done: number, total: number) => void): VectorIndex {
  const { dim, rows, data } = contents.vectors;
  const record = store.indexRecord;
  const file = path.join(store.dir, INDEX_FILE);
  const extend = record != null && record.rows <= rows && existsSync(file);
  // usearch keeps the constructor's candidate lists across load(): an index extended adds with the long one.
  const index = newIndex(dim, { expansionAdd: extend ? INDEX_CONFIG.expansion_append : INDEX_CONFIG.expansion_add });
  if (extend) index.load(file);
  const from = extend ? record.rows : 0;
  if (from === rows && record) return { index, added: 0, file };
  // Added in a seeded random order, not the store's. HNSW's links assume random insertion; a store
  // lists files in the order they were embedded (a folder's sort order, later batches last), and rows
  // that arrive last in a graph already full keep few links from it. At a million rows with the 2,400
  // real photos and copies last, store order found 0.86 of their pairs, random order 0.98 (docs/scale.md).
  const pending: number[] = [];
  for (let r = from; r < rows; r++) if (contents.errors[r] === null) pending.push(r);
  shuffleInPlace(pending, seededRandom(rows));
  for (let start = 0; start < pending.length; start += ADD_BATCH) {
    const keys = pending.slice(start, start + ADD_BATCH);
    const vectors = new Float32Array(keys.length * dim);
    keys.forEach((r, i) => vectors.set(data.subarray(r * dim, (r + 1) * dim), i * dim));
    index.add(BigUint64Array.from(keys, BigInt), vectors, threads());
    onProgress?.(start + keys.length, pending.length);
  }
  const tmp = `${file}.tmp`;
  index.save(tmp);
  renameSync(tmp, file);
  store.recordIndex(INDEX_FILE, rows, { library: 'usearch', metric: 'cos', ...INDEX_CONFIG });
  return { index, added: rows - from, file };
}

export function removeIndexFile(store: EmbeddingStore): void {
  rmSync(path.join(store.dir, INDEX_FILE), { force: true });
}

function dotRows(m: EmbeddingMatrix, a: number, b: number): number {
  const { data, dim } = m;
  let s = 0;
  for (let k = 0; k < dim; k++) s += data[a * dim + k] * data[b * dim + k];
  return s;
}

/** For each store row, its position among `rows` (the files asked about), −1 when it is not one of them. */
function positions(storeRows: number, rows: Int32Array): Int32Array {
  const pos = new Int32Array(storeRows).fill(-1);
  rows.forEach((r, i) => (pos[r] = i));
  return pos;
}

interface BatchResult {
  keys: BigUint64Array;
  distances: Float32Array;
  counts: ArrayLike<bigint | number>;
}

/** usearch answers a one-row query matrix as a single query (no `counts`): one shape for both. */
function searchBatch(index: UsearchIndex, queries: Float32Array, k: number): BatchResult {
  const found = index.search(queries, k, threads()) as unknown as BatchResult | { keys: BigUint64Array; distances: Float32Array };
  return 'counts' in found ? found : { ...found, counts: [found.keys.length] };
}

/**
 * Neighbours of each query row: `k` from one batch search, widened (×4, up to MAX_K) for the queries
 * whose k-th neighbour is still within `reach`, so a crowd of near-duplicates is not cut off at k.
 */
function searchWide(index: UsearchIndex, m: EmbeddingMatrix, queryRows: ArrayLike<number>, reach: number, visit: (q: number, keys: BigUint64Array) => void, pending: number[] = Array.from(queryRows, (_, q) => q)): void {
  const { dim, data } = m;
  for (let k = FIRST_K; pending.length > 0; k *= 4) {
    const crowded: number[] = [];
    // Fewer queries per call as k grows: the result buffers (batch × k keys and distances) stay ~3 MB.
    const perCall = Math.max(1, Math.floor((QUERY_BATCH * FIRST_K) / k));
    for (let start = 0; start < pending.length; start += perCall) {
      const batch = pending.slice(start, start + perCall);
      const queries = new Float32Array(batch.length * dim);
      batch.forEach((q, i) => queries.set(data.subarray(queryRows[q] * dim, (queryRows[q] + 1) * dim), i * dim));
      const found = searchBatch(index, queries, k);
      batch.forEach((q, i) => {
        const count = Number(found.counts[i]);
        visit(q, found.keys.subarray(i * k, i * k + count));
        if (count === k && found.distances[i * k + count - 1] <= reach && k < MAX_K) crowded.push(q);
      });
    }
    pending = crowded;
  }
}

/**
 * Every pair of `rows` (store rows of the files asked about) within `threshold`, as positions in
 * `rows` with i < j and the exact distance: candidates from the index, verified on float32.
 * Two passes beyond each row's own search recover what an HNSW graph loses:
 * - a second look: every query is a stored row, so a search that does not return the row itself is
 *   a miss the index reveals (greedy descent that ended in the wrong region); those rows are searched
 *   again through a view of the same graph with a longer candidate list;
 * - a shared-neighbour join: near-identical rows inserted where the graph is crowded may hold no link
 *   to each other while both link to the same rows nearby, so rows that share one of their first
 *   ANCHORS neighbours are compared exactly (sharedAnchorCandidates). At a million real-shaped rows
 *   it recovered 38 pairs with rows indexed in store order, 12 in random order (docs/scale.md).
 */
export function indexedPairsWithin({ index, file }: VectorIndex, contents: StoreContents, rows: Int32Array, threshold: number, visit: (i: number, j: number, distance: number) => void): IndexedPairsReport {
  const m = contents.vectors;
  const pos = positions(m.rows, rows);
  // A pair is usually proposed from both ends; only verified pairs (few) are remembered to report it once.
  const reported = new Set<number>();
  const pairId = (i: number, j: number) => i * rows.length + j;
  const report = (q: number, b: number, d: number): boolean => {
    if (d > threshold) return false;
    const [i, j] = q < b ? [q, b] : [b, q];
    const id = pairId(i, j);
    if (reported.has(id)) return false;
    reported.add(id);
    visit(i, j, d);
    return true;
  };
  // int8 distances are approximate (off by ~0.005 at D = 384): widen while the k-th is within the
  // threshold plus a margin. A wider margin widened most rows of dense clusters (mates at 0.15) for nothing.
  const reach = threshold + 0.02;
  const foundItself = new Uint8Array(rows.length);
  const anchors = new Int32Array(rows.length * ANCHORS).fill(-1);
  const anchorDistance = new Float32Array(rows.length * ANCHORS);
  const check = (q: number, keys: BigUint64Array) => {
    // A later visit of q (widened, or its second look) saw more and better neighbours: its anchors win.
    let anchored = 0;
    anchors.fill(-1, q * ANCHORS, (q + 1) * ANCHORS);
    for (const key of keys) {
      const b = pos[Number(key)];
      if (b === q) foundItself[q] = 1;
      if (b < 0 || b === q) continue;
      const d = Math.max(0, 1 - dotRows(m, rows[q], rows[b]));
      if (anchored < ANCHORS) {
        anchors[q * ANCHORS + anchored] = b;
        anchorDistance[q * ANCHORS + anchored++] = d;
      }
      report(q, b, d);
    }
  };
  searchWide(index, m, rows, reach, check);
  const lost = Array.from(rows, (_, q) => q).filter((q) => !foundItself[q]);
  if (lost.length > 0) {
    const wide = newIndex(m.dim, { expansionSearch: SECOND_LOOK_EXPANSION });
    wide.view(file);
    searchWide(wide, m, rows, reach, check, lost);
  }
  let joined = 0;
  const joinCandidates = sharedAnchorCandidates(anchors, anchorDistance, ANCHORS, threshold, (i, j) => {
    // Most candidates are pairs the searches already reported: skip their dot product.
    if (reported.has(pairId(i, j))) return;
    if (report(i, j, Math.max(0, 1 - dotRows(m, rows[i], rows[j])))) joined++;
  });
  return { secondLooks: lost.length, joinCandidates, joined };
}

export interface IndexedPairsReport {
  /** Rows whose own search missed them, searched again with a longer candidate list. */
  secondLooks: number;
  /** Pairs the shared-neighbour join compared exactly, and how many of them were within the threshold and new. */
  joinCandidates: number;
  joined: number;
}

/**
 * The nearest of `listed` (store rows) to each query embedding, exact among the index's candidates.
 * A query whose candidates are all outside `listed` (superseded rows) widens its search.
 */
export function indexedNearest(index: UsearchIndex, contents: StoreContents, listed: Int32Array, queries: EmbeddingMatrix): Array<{ index: number; distance: number }> {
  const pos = positions(contents.vectors.rows, listed);
  const { dim } = queries;
  return Array.from({ length: queries.rows }, (_, q) => {
    const query = queries.data.subarray(q * dim, (q + 1) * dim);
    for (let k = FIRST_K; ; k *= 4) {
      const found = index.search(query, k, 1) as unknown as { keys: BigUint64Array };
      let best = -1;
      let bestDot = -Infinity;
      for (const key of found.keys) {
        const p = pos[Number(key)];
        if (p < 0) continue;
        const r = Number(key);
        let s = 0;
        for (let d = 0; d < dim; d++) s += query[d] * contents.vectors.data[r * dim + d];
        if (s > bestDot) {
          bestDot = s;
          best = p;
        }
      }
      if (best >= 0 || k >= MAX_K || found.keys.length < k) return best < 0 ? { index: -1, distance: Infinity } : { index: best, distance: Math.max(0, 1 - bestDot) };
    }
  });
}
