/**
 * Exact nearest-neighbour search over unit-length embeddings, by brute force on one flat
 * Float32Array (rows × dim): for unit vectors cosine distance is 1 − a·b, so no norms are recomputed.
 * Pure maths (no DOM, no ORT); `rclip match`, `rclip dedupe` and the blocklist panel use it.
 * Cost is rows × queries × dim multiply-adds: see docs (10,000 × 10,000 all-pairs is seconds, not ms).
 */
/**
 * Below this many rows, dedupe and match search exactly (no index): exact all-pairs costs N²/2 dot
 * products, an index build N·log N: measured by bench/dedupe-crossover.ts, exact was faster at 1,000
 * rows (2.7 vs 6.7 s) and slower at 2,000 (16 vs 7.9 s) and 5,000 (92 vs 16 s).
 */
export const EXACT_SEARCH_BELOW = 2000;

export interface EmbeddingMatrix {
  rows: number;
  dim: number;
  /** Row-major, rows × dim. */
  data: Float32Array;
}

/** Rows into one matrix; `normalize` rescales each row to unit length (zero rows stay zero). */
export function toMatrix(rows: readonly ArrayLike<number>[], dim = rows[0]?.length ?? 0, normalize = false): EmbeddingMatrix {
  const data = new Float32Array(rows.length * dim);
  rows.forEach((r, i) => {
    if (r.length !== dim) throw new RangeError(`embeddings differ in length: row ${i} has ${r.length} values, expected ${dim}.`);
    let scale = 1;
    if (normalize) {
      let s = 0;
      for (let k = 0; k < dim; k++) s += r[k] * r[k];
      scale = s > 0 ? 1 / Math.sqrt(s) : 1;
    }
    for (let k = 0; k < dim; k++) data[i * dim + k] = r[k] * scale;
  });
  return { rows: rows.length, dim, data };
}

function dot(a: Float32Array, aOff: number, b: Float32Array, bOff: number, dim: number): number {
  let s = 0;
  for (let k = 0; k < dim; k++) s += a[aOff + k] * b[bOff + k];
  return s;
}

export interface Nearest {
  /** Row of the nearest listed embedding; −1 when the index is empty. */
  index: number;
  /** Cosine distance 1 − a·b (unit-length inputs), in [0, 2]; Infinity when the index is empty. */
  distance: number;
}

/** The nearest row of `index` to one unit-length query (ties: the first row). */
export function nearestRow(query: ArrayLike<number>, index: EmbeddingMatrix): Nearest {
  const q = query instanceof Float32Array ? query : Float32Array.from(query);
  let best = -1;
  let bestDot = -Infinity;
  for (let r = 0; r < index.rows; r++) {
    const d = dot(q, 0, index.data, r * index.dim, index.dim);
    if (d > bestDot) {
      bestDot = d;
      best = r;
    }
  }
  return best < 0 ? { index: -1, distance: Infinity } : { index: best, distance: Math.max(0, 1 - bestDot) };
}

/**
 * Every pair i < j with distance ≤ threshold, visited in row order (the dedupe graph's edges).
 * Row i is compared with four rows j at a time (each a[k] read once for four dot products): about
 * 2× the plain double loop in V8.
 */
export function pairsWithin(m: EmbeddingMatrix, threshold: number, visit: (i: number, j: number, distance: number) => void): void {
  const minDot = 1 - threshold;
  const { data: x, dim, rows } = m;
  const hit = (i: number, j: number, d: number) => {
    if (d >= minDot) visit(i, j, Math.max(0, 1 - d));
  };
  for (let i = 0; i < rows; i++) {
    const a = i * dim;
    let j = i + 1;
    for (; j + 3 < rows; j += 4) {
      const b0 = j * dim;
      const b1 = b0 + dim;
      const b2 = b1 + dim;
      const b3 = b2 + dim;
      let s0 = 0;
      let s1 = 0;
      let s2 = 0;
      let s3 = 0;
      for (let k = 0; k < dim; k++) {
        const v = x[a + k];
        s0 += v * x[b0 + k];
        s1 += v * x[b1 + k];
        s2 += v * x[b2 + k];
        s3 += v * x[b3 + k];
      }
      hit(i, j, s0);
      hit(i, j + 1, s1);
      hit(i, j + 2, s2);
      hit(i, j + 3, s3);
    }
    for (; j < rows; j++) hit(i, j, dot(x, a, x, j * dim, dim));
  }
}

/**
 * Candidate pairs among rows that share an anchor (a neighbour an approximate index returned for
 * both), pruned by the triangle inequality: for unit vectors the chord |x − y| = √(2·cosine distance)
 * is a metric, so rows a, b with anchor s can only be within `threshold` of each other when
 * |chord(a, s) − chord(b, s)| ≤ √(2·threshold). Why: a graph index can leave two near-identical rows
 * without a link between them (neither search reaches the other) while both link out to the same
 * nearby rows; "rows that share a neighbour are likely neighbours" is NN-descent's local join.
 * `anchors` holds `perRow` anchor rows per row (−1: none) and `anchorDistance` the cosine distance of
 * each row to each of its anchors. A pair is proposed once per anchor it shares (the caller dedupes).
 * Returns the number of candidates proposed.
 */
export function sharedAnchorCandidates(anchors: Int32Array, anchorDistance: Float32Array, perRow: number, threshold: number, visit: (i: number, j: number) => void): number {
  const rows = anchors.length / perRow;
  // Bucket the (row, chord) entries by anchor: a counting sort over anchor ids.
  const start = new Int32Array(rows + 1);
  for (const a of anchors) if (a >= 0) start[a + 1]++;
  for (let a = 0; a < rows; a++) start[a + 1] += start[a];
  const fill = start.slice(0, rows);
  const member = new Int32Array(start[rows]);
  const chord = new Float64Array(start[rows]);
  for (let e = 0; e < anchors.length; e++) {
    const a = anchors[e];
    if (a < 0) continue;
    const slot = fill[a]++;
    member[slot] = Math.floor(e / perRow);
    chord[slot] = Math.sqrt(2 * Math.max(0, anchorDistance[e]));
  }
  // Float32 rounding of the distances: a hair of slack so a pair exactly at the bound is not lost.
  const window = Math.sqrt(2 * threshold) + 1e-4;
  let proposed = 0;
  for (let a = 0; a < rows; a++) {
    const from = start[a];
    const size = start[a + 1] - from;
    if (size < 2) continue;
    const order = Array.from({ length: size }, (_, k) => from + k).sort((x, y) => chord[x] - chord[y]);
    for (let x = 0; x < size; x++) {
      for (let y = x + 1; y < size && chord[order[y]] - chord[order[x]] <= window; y++) {
        const i = member[order[x]];
        const j = member[order[y]];
        if (i === j) continue;
        visit(Math.min(i, j), Math.max(i, j));
        proposed++;
      }
    }
  }
  return proposed;
}
