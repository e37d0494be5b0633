/**
 * Square Attack (Andriushchenko, Croce, Flammarion, Hein, ECCV 2020), L∞, score-based: it needs
 * only a scalar score of a perturbed image, so it attacks metrics without a gradient (pHash, SSIM,
 * pixelmatch) and, run on an encoder, checks for gradient masking (a black-box attack that beats the
 * white-box one means the gradient lies).
 *
 * Follows fra31/auto-attack's `autoattack/square.py` (`attack_single_run`, norm 'Linf', one image):
 * vertical-stripe start (±ε per channel and column), square side from p(i) (p_init halved at the
 * reference's query counts 10, 50, 200, 500, 1000, 2000, 4000, 6000, 8000 of 10,000, rescaled to the
 * budget), a random square set to ±ε per channel (the reference adds ±2ε and clips into the ball:
 * the same), kept when the score improves or the caller's success condition holds. Deviations, each
 * marked where it happens: the score is maximised (the reference minimises a margin), the square's
 * corner may also be the last position, and a no-op square is redrawn without spending a query.
 *
 * Images are CHW float pixels in [0,1], of any size. Pure TypeScript: the worker and Node run it.
 */
import { RclipError } from './errors';
import { seededRandom } from './random';

export interface SquareSettings {
  /** L∞ radius in [0,1] pixel units (4/255 ≈ 0.0157). */
  eps: number;
  /** Query budget: score evaluations, the starting point included. */
  queries: number;
  /** Share of the image the first squares cover (the reference's p_init, 0.8 for L∞ in AutoAttack). */
  pInit: number;
  seed: number;
}

export interface ImageShape {
  channels: number;
  height: number;
  width: number;
}

/** The caller's verdict on one perturbed image: the score to maximise and, optionally, whether the attack has already won. */
export interface SquareEvaluation {
  score: number;
  success?: boolean;
}

export type SquareOracle = (pixels: Float32Array) => SquareEvaluation | Promise<SquareEvaluation>;

export interface SquareProgress {
  /** Queries spent so far (1 = the starting point). */
  query: number;
  budget: number;
  /** This query's score and the kept point's. */
  score: number;
  best: number;
  accepted: boolean;
  /** Side of this query's square in pixels (0 for the starting point). */
  side: number;
}

export interface SquareResult {
  /** The best point found (the one kept), CHW. */
  adversarial: Float32Array;
  score: number;
  /** Queries spent: `budget`, or fewer when the success condition stopped the attack. */
  queries: number;
  succeeded: boolean;
  /** Squares kept (the starting point not counted). */
  accepted: number;
  /** The kept point's score after each query (index 0: the starting point); it only rises, except at a success, which is kept whatever its score. */
  trace: number[];
}

/** AutoAttack's Square settings for L∞: p_init 0.8; 1,000 queries is this project's default budget (AutoAttack's standard run uses 5,000). */
export const SQUARE_DEFAULTS = { queries: 1000, pInit: 0.8 } as const;
export const MAX_SQUARE_QUERIES = 100_000;

export function squareSettings(eps: number, queries: number = SQUARE_DEFAULTS.queries, seed = 0, pInit: number = SQUARE_DEFAULTS.pInit): SquareSettings {
  return { eps, queries, pInit, seed };
}

export function validateSquareSettings(s: SquareSettings, shape: ImageShape, pixelCount: number): void {
  const bad = (message: string): never => {
    throw new RclipError('INVALID_ARGUMENT', message);
  };
  if (!Number.isFinite(s.eps) || s.eps <= 0 || s.eps > 1) bad(`eps must be a number in (0, 1] (got ${s.eps}): pixels live in [0,1].`);
  if (!Number.isInteger(s.queries) || s.queries < 1 || s.queries > MAX_SQUARE_QUERIES) bad(`queries must be a whole number from 1 to ${MAX_SQUARE_QUERIES} (got ${s.queries}).`);
  if (!Number.isFinite(s.pInit) || s.pInit <= 0 || s.pInit > 1) bad(`pInit must be a number in (0, 1] (got ${s.pInit}).`);
  if (!Number.isInteger(s.seed)) bad(`seed must be a whole number (got ${s.seed}).`);
  const { channels, height, width } = shape;
  if (![channels, height, width].every((v) => Number.isInteger(v) && v >= 1)) bad(`the image shape must be whole positive numbers (got ${channels}×${height}×${width}).`);
  if (channels * height * width !== pixelCount) bad(`the image has ${pixelCount} values, not channels×height×width = ${channels}×${height}×${width}.`);
}

/**
 * p(i), the share of the image a square covers at query i of `iterations` (the reference's
 * p_selection with resc_schedule: i is first rescaled to a budget of 10,000).
 */
export function squareShare(i: number, iterations: number, pInit: number): number {
  const it = Math.trunc((i / iterations) * 10000);
  const halvings = [10, 50, 200, 500, 1000, 2000, 4000, 6000, 8000].filter((q) => it > q).length;
  return pInit / 2 ** halvings;
}

/** The side of the square at share p: round(√(p·h·w)), at least 1, at most the shorter side. */
export function squareSide(p: number, height: number, width: number): number {
  return Math.min(Math.max(Math.round(Math.sqrt(p * height * width)), 1), Math.min(height, width));
}

export interface SquareHooks {
  onQuery?: (p: SquareProgress) => void;
  /** Called before every query; may throw to cancel, or return a promise (a caller that must yield to its event loop). */
  checkCancelled?: () => void | Promise<void>;
}

/**
 * Maximises `oracle(x).score` over {x : ‖x − clean‖∞ ≤ eps, 0 ≤ x ≤ 1} within `settings.queries`
 * score evaluations; stops early at the first point the oracle calls a success (that point is kept,
 * as the reference keeps a misclassified point whatever its loss). Seeded: the same seed, image and
 * oracle give the same result.
 */
export async function runSquareAttack(
  clean: Float32Array,
  shape: ImageShape,
  settings: SquareSettings,
  oracle: SquareOracle,
  hooks: SquareHooks = {},
): Promise<SquareResult> {
  validateSquareSettings(settings, shape, clean.length);
  const { eps, queries: budget, pInit } = settings;
  const { channels, height, width } = shape;
  const plane = height * width;
  const random = seededRandom(settings.seed);
  const sign = () => (random() < 0.5 ? -1 : 1);
  const lo = new Float32Array(clean.length);
  const hi = new Float32Array(clean.length);
  for (let i = 0; i < clean.length; i++) {
    lo[i] = Math.max(0, clean[i] - eps);
    hi[i] = Math.min(1, clean[i] + eps);
  }
  // ±eps clipped into the box is exactly the corner of the intersection of ball and box.
  const corner = (i: number, s: number) => (s > 0 ? hi[i] : lo[i]);

  // The start: vertical stripes, one sign per channel and column.
  const x = new Float32Array(clean.length);
  for (let c = 0; c < channels; c++) {
    for (let col = 0; col < width; col++) {
      const s = sign();
      for (let row = 0; row < height; row++) {
        const i = c * plane + row * width + col;
        x[i] = corner(i, s);
      }
    }
  }
  await hooks.checkCancelled?.();
  const first = await oracle(x);
  let best = first.score;
  let succeeded = Boolean(first.success);
  let accepted = 0;
  const trace = [best];
  hooks.onQuery?.({ query: 1, budget, score: best, best, accepted: true, side: 0 });

  const iterations = budget - 1;
  const saved = new Float32Array(channels * Math.min(height, width) ** 2);
  const signs = new Array<number>(channels);
  let query = 1;
  for (let i = 0; i < iterations && !succeeded; i++) {
    await hooks.checkCancelled?.();
    const side = squareSide(squareShare(i, iterations, pInit), height, width);
    // Deviation: the reference draws the corner in [0, h − s), never at h − s; every position is allowed here.
    const top = Math.floor(random() * (height - side + 1));
    const left = Math.floor(random() * (width - side + 1));
    // Deviation (from AutoAttack, as the paper's own code does): signs that would leave the window
    // unchanged are redrawn instead of spending a query on the same image. Two draws at most are
    // needed in practice; the cap only guards against a window the box pins on both sides.
    for (let draw = 0; draw < 100; draw++) {
      for (let c = 0; c < channels; c++) signs[c] = sign();
      if (windowChanges(x, top, left, side, signs)) break;
    }
    let k = 0;
    for (let c = 0; c < channels; c++) {
      for (let row = top; row < top + side; row++) {
        for (let col = left; col < left + side; col++) {
          const p = c * plane + row * width + col;
          saved[k++] = x[p];
          x[p] = corner(p, signs[c]);
        }
      }
    }
    const out = await oracle(x);
    query++;
    // Deviation: the reference minimises a margin (loss < best); the caller's score is maximised here.
    const keep = out.score > best || Boolean(out.success);
    if (keep) {
      best = out.score;
      succeeded = Boolean(out.success);
      accepted++;
    } else {
      k = 0;
      for (let c = 0; c < channels; c++) {
        for (let row = top; row < top + side; row++) for (let col = left; col < left + side; col++) x[c * plane + row * width + col] = saved[k++];
      }
    }
    trace.push(best);
    hooks.onQuery?.({ query, budget, score: out.score, best, accepted: keep, side });
  }
  return { adversarial: x, score: best, queries: query, succeeded, accepted, trace };

  function windowChanges(pixels: Float32Array, top: number, left: number, side: number, s: number[]): boolean {
    for (let c = 0; c < channels; c++) {
      for (let row = top; row < top + side; row++) {
        for (let col = left; col < left + side; col++) {
          const p = c * plane + row * width + col;
          if (pixels[p] !== corner(p, s[c])) return true;
        }
      }
    }
    return false;
  }
}
