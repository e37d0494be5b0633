/**
 * The suite's two task shapes, run for every metric on the same items:
 * - triplets (semantic 2AFC, distortion 2AFC): is the reference closer to the right image?
 * - gallery (k-NN, copy retrieval): is the decision from the distances to a gallery right?
 * Encoders are attacked with the core's PGD on the margin objective (src/core/suite.ts); every
 * iterate must keep the decision right. Peers cannot be attacked (no gradient): they are scored on
 * each encoder's adversarial image (its best iterate) and must be right on all of them (transfer).
 */
import type { AttackSettings } from '../../src/core/attack';
import { cosineDistance } from '../../src/core/distance';
import type { PixelTensor } from '../../src/core/preprocess';
import { hashSeed } from '../../src/core/random';
import { attackMargin, taskScore, type GalleryDecision, type TaskScore } from '../../src/core/suite';
import { modelInput, tripletScore } from '../../src/core/twoafc';
import type { SuiteEncoder, SuiteMetric } from './metrics';

export interface RunOptions {
  seed: number;
  /** The first `attacked` items are attacked (all of them with the encoders, by transfer for peers). */
  attacked: number;
  attack: AttackSettings;
  log: (line: string) => void;
}

export interface TripletItem {
  id: string;
  /** The distortion kind, for the per-kind breakdown. */
  kind?: string;
  ref: PixelTensor;
  correct: PixelTensor;
  wrong: PixelTensor;
}

export interface GalleryQuery {
  id: string;
  pixels: PixelTensor;
  decide: GalleryDecision;
  /** What the attack pushes the query away from (correct) and towards (wrong), in the encoder's embedding space. */
  targets: (query: Float32Array, gallery: Float32Array[]) => { correct: Float32Array; wrong: Float32Array };
}

export interface TaskResult {
  scores: Record<string, TaskScore>;
  /** Seconds each metric took on the task (attacks included for the encoders, transfer scoring for the peers). */
  seconds: Record<string, number>;
  /** Per-item scores (clean; robust for attacked items), per metric: for breakdowns and checks. */
  items: Record<string, { clean: number[]; robust: number[] }>;
}

type Adversarials = Map<string, PixelTensor[]>;

const attackSeed = (opts: RunOptions, id: string) => ({ ...opts.attack, seed: hashSeed(`${opts.seed}|${id}|attack`) });

async function finish(metrics: readonly SuiteMetric[], perMetric: (m: SuiteMetric) => Promise<{ clean: number[]; robust: number[] }>): Promise<TaskResult> {
  const result: TaskResult = { scores: {}, seconds: {}, items: {} };
  for (const m of metrics) {
    const t0 = performance.now();
    const r = await perMetric(m);
    result.seconds[m.id] = +((performance.now() - t0) / 1000).toFixed(1);
    result.items[m.id] = r;
    result.scores[m.id] = taskScore(r.clean, r.robust, m.kind === 'peer');
  }
  return result;
}

const merge = (a: TaskResult, b: TaskResult): TaskResult => ({ scores: { ...a.scores, ...b.scores }, seconds: { ...a.seconds, ...b.seconds }, items: { ...a.items, ...b.items } });

export async function runTriplets(items: readonly TripletItem[], encoders: readonly SuiteEncoder[], peers: readonly SuiteMetric[], opts: RunOptions): Promise<TaskResult> {
  const attacked = Math.min(opts.attacked, items.length);
  const adversarials: Adversarials = new Map();
  const encoderResult = await finish(encoders, async (m) => {
    const enc = m as SuiteEncoder;
    const clean: number[] = [];
    const robust: number[] = [];
    const advs: PixelTensor[] = [];
    for (const [i, item] of items.entries()) {
      const [r, c, w] = await enc.features([item.ref, item.correct, item.wrong]);
      clean.push(tripletScore(cosineDistance(r, c), cosineDistance(r, w)));
      if (i >= attacked) continue;
      const ref = modelInput(item.ref, enc.model.input);
      const a = await attackMargin(enc.model, ref.data, c, w, attackSeed(opts, item.id));
      robust.push(Math.min(...a.margins.map((margin) => tripletScore(margin, 0))));
      advs.push({ size: ref.size, data: a.iterates[a.best] });
    }
    adversarials.set(enc.id, advs);
    opts.log(`    ${enc.id}: ${items.length} items, ${attacked} attacked`);
    return { clean, robust };
  });
  const peerResult = await finish(peers, async (peer) => {
    const clean: number[] = [];
    const robust: number[] = [];
    for (const [i, item] of items.entries()) {
      const [r, c, w] = await peer.features([item.ref, item.correct, item.wrong]);
      clean.push(tripletScore(peer.distance(r, c), peer.distance(r, w)));
      if (i >= attacked) continue;
      let worst = 1;
      for (const advs of adversarials.values()) {
        const [ra] = await peer.features([advs[i]]);
        worst = Math.min(worst, tripletScore(peer.distance(ra, c), peer.distance(ra, w)));
      }
      robust.push(worst);
    }
    opts.log(`    ${peer.id}: ${items.length} items, ${attacked} by transfer`);
    return { clean, robust };
  });
  return merge(encoderResult, peerResult);
}

export async function runGallery(gallery: readonly PixelTensor[], queries: readonly GalleryQuery[], encoders: readonly SuiteEncoder[], peers: readonly SuiteMetric[], opts: RunOptions): Promise<TaskResult> {
  const attacked = Math.min(opts.attacked, queries.length);
  const adversarials: Adversarials = new Map();
  const against = <F>(m: SuiteMetric<F>, q: F, g: F[]) => g.map((x) => m.distance(q, x));
  const encoderResult = await finish(encoders, async (m) => {
    const enc = m as SuiteEncoder;
    const g = await enc.features(gallery);
    const q = await enc.features(queries.map((x) => x.pixels));
    const clean: number[] = [];
    const robust: number[] = [];
    const advs: PixelTensor[] = [];
    for (const [i, query] of queries.entries()) {
      clean.push(query.decide(against(enc, q[i], g)) ? 1 : 0);
      if (i >= attacked) continue;
      const { correct, wrong } = query.targets(q[i], g);
      const input = modelInput(query.pixels, enc.model.input);
      const a = await attackMargin(enc.model, input.data, correct, wrong, attackSeed(opts, query.id));
      const iterates = await enc.model.embed(a.iterates.map((data) => ({ size: input.size, data })));
      robust.push(iterates.every((e) => query.decide(against(enc, e, g))) ? 1 : 0);
      advs.push({ size: input.size, data: a.iterates[a.best] });
    }
    adversarials.set(enc.id, advs);
    opts.log(`    ${enc.id}: ${queries.length} queries against ${gallery.length}, ${attacked} attacked`);
    return { clean, robust };
  });
  const peerResult = await finish(peers, async (peer) => {
    const g = await peer.features(gallery);
    const q = await peer.features(queries.map((x) => x.pixels));
    const clean: number[] = [];
    const robust: number[] = [];
    for (const [i, query] of queries.entries()) {
      clean.push(query.decide(against(peer, q[i], g)) ? 1 : 0);
      if (i >= attacked) continue;
      let ok = true;
      for (const advs of adversarials.values()) {
        const [qa] = await peer.features([advs[i]]);
        ok &&= query.decide(against(peer, qa, g));
      }
      robust.push(ok ? 1 : 0);
    }
    opts.log(`    ${peer.id}: ${queries.length} queries against ${gallery.length}, ${attacked} by transfer`);
    return { clean, robust };
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
