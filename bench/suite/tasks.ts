/**
 * The suite's two task shapes, run for every metric on the same items:
 * - triplets (semantic 2AFC, distortion 2AFC): is the reference closer to the right image?
 * - gallery (k-NN, copy retrieval): is the decision from the distances to a gallery right?
 * Encoders are attacked with the core's PGD on the margin objective (src/core/suite.ts); every
 * iterate must keep the decision right. Peers have no gradient: they are attacked with Square
 * (src/core/square.ts, score-based, the same ε) on their own margin, and also scored on each
 * encoder's adversarial image (its best iterate), right on all of them (transfer, its own column).
 * Square also runs on the encoders through their embeddings alone (no gradient): the check for
 * gradient masking (a black-box attack that beats PGD means the gradient lies).
 */
import type { AttackSettings } from '../../src/core/attack';
import { cosineDistance } from '../../src/core/distance';
import type { PixelTensor } from '../../src/core/preprocess';
import { hashSeed } from '../../src/core/random';
import { runSquareAttack, type SquareEvaluation, type SquareSettings } from '../../src/core/square';
import { attackMargin, ranked, taskScore, type GalleryDecision, type TaskScore } from '../../src/core/suite';
import { modelInput, tripletScore } from '../../src/core/twoafc';
import type { SuiteEncoder, SuiteMetric } from './metrics';

export interface RunOptions {
  seed: number;
  /** The first `attacked` items are attacked (all of them with the encoders, by transfer for peers). */
  attacked: number;
  /** The white-box attack of this pass: its label, and its settings on each encoder (the L2 radius depends on the input size). */
  attack: { label: string; byEncoder: Record<string, AttackSettings> };
  /** Square's settings (its seed is drawn per item and metric; its ε the run's L∞ radius); null in an L2 run: Square is L∞ only. */
  square: SquareSettings | null;
  /** How many of the attacked items Square also attacks on each encoder (the gradient-masking check). */
  squareEncoders: number;
  /**
   * Whether this pass runs Square (peers, and encoders on `squareEncoders` items). Square does not depend on the
   * encoders' white-box attack, so the suite runs it in the first attack's pass only; in the others a peer is
   * scored by transfer alone.
   */
  blackBox: boolean;
  log: (line: string) => void;
}

export interface TripletItem {
  id: string;
  /** The distortion kind, for the per-kind breakdown. */
  kind?: string;
  /**
   * Items with the same key are not independent (the semantic triplets of one reference photo, the distortion
   * triplets of one photo): their intervals resample them together (scoreInterval). Default: the item's id.
   */
  cluster?: string;
  ref: PixelTensor;
  correct: PixelTensor;
  wrong: PixelTensor;
}

export interface GalleryQuery {
  id: string;
  pixels: PixelTensor;
  decide: GalleryDecision;
  /** The decision's margin from the distances to the gallery (> 0: the attack wins), what Square ascends on a peer. */
  margin: (distances: readonly number[]) => number;
  /** What the attack pushes the query away from (correct) and towards (wrong), in the encoder's embedding space. */
  targets: (query: Float32Array, gallery: Float32Array[]) => { correct: Float32Array; wrong: Float32Array };
}

export interface TaskResult {
  /** Encoders: under PGD; peers: under Square. */
  scores: Record<string, TaskScore>;
  /** Peers scored on the encoders' adversarial images. */
  transfer: Record<string, TaskScore>;
  /** Encoders under Square (black-box), on the first `squareEncoders` attacked items. */
  square: Record<string, TaskScore>;
  /** Seconds each metric took on the task (attacks included for the encoders, transfer scoring for the peers). */
  seconds: Record<string, number>;
  /** Per-item scores (clean; robust for attacked items), per metric: for breakdowns and checks. */
  items: Record<string, { clean: number[]; robust: number[] }>;
}

type Adversarials = Map<string, PixelTensor[]>;

/** Gallery items a peer's Square oracle compares with (see runGallery). */
export const SQUARE_SHORTLIST = 12;

const attackSeed = (opts: RunOptions, encoder: string, id: string) => ({ ...opts.attack.byEncoder[encoder], seed: hashSeed(`${opts.seed}|${id}|attack`) });

/** Square on one item's pixels (any size) for one metric: whether the oracle ever called a point a success, and the point kept. */
async function squareItem(opts: RunOptions, id: string, metric: string, pixels: PixelTensor, oracle: (x: PixelTensor) => Promise<SquareEvaluation>): Promise<{ succeeded: boolean; adversarial: PixelTensor }> {
  if (!opts.square) throw new Error('Square runs only in an L∞ pass (blackBox)');
  const settings = { ...opts.square, seed: hashSeed(`${opts.seed}|${id}|square|${metric}`) };
  const shape = { channels: 3, height: pixels.size, width: pixels.size };
  const r = await runSquareAttack(pixels.data, shape, settings, (data) => oracle({ size: pixels.size, data }));
  return { succeeded: r.succeeded, adversarial: { size: pixels.size, data: r.adversarial } };
}

/** How a peer's attacked items were scored, for the log. */
const howAttacked = (opts: RunOptions, adversarials: Adversarials) => [opts.blackBox && 'by Square', adversarials.size && 'by transfer'].filter(Boolean).join(' and ') || '(no encoder to transfer from)';

/** The distance Square moves on the perturbed side: the metric's own, or its soft version where it has one (pHash). */
const attackDistance = <F>(m: SuiteMetric<F>) => m.attackDistance ?? m.distance;

/** Per-item scores of one metric: clean, under its attack, and (for the other column) transfer or Square. */
interface ItemScores {
  clean: number[];
  robust: number[];
  other: number[];
}

/** Each item's cluster key, for the intervals (src/core/suite.ts taskScore). */
async function finish(metrics: readonly SuiteMetric[], clusters: readonly string[], opts: RunOptions, perMetric: (m: SuiteMetric) => Promise<ItemScores>): Promise<TaskResult> {
  const result: TaskResult = { scores: {}, transfer: {}, square: {}, seconds: {}, items: {} };
  for (const m of metrics) {
    const t0 = performance.now();
    const { clean, robust, other } = await perMetric(m);
    result.seconds[m.id] = +((performance.now() - t0) / 1000).toFixed(1);
    result.items[m.id] = { clean, robust };
    // Without Square in this pass a peer's robust score is its transfer score (flagged as such).
    result.scores[m.id] = taskScore(clean, robust, m.kind === 'peer' && !opts.blackBox, clusters, opts.seed);
    if (m.kind === 'peer') result.transfer[m.id] = taskScore(clean, other, true, clusters, opts.seed);
    else result.square[m.id] = taskScore(clean, other, false, clusters, opts.seed);
  }
  return result;
}

const merge = (a: TaskResult, b: TaskResult): TaskResult => ({
  scores: { ...a.scores, ...b.scores },
  transfer: { ...a.transfer, ...b.transfer },
  square: { ...a.square, ...b.square },
  seconds: { ...a.seconds, ...b.seconds },
  items: { ...a.items, ...b.items },
});

export async function runTriplets(items: readonly TripletItem[], encoders: readonly SuiteEncoder[], peers: readonly SuiteMetric[], opts: RunOptions): Promise<TaskResult> {
  const attacked = Math.min(opts.attacked, items.length);
  const adversarials: Adversarials = new Map();
  const clusters = items.map((item) => item.cluster ?? item.id);
  const encoderResult = await finish(encoders, clusters, opts, async (m) => {
    const enc = m as SuiteEncoder;
    const clean: number[] = [];
    const robust: number[] = [];
    const square: number[] = [];
    const advs: PixelTensor[] = [];
    for (const [i, item] of items.entries()) {
      const [r, c, w] = await enc.features([item.ref, item.correct, item.wrong]);
      clean.push(tripletScore(cosineDistance(r, c), cosineDistance(r, w)));
      if (i >= attacked) continue;
      const ref = modelInput(item.ref, enc.model.input);
      const a = await attackMargin(enc.model, ref.data, c, w, attackSeed(opts, enc.id, item.id));
      robust.push(Math.min(...a.margins.map((margin) => tripletScore(margin, 0))));
      advs.push({ size: ref.size, data: a.iterates[a.best] });
      if (!opts.blackBox || i >= opts.squareEncoders) continue;
      const sq = await squareItem(opts, item.id, enc.id, ref, async (x) => {
        const [e] = await enc.model.embed([x]);
        const margin = cosineDistance(e, c) - cosineDistance(e, w);
        return { score: margin, success: margin >= 0 };
      });
      square.push(sq.succeeded ? 0 : 1);
    }
    adversarials.set(enc.id, advs);
    opts.log(`    ${enc.id}: ${items.length} items, ${attacked} attacked (${opts.attack.label}), ${square.length} by Square`);
    return { clean, robust, other: square };
  });
  const peerResult = await finish(peers, clusters, opts, async (peer) => {
    const clean: number[] = [];
    const robust: number[] = [];
    const transfer: number[] = [];
    const soft = attackDistance(peer);
    for (const [i, item] of items.entries()) {
      const [r, c, w] = await peer.features([item.ref, item.correct, item.wrong]);
      clean.push(tripletScore(peer.distance(r, c), peer.distance(r, w)));
      if (i >= attacked) continue;
      let worst = 1;
      for (const advs of adversarials.values()) {
        const [ra] = await peer.features([advs[i]]);
        worst = Math.min(worst, tripletScore(peer.distance(ra, c), peer.distance(ra, w)));
      }
      // No encoder in this run (--metrics): no adversarial images, so no transfer figure (not a perfect one).
      if (adversarials.size) transfer.push(worst);
      if (!opts.blackBox) {
        if (adversarials.size) robust.push(worst);
        continue;
      }
      const sq = await squareItem(opts, item.id, peer.id, item.ref, async (x) => {
        const [f] = await peer.features([x]);
        return { score: soft(f, c) - soft(f, w), success: peer.distance(f, c) >= peer.distance(f, w) };
      });
      robust.push(sq.succeeded ? 0 : 1);
    }
    opts.log(`    ${peer.id}: ${items.length} items, ${attacked} attacked ${howAttacked(opts, adversarials)}`);
    return { clean, robust, other: transfer };
  });
  return merge(encoderResult, peerResult);
}

export async function runGallery(gallery: readonly PixelTensor[], queries: readonly GalleryQuery[], encoders: readonly SuiteEncoder[], peers: readonly SuiteMetric[], opts: RunOptions): Promise<TaskResult> {
  const attacked = Math.min(opts.attacked, queries.length);
  const adversarials: Adversarials = new Map();
  const against = <F>(m: SuiteMetric<F>, q: F, g: F[]) => g.map((x) => m.distance(q, x));
  // One query per gallery photo: independent items, each its own cluster (Wilson).
  const clusters = queries.map((q) => q.id);
  const encoderResult = await finish(encoders, clusters, opts, async (m) => {
    const enc = m as SuiteEncoder;
    const g = await enc.features(gallery);
    const q = await enc.features(queries.map((x) => x.pixels));
    const clean: number[] = [];
    const robust: number[] = [];
    const square: number[] = [];
    const advs: PixelTensor[] = [];
    for (const [i, query] of queries.entries()) {
      clean.push(query.decide(against(enc, q[i], g)) ? 1 : 0);
      if (i >= attacked) continue;
      const { correct, wrong } = query.targets(q[i], g);
      const input = modelInput(query.pixels, enc.model.input);
      const a = await attackMargin(enc.model, input.data, correct, wrong, attackSeed(opts, enc.id, query.id));
      const iterates = await enc.model.embed(a.iterates.map((data) => ({ size: input.size, data })));
      robust.push(iterates.every((e) => query.decide(against(enc, e, g))) ? 1 : 0);
      advs.push({ size: input.size, data: a.iterates[a.best] });
      if (!opts.blackBox || i >= opts.squareEncoders) continue;
      // The margin PGD ascends, from embeddings alone; the verdict is the task's decision on the whole gallery.
      const sq = await squareItem(opts, query.id, enc.id, input, async (x) => {
        const [e] = await enc.model.embed([x]);
        return { score: cosineDistance(e, correct) - cosineDistance(e, wrong), success: !query.decide(against(enc, e, g)) };
      });
      square.push(sq.succeeded ? 0 : 1);
    }
    adversarials.set(enc.id, advs);
    opts.log(`    ${enc.id}: ${queries.length} queries against ${gallery.length}, ${attacked} attacked (${opts.attack.label}), ${square.length} by Square`);
    return { clean, robust, other: square };
  });
  const peerResult = await finish(peers, clusters, opts, async (peer) => {
    const g = await peer.features(gallery);
    const q = await peer.features(queries.map((x) => x.pixels));
    const clean: number[] = [];
    const robust: number[] = [];
    const transfer: number[] = [];
    const soft = attackDistance(peer);
    for (const [i, query] of queries.entries()) {
      const cleanDistances = against(peer, q[i], g);
      clean.push(query.decide(cleanDistances) ? 1 : 0);
      if (i >= attacked) continue;
      let ok = true;
      for (const advs of adversarials.values()) {
        const [qa] = await peer.features([advs[i]]);
        ok &&= query.decide(against(peer, qa, g));
      }
      if (adversarials.size) transfer.push(ok ? 1 : 0);
      if (!opts.blackBox) {
        if (adversarials.size) robust.push(ok ? 1 : 0);
        continue;
      }
      // Each query compares with the SQUARE_SHORTLIST gallery items nearest the clean query (the rest count
      // as far): a peer's distance is costly (SSIM ~2 ms), and a perturbation within ε rarely reorders the far end.
      // The verdict is then taken on the whole gallery.
      const shortlist = ranked(cleanDistances).slice(0, SQUARE_SHORTLIST);
      const over = (f: unknown, distance: (a: unknown, b: unknown) => number) => {
        const d = new Array<number>(g.length).fill(Infinity);
        for (const j of shortlist) d[j] = distance(f, g[j]);
        return d;
      };
      const sq = await squareItem(opts, query.id, peer.id, query.pixels, async (x) => {
        const [f] = await peer.features([x]);
        return { score: query.margin(over(f, soft)), success: !query.decide(over(f, peer.distance)) };
      });
      const [kept] = await peer.features([sq.adversarial]);
      robust.push(query.decide(against(peer, kept, g)) ? 1 : 0);
    }
    opts.log(`    ${peer.id}: ${queries.length} queries against ${gallery.length}, ${attacked} attacked ${howAttacked(opts, adversarials)}`);
    return { clean, robust, other: transfer };
  });
  return merge(encoderResult, peerResult);
}

/** Median milliseconds per image pair: features of both images + the distance (decoding excluded, images already at WORK_SIZE). */
export async function msPerPair(metric: SuiteMetric, pairs: ReadonlyArray<[PixelTensor, PixelTensor]>): Promise<number> {
  const [a0, b0] = pairs[0];
  const [fa0, fb0] = await metric.features([a0, b0]);
  metric.distance(fa0, fb0);
  const times: number[] = [];
  for (const [a, b] of pairs) {
    const t0 = performance.now();
    const [fa, fb] = await metric.features([a, b]);
    metric.distance(fa, fb);
    times.push(performance.now() - t0);
  }
  times.sort((x, y) => x - y);
  return times[Math.floor(times.length / 2)];
}
