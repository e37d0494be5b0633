/**
 * A minimal DCT perceptual hash (pHash), the kind of filter web moderation/dedupe uses today: the
 * centre square (the view the encoders see), grey, area-averaged to 32×32, 2-D DCT-II, the 8×8
 * lowest frequencies without DC, each bit = coefficient > their median. 64 bits; distance = Hamming.
 * Pure maths (no DOM); the page's blocklist panel, the suite and bench/evasion.ts all use this one,
 * and evadePhash attacks it with Square (score-based: the hash has no gradient).
 */
import { RclipError } from './errors';
import { chwToRgba, rgbaToChw, type RgbaImage } from './preprocess';
import { runSquareAttack, type SquareHooks, type SquareOracle, type SquareSettings } from './square';

export const PHASH_BITS = 64;
/** A common match threshold: at most 10 of 64 bits differ. */
export const PHASH_MATCH_BITS = 10;

const N = 32;

/** The centre square phash reads (the view the encoders see): its corner and side. */
export function centreSquare(width: number, height: number): { x0: number; y0: number; side: number } {
  const side = Math.min(width, height);
  return { x0: Math.floor((width - side) / 2), y0: Math.floor((height - side) / 2), side };
}

/** Grey of the centre square, area-averaged to 32×32, from `luma`, the image's grey (0..255) row-major. */
function greySquare(width: number, height: number, luma: Float64Array): Float64Array {
  const { x0, y0, side } = centreSquare(width, height);
  const cell = Int32Array.from({ length: side }, (_, t) => Math.min(N - 1, Math.floor((t * N) / side)));
  const sum = new Float64Array(N * N);
  const count = new Float64Array(N * N);
  for (let y = 0; y < side; y++) {
    const row = cell[y] * N;
    const p0 = (y0 + y) * width + x0;
    for (let x = 0; x < side; x++) {
      sum[row + cell[x]] += luma[p0 + x];
      count[row + cell[x]] += 1;
    }
  }
  for (let i = 0; i < sum.length; i++) sum[i] = count[i] ? sum[i] / count[i] : 0;
  return sum;
}

/** BT.601 luma of RGBA bytes, alpha composited on white. */
function rgbaLuma(image: RgbaImage): Float64Array {
  const d = image.data;
  const out = new Float64Array(image.width * image.height);
  for (let p = 0; p < out.length; p++) {
    const i = p * 4;
    const a = d[i + 3] / 255;
    out[p] = (0.299 * d[i] + 0.587 * d[i + 1] + 0.114 * d[i + 2]) * a + 255 * (1 - a);
  }
  return out;
}

/**
 * The same luma of opaque CHW pixels in [0,1], each rounded to 8 bits first (as chwToRgba does:
 * floor(v·255 + 0.5) is Math.round for v ≥ 0), without building the RGBA copy. Only the rows of the
 * centre square are filled: a query's worth of time (a score-based attack calls it per query).
 */
function chwLuma(data: Float32Array, width: number, height: number): Float64Array {
  const plane = width * height;
  const out = new Float64Array(plane);
  const { x0, y0, side } = centreSquare(width, height);
  for (let y = y0; y < y0 + side; y++) {
    for (let p = y * width + x0, end = p + side; p < end; p++) {
      out[p] = 0.299 * Math.floor(data[p] * 255 + 0.5) + 0.587 * Math.floor(data[plane + p] * 255 + 0.5) + 0.114 * Math.floor(data[2 * plane + p] * 255 + 0.5);
    }
  }
  return out;
}

const COS = (() => {
  const c = new Float64Array(8 * N);
  for (let u = 0; u < 8; u++) for (let x = 0; x < N; x++) c[u * N + x] = Math.cos(((2 * x + 1) * u * Math.PI) / (2 * N));
  return c;
})();

/**
 * The 64 coefficients' distances from the median the bits are cut at (bit k set ⇔ margin k > 0), and
 * their spread (mean |margin| over the 63 AC coefficients): what a score-based attack needs to see
 * a bit approach its flip before it flips.
 */
export interface PhashFeatures {
  hash: string;
  margins: Float64Array;
  spread: number;
}

export function phashFeatures(image: RgbaImage): PhashFeatures {
  return featuresOfGrey(greySquare(image.width, image.height, rgbaLuma(image)));
}

/** phashFeatures of CHW pixels in [0,1] rounded to 8 bits: equal to phashFeatures(chwToRgba(data, width, height)), a query's worth faster. */
export function phashFeaturesOfPixels(data: Float32Array, width: number, height: number): PhashFeatures {
  return featuresOfGrey(greySquare(width, height, chwLuma(data, width, height)));
}

function featuresOfGrey(g: Float64Array): PhashFeatures {
  // Only the 8×8 lowest frequencies are needed: two separable passes over 8 of the 32 rows/columns.
  const rows = new Float64Array(N * 8);
  for (let y = 0; y < N; y++) for (let u = 0; u < 8; u++) {
    let s = 0;
    for (let x = 0; x < N; x++) s += g[y * N + x] * COS[u * N + x];
    rows[y * 8 + u] = s;
  }
  const coeffs = new Float64Array(PHASH_BITS);
  for (let v = 0; v < 8; v++) for (let u = 0; u < 8; u++) {
    let s = 0;
    for (let y = 0; y < N; y++) s += rows[y * 8 + u] * COS[v * N + y];
    coeffs[v * 8 + u] = s;
  }
  const ac = coeffs.slice(1);
  const median = [...ac].sort((a, b) => a - b)[Math.floor(ac.length / 2)];
  const margins = coeffs.map((c) => c - median);
  let spread = 0;
  for (let k = 1; k < PHASH_BITS; k++) spread += Math.abs(margins[k]) / (PHASH_BITS - 1);
  let hash = '';
  for (let nibble = 0; nibble < 16; nibble++) {
    let v = 0;
    for (let b = 0; b < 4; b++) v = (v << 1) | (margins[nibble * 4 + b] > 0 ? 1 : 0);
    hash += v.toString(16);
  }
  return { hash, margins, spread };
}

/** The 64-bit hash as 16 hex digits. */
export function phash(image: RgbaImage): string {
  return phashFeatures(image).hash;
}

/**
 * How soft the attack's Hamming distance is, as a share of the spread: a bit whose margin is this
 * far from its flip counts σ(−1) ≈ 0.27, one at the flip 0.5. Scratch runs (6 evaluation photos at
 * 128 px, 8/255, 1,000 queries) evaded 3 of 6 with 0.1 and 0.3, 2 of 6 with 0.01 and 0.03, and
 * 1-3 of 6 with a top-11 hinge on the margins instead; the plain Hamming distance (a plateau for
 * Square) evaded none of 8 full-size photos at 4/255 where the soft one evaded some. Differences
 * between the soft variants are within seed noise; 0.1 is kept.
 */
export const PHASH_SOFTNESS = 0.1;

/**
 * A continuous Hamming distance from `features` to a reference hash: Σ_k σ(−agreement_k), where
 * agreement_k is bit k's margin, signed + when it agrees with the reference, in units of
 * PHASH_SOFTNESS·spread. As the softness goes to 0 it becomes the Hamming distance; unlike it, it
 * moves when a square pushes a bit towards its flip, so a score-based attack is not left on a plateau.
 */
export function phashSoftDistance(features: PhashFeatures, reference: string): number {
  const scale = PHASH_SOFTNESS * (features.spread || 1);
  let d = 0;
  for (let k = 0; k < PHASH_BITS; k++) {
    const bit = (parseInt(reference[k >> 2], 16) >> (3 - (k & 3))) & 1;
    const agreement = (bit ? features.margins[k] : -features.margins[k]) / scale;
    d += 1 / (1 + Math.exp(agreement));
  }
  return d;
}

/** Number of differing bits between two hashes from phash(). */
export function hammingDistance(a: string, b: string): number {
  let d = 0;
  for (let i = 0; i < a.length; i++) {
    let x = parseInt(a[i], 16) ^ parseInt(b[i], 16);
    while (x) {
      d += x & 1;
      x >>= 1;
    }
  }
  return d;
}

/** The fewest differing bits from `hash` to any listed hash, and which one (−1: empty list). */
export function nearestHash(hash: string, listed: readonly string[]): { index: number; bits: number } {
  let best = { index: -1, bits: Infinity };
  listed.forEach((h, index) => {
    const bits = hammingDistance(hash, h);
    if (bits < best.bits) best = { index, bits };
  });
  return best;
}

/**
 * Square's oracle for slipping past a pHash blocklist: the score is the soft distance to the nearest
 * listed hash (maximised), success is no listed hash within PHASH_MATCH_BITS. The pixels are
 * rounded to 8 bits first, so the verdict is the one an upload of them as a PNG would get.
 */
export function phashEvasionOracle(listed: readonly string[], width: number, height: number): SquareOracle {
  return (pixels) => {
    const features = phashFeaturesOfPixels(pixels, width, height);
    let score = Infinity;
    for (const h of listed) score = Math.min(score, phashSoftDistance(features, h));
    return { score, success: nearestHash(features.hash, listed).bits > PHASH_MATCH_BITS };
  };
}

export interface PhashEvasion {
  /** The copy as 8-bit RGBA, the upload's size (alpha composited on white). */
  adversarial: RgbaImage;
  /** Differing bits to the nearest listed hash, before and after. */
  before: { index: number; bits: number };
  after: { index: number; bits: number };
  evaded: boolean;
  queries: number;
  accepted: number;
}

/**
 * Square Attack (L∞) on `image` against the pHash of every listed image. Only the centre square
 * is attacked (the hash reads nothing else, so a square outside it would spend a query on nothing);
 * the rest of the image is left as it was.
 */
export async function evadePhash(
  image: RgbaImage,
  listed: readonly string[],
  settings: SquareSettings,
  hooks: SquareHooks = {},
): Promise<PhashEvasion> {
  if (listed.length === 0) throw new RclipError('INVALID_ARGUMENT', 'The blocklist is empty: there is no listed hash to evade.');
  const { width, height } = image;
  const full = rgbaToChw(image);
  const { x0, y0, side } = centreSquare(width, height);
  const crop = new Float32Array(3 * side * side);
  const copy = (toCrop: boolean) => {
    for (let c = 0; c < 3; c++) {
      for (let y = 0; y < side; y++) {
        const f = c * width * height + (y0 + y) * width + x0;
        const k = c * side * side + y * side;
        if (toCrop) crop.set(full.subarray(f, f + side), k);
        else full.set(crop.subarray(k, k + side), f);
      }
    }
  };
  copy(true);
  const before = nearestHash(phashFeaturesOfPixels(full, width, height).hash, listed);
  const result = await runSquareAttack(crop, { channels: 3, height: side, width: side }, settings, phashEvasionOracle(listed, side, side), hooks);
  crop.set(result.adversarial);
  copy(false);
  const adversarial = chwToRgba(full, width, height);
  const after = nearestHash(phash(adversarial), listed);
  return { adversarial, before, after, evaded: after.bits > PHASH_MATCH_BITS, queries: result.queries, accepted: result.accepted };
}

