/**
 * Synthetic unit embeddings that make an approximate index work: random unit vectors in D dims are
 * nearly orthogonal (every pair at distance ≈ 1), which any index finds trivially. Here rows come in
 * clusters (each row = a·centre + √(1−a²)·noise, normalised) whose members sit at moderate distances
 * from each other (≈ 1 − a², drawn per cluster in [0.15, 0.45]: "related" in the models' bands), so
 * the index must tell a near-duplicate from a crowd of close neighbours. A share of rows are planted
 * near-duplicates of an earlier row, at distances spread over [0.01, 0.15] so that pairs fall on
 * both sides of the dedupe threshold (0.1) and recall is tested at the boundary.
 *
 * With `shapeFrom` (a model's real embeddings), the cluster centres are drawn from a Gaussian with
 * the real rows' mean and (shrunk) covariance instead of the isotropic one: a model's embeddings fill
 * a few dozen directions of the 384, so isotropic centres are all mutually orthogonal and at
 * distance ≈ 1 from every real row — a flat landscape in which a graph index's greedy descent has no
 * slope to follow, unlike a real collection. The offsets stay isotropic (so nearly orthogonal to
 * everything), which keeps the distances above: mates at 1 − a², rows of two clusters ≥ 1 − a₁a₂ ≥ 0.15.
 * (Offsets drawn from the real covariance too put ~6 neighbours within 0.1 of every row.)
 */
import type { EmbeddingMatrix } from '../src/core/nearest';
import { gaussianSamples, seededRandom } from '../src/core/random';

export interface SyntheticOptions {
  /** Rows per cluster on average (default 1000). */
  clusterSize?: number;
  /** Share of rows that are planted near-duplicates of an earlier row (default 0.02). */
  plantedShare?: number;
  seed?: number;
  /** Real embeddings whose mean and covariance shape the synthetic rows (see above); isotropic without. */
  shapeFrom?: EmbeddingMatrix;
}

/** A direction sampler: `dim` numbers (not normalised) drawn from the synthetic rows' distribution. */
type Sampler = () => Float32Array;

/**
 * A sampler for N(mean, Σ), Σ the rows' covariance shrunk 10 % towards its average variance (800
 * photos in 384 dims give a noisy, near-singular estimate), by Cholesky.
 */
function gaussianLike(m: EmbeddingMatrix, random: () => number): Sampler {
  const { rows, dim, data } = m;
  const mean = new Float64Array(dim);
  for (let r = 0; r < rows; r++) for (let k = 0; k < dim; k++) mean[k] += data[r * dim + k] / rows;
  const cov = new Float64Array(dim * dim);
  const x = new Float64Array(dim);
  for (let r = 0; r < rows; r++) {
    for (let k = 0; k < dim; k++) x[k] = data[r * dim + k] - mean[k];
    for (let i = 0; i < dim; i++) for (let j = 0; j <= i; j++) cov[i * dim + j] += (x[i] * x[j]) / (rows - 1);
  }
  let trace = 0;
  for (let i = 0; i < dim; i++) trace += cov[i * dim + i];
  for (let i = 0; i < dim; i++) for (let j = 0; j <= i; j++) cov[i * dim + j] = 0.9 * cov[i * dim + j] + (i === j ? (0.1 * trace) / dim : 0);
  // In-place Cholesky of the lower triangle: cov = L Lᵀ.
  for (let j = 0; j < dim; j++) {
    let d = cov[j * dim + j];
    for (let k = 0; k < j; k++) d -= cov[j * dim + k] ** 2;
    cov[j * dim + j] = Math.sqrt(d);
    for (let i = j + 1; i < dim; i++) {
      let v = cov[i * dim + j];
      for (let k = 0; k < j; k++) v -= cov[i * dim + k] * cov[j * dim + k];
      cov[i * dim + j] = v / cov[j * dim + j];
    }
  }
  return () => {
    const z = gaussianSamples(dim, random);
    const out = new Float32Array(dim);
    for (let i = 0; i < dim; i++) {
      let v = mean[i];
      for (let k = 0; k <= i; k++) v += cov[i * dim + k] * z[k];
      out[i] = v;
    }
    return out;
  };
}

function normalizeInPlace(v: Float32Array, off: number, dim: number): void {
  let s = 0;
  for (let k = 0; k < dim; k++) s += v[off + k] * v[off + k];
  const inv = 1 / Math.sqrt(s);
  for (let k = 0; k < dim; k++) v[off + k] *= inv;
}

/** Row `off` of `out` := normalise(a·base + √(1−a²)·unit noise): cosine distance to `base` ≈ 1 − a. */
function perturbInto(out: Float32Array, off: number, base: Float32Array, baseOff: number, dim: number, a: number, noise: Sampler): void {
  const g = noise();
  let s = 0;
  for (let k = 0; k < dim; k++) s += g[k] * g[k];
  const b = Math.sqrt(Math.max(0, 1 - a * a)) / Math.sqrt(s);
  for (let k = 0; k < dim; k++) out[off + k] = a * base[baseOff + k] + b * g[k];
  normalizeInPlace(out, off, dim);
}

/** Near-duplicate of row `src` (of `data`) written to row `dst` at cosine distance ≈ `distance`. */
export function plantNearDuplicate(data: Float32Array, dst: number, src: number, dim: number, distance: number, noise: Sampler): void {
  perturbInto(data, dst * dim, data, src * dim, dim, 1 - distance, noise);
}

/** n clustered unit rows (row-major n × dim) with planted near-duplicates; the planted copies' rows and their sources' are returned. */
export function syntheticEmbeddings(n: number, dim: number, options: SyntheticOptions = {}): { data: Float32Array; plantedRows: Int32Array; plantedSources: Int32Array } {
  const random = seededRandom(options.seed ?? 1);
  const clusters = Math.max(1, Math.round(n / (options.clusterSize ?? 1000)));
  const noise = () => gaussianSamples(dim, random);
  const centre = options.shapeFrom ? gaussianLike(options.shapeFrom, random) : noise;
  const centres = new Float32Array(clusters * dim);
  for (let c = 0; c < clusters; c++) centres.set(centre(), c * dim);
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
      plantNearDuplicate(data, i, source, dim, 0.01 + 0.14 * random(), noise);
      plantedRows.push(i);
      plantedSources.push(source);
    } else {
      const c = Math.floor(random() * clusters);
      perturbInto(data, i * dim, centres, c * dim, dim, spread[c], noise);
    }
  }
  return { data, plantedRows: Int32Array.from(plantedRows), plantedSources: Int32Array.from(plantedSources) };
}
