/**
 * Synthetic unit embeddings that make an approximate index work: random unit vectors in D dims are
 * nearly orthogonal (every pair at distance ≈ 1), which any index finds trivially. Here rows come in
 * clusters (each row = a·centre + √(1−a²)·noise, normalised) whose members sit at moderate distances
 * from each other (≈ 1 − a², drawn per cluster in [0.15, 0.45]: "related" in the models' bands), so
 * the index must tell a near-duplicate from a crowd of close neighbours. A share of rows are planted
 * near-duplicates of an earlier row, at distances spread over [0.01, 0.15] so that pairs fall on
 * both sides of the dedupe threshold (0.1) and recall is tested at the boundary.
 */
import { gaussianSamples, seededRandom } from '../src/core/random';

export interface SyntheticOptions {
  /** Rows per cluster on average (default 1000). */
  clusterSize?: number;
  /** Share of rows that are planted near-duplicates of an earlier row (default 0.02). */
  plantedShare?: number;
  seed?: number;
}

function normalizeInPlace(v: Float32Array, off: number, dim: number): void {
  let s = 0;
  for (let k = 0; k < dim; k++) s += v[off + k] * v[off + k];
  const inv = 1 / Math.sqrt(s);
  for (let k = 0; k < dim; k++) v[off + k] *= inv;
}

/** Row `off` of `out` := normalise(a·base + √(1−a²)·unit noise): cosine distance to `base` ≈ 1 − a. */
function perturbInto(out: Float32Array, off: number, base: Float32Array, baseOff: number, dim: number, a: number, random: () => number): void {
  const g = gaussianSamples(dim, random);
  let s = 0;
  for (let k = 0; k < dim; k++) s += g[k] * g[k];
  const b = Math.sqrt(Math.max(0, 1 - a * a)) / Math.sqrt(s);
  for (let k = 0; k < dim; k++) out[off + k] = a * base[baseOff + k] + b * g[k];
  normalizeInPlace(out, off, dim);
}

/** Near-duplicate of row `src` (of `data`) written to row `dst` at cosine distance ≈ `distance`. */
export function plantNearDuplicate(data: Float32Array, dst: number, src: number, dim: number, distance: number, random: () => number): void {
  perturbInto(data, dst * dim, data, src * dim, dim, 1 - distance, random);
}

/** n clustered unit rows (row-major n × dim) with planted near-duplicates; the planted copies' rows and their sources' are returned. */
export function syntheticEmbeddings(n: number, dim: number, options: SyntheticOptions = {}): { data: Float32Array; plantedRows: Int32Array; plantedSources: Int32Array } {
  const random = seededRandom(options.seed ?? 1);
  const clusters = Math.max(1, Math.round(n / (options.clusterSize ?? 1000)));
  const centres = new Float32Array(clusters * dim);
  centres.set(gaussianSamples(clusters * dim, random));
  const spread = new Float32Array(clusters);
  for (let c = 0; c < clusters; c++) {
    normalizeInPlace(centres, c * dim, dim);
    // Members at ≈ 2(1 − a²)/… from each other: a² in [0.55, 0.85] puts mates at distance ≈ 0.15–0.45.
    spread[c] = Math.sqrt(0.55 + 0.3 * random());
  }
  const data = new Float32Array(n * dim);
  const plantedShare = options.plantedShare ?? 0.02;
  const plantedRows: number[] = [];
  const plantedSources: number[] = [];
  for (let i = 0; i < n; i++) {
    if (i > 0 && random() < plantedShare) {
      const source = Math.floor(random() * i);
      plantNearDuplicate(data, i, source, dim, 0.01 + 0.14 * random(), random);
      plantedRows.push(i);
      plantedSources.push(source);
    } else {
      const c = Math.floor(random() * clusters);
      perturbInto(data, i * dim, centres, c * dim, dim, spread[c], random);
    }
  }
  return { data, plantedRows: Int32Array.from(plantedRows), plantedSources: Int32Array.from(plantedSources) };
}
