/**
 * Exact nearest-neighbour search over unit-length embeddings, by brute force on one flat
 * Float32Array (rows × dim): for unit vectors cosine distance is 1 − a·b, so no norms are recomputed.
 * Pure maths (no DOM, no ORT); `rclip match`, `rclip dedupe` and the blocklist panel use it.
 * Cost is rows × queries × dim multiply-adds: see docs (10,000 × 10,000 all-pairs is seconds, not ms).
 */
export interface EmbeddingMatrix {
  rows: number;
  dim: number;
  /** Row-major, rows × dim. */
  data: Float32Array;
}

export function toMatrix(rows: readonly ArrayLike<number>[], dim = rows[0]?.length ?? 0): EmbeddingMatrix {
  const data = new Float32Array(rows.length * dim);
  rows.forEach((r, i) => {
    if (r.length !== dim) throw new Error(`row ${i} has ${r.length} values, expected ${dim}.`);
    data.set(r, i * dim);
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

/** Every pair i < j with distance ≤ threshold, visited in row order (the dedupe graph's edges). */
export function pairsWithin(m: EmbeddingMatrix, threshold: number, visit: (i: number, j: number, distance: number) => void): void {
  const minDot = 1 - threshold;
  for (let i = 0; i < m.rows; i++)
    for (let j = i + 1; j < m.rows; j++) {
      const d = dot(m.data, i * m.dim, m.data, j * m.dim, m.dim);
      if (d >= minDot) visit(i, j, Math.max(0, 1 - d));
    }
}
