/**
 * Pure definitions of the benchmark suite (docs/benchmark-suite.md) beside the distortion 2AFC of
 * twoafc.ts: the seeded copy edits of copy retrieval, leave-one-out k-NN, recall@1, the attack
 * targets of each task, and the margin attack every task uses (the core's PGD or APGD through
 * one attack.onnx run a step). Semantic triplets are in wordnet.ts.
 */
import { runAttack, type AttackOracle, type AttackSettings } from './attack';
import { cosineDistance } from './distance';
import { affineWarp, colourShift, type AffineWarp, type ColourShift } from './distortions';
import type { PixelTensor } from './preprocess';
import { wilsonInterval, type Interval } from './agreement-stats';
import { hashSeed, seededRandom } from './random';
import type { TwoAfcModel } from './twoafc';

export const SUITE_TASKS = ['semantic', 'knn', 'copy', 'distortion'] as const;
export type SuiteTask = (typeof SUITE_TASKS)[number];

/** Neighbours that vote in the k-NN task. */
export const KNN_K = 5;

/** Copy retrieval's edits: a crop-zoom with a shift, colour jitter, then a JPEG round trip. */
export const COPY_EDIT = { zoom: [1.15, 1.4], shift: 0.08, colour: 0.15, hue: 0.03, quality: [40, 75] } as const;

export interface CopyEdit {
  warp: AffineWarp;
  colour: ColourShift;
  quality: number;
}

const between = (random: () => number, lo: number, hi: number) => lo + (hi - lo) * random();

/** The edit of one photo's query copy, drawn from its own stream (seed|image|copy). */
export function copyEdit(seed: number, image: string): CopyEdit {
  const random = seededRandom(hashSeed(`${seed}|${image}|copy`));
  const e = COPY_EDIT;
  const jitter = () => 1 + between(random, -e.colour, e.colour);
  return {
    warp: { dx: between(random, -e.shift, e.shift), dy: between(random, -e.shift, e.shift), scale: between(random, e.zoom[0], e.zoom[1]), degrees: 0, flip: false },
    colour: { brightness: jitter(), contrast: jitter(), saturation: jitter(), hue: between(random, -e.hue, e.hue) },
    quality: Math.round(between(random, e.quality[0], e.quality[1])),
  };
}

/** Applies an edit; the JPEG codec comes from the caller. */
export async function applyCopyEdit(pixels: PixelTensor, edit: CopyEdit, jpeg: (p: PixelTensor, quality: number) => Promise<PixelTensor>): Promise<PixelTensor> {
  return jpeg(colourShift(affineWarp(pixels, edit.warp), edit.colour), edit.quality);
}

/** Gallery indices by increasing distance (ties: lower index first), without `exclude`. */
export function ranked(distances: readonly number[], exclude = -1): number[] {
  return distances
    .map((_, i) => i)
    .filter((i) => i !== exclude)
    .sort((a, b) => distances[a] - distances[b] || a - b);
}

/** The nearest gallery item (recall@1 asks whether it is the query's own original). */
export function nearest(distances: readonly number[], exclude = -1): number {
  return ranked(distances, exclude)[0];
}

/**
 * Leave-one-out k-NN: the majority label among the k nearest gallery items other than `exclude`;
 * a tie between labels goes to the one whose voters are nearer in total.
 */
export function knnPredict(distances: readonly number[], labels: readonly string[], k: number, exclude = -1): string {
  const votes = new Map<string, { count: number; total: number }>();
  for (const i of ranked(distances, exclude).slice(0, k)) {
    const v = votes.get(labels[i]) ?? { count: 0, total: 0 };
    votes.set(labels[i], { count: v.count + 1, total: v.total + distances[i] });
  }
  return [...votes.entries()].sort(([la, a], [lb, b]) => b.count - a.count || a.total - b.total || (la < lb ? -1 : 1))[0][0];
}

/** A task item's decision from its distances to the gallery: true when the metric gets it right. */
export type GalleryDecision = (distances: readonly number[]) => boolean;

const unitMean = (vectors: Float32Array[]): Float32Array => {
  const out = new Float32Array(vectors[0].length);
  for (const v of vectors) for (let i = 0; i < out.length; i++) out[i] += v[i];
  const n = Math.hypot(...out) || 1;
  for (let i = 0; i < out.length; i++) out[i] /= n;
  return out;
};

/**
 * What the k-NN attack pulls and pushes: away from the mean direction of the query's k nearest
 * same-class neighbours, towards that of the nearest other class's k nearest members.
 */
export function knnTargets(query: Float32Array, gallery: Float32Array[], labels: readonly string[], label: string, k: number, exclude: number): { correct: Float32Array; wrong: Float32Array } {
  const distances = gallery.map((g) => cosineDistance(query, g));
  const order = ranked(distances, exclude);
  const centre = (l: string) => unitMean(order.filter((i) => labels[i] === l).slice(0, k).map((i) => gallery[i]));
  const others = [...new Set(labels)].filter((l) => l !== label).map(centre);
  const wrong = others.reduce((best, c) => (cosineDistance(query, c) < cosineDistance(query, best) ? c : best));
  return { correct: centre(label), wrong };
}

/** What the copy-retrieval attack does: push the query away from its original, towards the nearest other gallery photo. */
export function copyTargets(query: Float32Array, gallery: Float32Array[], own: number): { correct: Float32Array; wrong: Float32Array } {
  return { correct: gallery[own], wrong: gallery[nearest(gallery.map((g) => cosineDistance(query, g)), own)] };
}

export interface MarginAttack {
  /** margin(x) = d(x, correct) − d(x, wrong) at each iterate (0 = after the random start); > 0 means the attack wins there. */
  margins: number[];
  /** The iterates, model-input pixels. */
  iterates: Float32Array[];
  /** Index of the iterate with the largest margin: the adversarial image handed on to the peers. */
  best: number;
}

/**
 * margin(x) = d(x, a) − d(x, b) and its gradient from ONE attack.onnx run: for unit a, b,
 * d(x, a) − d(x, b) = f̂·(b − a) = |b − a|·(1 − d(x, u)) with the unit target u = (b − a)/|b − a|.
 */
export function marginOracle(model: Pick<TwoAfcModel, 'distanceGradient'>, correct: Float32Array, wrong: Float32Array): AttackOracle {
  const diff = wrong.map((w, i) => w - correct[i]);
  const scale = Math.hypot(...diff);
  const unit = diff.map((v) => v / (scale || 1));
  return {
    gradient: async (pixels) => {
      if (scale === 0) return { distance: 0, grad: new Float32Array(pixels.length) };
      const { distance, grad } = await model.distanceGradient(pixels, unit);
      return { distance: scale * (1 - distance), grad: grad.map((g) => -scale * g) };
    },
  };
}

/** The core's attack (settings.method) ascending the margin from `clean` (model-input pixels); every iterate is kept. */
export async function attackMargin(model: Pick<TwoAfcModel, 'distanceGradient'>, clean: Float32Array, correct: Float32Array, wrong: Float32Array, settings: AttackSettings): Promise<MarginAttack> {
  const margins: number[] = [];
  const iterates: Float32Array[] = [];
  await runAttack(clean, 'push-apart', settings, marginOracle(model, correct, wrong), {
    onStep: (s, pixels) => {
      margins.push(s.distance);
      iterates.push(Float32Array.from(pixels!));
    },
  });
  return { margins, iterates, best: margins.indexOf(Math.max(...margins)) };
}

/** A figure's 95 % interval and how it was made. */
export interface FigureInterval extends Interval {
  /**
   * "wilson": items independent (each its own cluster); "wilson-clustered": several items share a cluster
   * (triplets of one reference photo), Wilson's interval over the effective sample size `n_eff`.
   */
  method: 'wilson' | 'wilson-clustered';
  /** The clustered interval's effective sample size: n over the design effect (at least 1), at most n. */
  n_eff?: number;
  clusters?: number;
}

/** One metric's figures on one task. `robust` counts an item wrong on clean images as wrong. */
export interface TaskScore {
  n: number;
  clean: number;
  attacked_n: number;
  /** Clean accuracy on the attacked subset, to read `robust` against. */
  clean_on_attacked: number | null;
  robust: number | null;
  /** True for metrics scored on adversarial images made against the encoders (they cannot be attacked themselves). */
  transfer: boolean;
  /** 95 % intervals of the three figures (absent from results written before intervals were added). */
  ci95?: { clean: FigureInterval; clean_on_attacked: FigureInterval | null; robust: FigureInterval | null };
}

export function mean(xs: readonly number[]): number {
  return xs.length === 0 ? NaN : xs.reduce((a, b) => a + b, 0) / xs.length;
}

/** Resamples of the cluster bootstrap behind a clustered interval's design effect. */
export const BOOTSTRAP_RESAMPLES = 2000;

/**
 * A 95 % interval for the mean of per-item scores in [0, 1] (1 right, 0 wrong, ½ a tie). Items each in
 * a cluster of their own: Wilson's score interval. Items sharing clusters (several triplets of one
 * reference photo are not independent): Wilson's interval over the effective sample size
 * n_eff = n / deff, where the design effect deff is the variance of the mean under a seeded cluster
 * bootstrap (whole clusters resampled with replacement) over the binomial variance p(1 − p)/n, taken at
 * least 1. Where every item scores alike (p = 0 or 1) the bootstrap sees no spread and n_eff is the
 * number of clusters, as if each cluster were one item. A Wilson-shaped interval stays sensible at
 * 0 % and 100 %, where a percentile bootstrap would collapse to a point.
 */
export function scoreInterval(scores: readonly number[], clusters: readonly string[], seed: number, resamples = BOOTSTRAP_RESAMPLES): FigureInterval {
  const n = scores.length;
  if (clusters.length !== n) throw new Error(`scoreInterval: ${n} scores but ${clusters.length} cluster keys`);
  const sums = new Map<string, { sum: number; count: number }>();
  for (const [i, key] of clusters.entries()) {
    const c = sums.get(key) ?? { sum: 0, count: 0 };
    sums.set(key, { sum: c.sum + scores[i], count: c.count + 1 });
  }
  const p = mean(scores);
  if (sums.size === n) return { ...wilsonInterval(p * n, n), method: 'wilson' };
  const groups = [...sums.keys()].sort().map((k) => sums.get(k)!);
  let nEff = groups.length;
  const binomial = (p * (1 - p)) / n;
  if (binomial > 0) {
    const random = seededRandom(seed);
    const draws: number[] = [];
    for (let r = 0; r < resamples; r++) {
      let sum = 0;
      let count = 0;
      for (let j = 0; j < groups.length; j++) {
        const g = groups[Math.floor(random() * groups.length)];
        sum += g.sum;
        count += g.count;
      }
      draws.push(sum / count);
    }
    const m = mean(draws);
    const variance = draws.reduce((a, d) => a + (d - m) ** 2, 0) / (draws.length - 1);
    nEff = n / Math.max(1, variance / binomial);
  }
  return { ...wilsonInterval(p * nEff, nEff), method: 'wilson-clustered', n_eff: +nEff.toFixed(1), clusters: groups.length };
}

/**
 * Clean scores of all items and robust scores of the attacked ones (the first `robust.length` items), with
 * their 95 % intervals. `clusters`: each item's cluster key (default: every item its own), `seed` for the
 * cluster bootstrap (scoreInterval).
 */
export function taskScore(clean: readonly number[], robust: readonly number[], transfer: boolean, clusters: readonly string[] = clean.map((_, i) => String(i)), seed = 0): TaskScore {
  const attacked = robust.length;
  const robustScores = robust.map((r, i) => Math.min(r, clean[i]));
  const attackedClusters = clusters.slice(0, attacked);
  const interval = (scores: readonly number[], keys: readonly string[], figure: string) => scoreInterval(scores, keys, hashSeed(`${seed}|${figure}|bootstrap`));
  return {
    n: clean.length,
    clean: mean(clean),
    attacked_n: attacked,
    clean_on_attacked: attacked ? mean(clean.slice(0, attacked)) : null,
    robust: attacked ? mean(robustScores) : null,
    transfer,
    ci95: {
      clean: interval(clean, clusters, 'clean'),
      clean_on_attacked: attacked ? interval(clean.slice(0, attacked), attackedClusters, 'clean_on_attacked') : null,
      robust: attacked ? interval(robustScores, attackedClusters, 'robust') : null,
    },
  };
}

/** A seeded order of names for one task (sorted by hash of seed|task|name): the first N are a fair sample, whatever N is. */
export function seededOrder(names: readonly string[], seed: number, task: string): string[] {
  const keyed = names.map((n) => ({ n, k: hashSeed(`${seed}|${task}|${n}`) }));
  return keyed.sort((a, b) => a.k - b.k || (a.n < b.n ? -1 : 1)).map((e) => e.n);
}

// Margins of the gallery tasks from a metric's distances alone (Square Attack on peers and, as the
// gradient-masking check, on encoders): > 0 means the attack wins. Distances may be Infinity for
// gallery items a caller leaves out (a shortlist); they only ever count as far.

/** Copy retrieval: d(query, own original) − d(query, nearest other photo). */
export function copyMargin(distances: readonly number[], own: number): number {
  let other = Infinity;
  for (let j = 0; j < distances.length; j++) if (j !== own) other = Math.min(other, distances[j]);
  return finite(distances[own] - other);
}

/**
 * k-NN: the ⌈k/2⌉-th nearest neighbour of the query's own class against the ⌈k/2⌉-th nearest of the
 * closest other class (a majority of k needs ⌈k/2⌉ votes); > 0 when that other class gets there first.
 */
export function knnMargin(distances: readonly number[], labels: readonly string[], label: string, k: number, exclude: number): number {
  const byClass = new Map<string, number[]>();
  for (const i of ranked(distances, exclude)) {
    const list = byClass.get(labels[i]) ?? [];
    list.push(distances[i]);
    byClass.set(labels[i], list);
  }
  const vote = Math.ceil(k / 2) - 1;
  const at = (l: string) => byClass.get(l)?.[vote] ?? Infinity;
  let other = Infinity;
  for (const l of byClass.keys()) if (l !== label) other = Math.min(other, at(l));
  return finite(at(label) - other);
}

/** Infinity − Infinity and ±Infinity would stall a score-based attack: keep margins comparable. */
function finite(margin: number): number {
  return Number.isNaN(margin) ? 0 : Math.max(-1e3, Math.min(1e3, margin));
}
