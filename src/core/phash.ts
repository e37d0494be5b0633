/**
 * A minimal DCT perceptual hash (pHash), the kind of filter web moderation/dedupe uses today: the
 * centre square (the view the encoders see), grey, area-averaged to 32×32, 2-D DCT-II, the 8×8
 * lowest frequencies without DC, each bit = coefficient > their median. 64 bits; distance = Hamming.
 * Pure maths (no DOM); the page's blocklist panel, the suite and bench/evasion.ts all use this one.
 */
import type { RgbaImage } from './preprocess';

export const PHASH_BITS = 64;
/** A common match threshold: at most 10 of 64 bits differ. */
export const PHASH_MATCH_BITS = 10;

const N = 32;

/** Grey (BT.601 luma) of the centre square, area-averaged to 32×32. Alpha is composited on white. */
function greySquare(image: RgbaImage): Float64Array {
  const side = Math.min(image.width, image.height);
  const x0 = Math.floor((image.width - side) / 2);
  const y0 = Math.floor((image.height - side) / 2);
  const sum = new Float64Array(N * N);
  const count = new Float64Array(N * N);
  for (let y = 0; y < side; y++) {
    const cy = Math.min(N - 1, Math.floor((y * N) / side));
    for (let x = 0; x < side; x++) {
      const cx = Math.min(N - 1, Math.floor((x * N) / side));
      const i = ((y0 + y) * image.width + (x0 + x)) * 4;
      const a = image.data[i + 3] / 255;
      const luma = 0.299 * image.data[i] + 0.587 * image.data[i + 1] + 0.114 * image.data[i + 2];
      sum[cy * N + cx] += luma * a + 255 * (1 - a);
      count[cy * N + cx] += 1;
    }
  }
  for (let i = 0; i < sum.length; i++) sum[i] = count[i] ? sum[i] / count[i] : 0;
  return sum;
}

const COS = (() => {
  const c = new Float64Array(8 * N);
  for (let u = 0; u < 8; u++) for (let x = 0; x < N; x++) c[u * N + x] = Math.cos(((2 * x + 1) * u * Math.PI) / (2 * N));
  return c;
})();

/** The 64-bit hash as 16 hex digits. */
export function phash(image: RgbaImage): string {
  const g = greySquare(image);
  // Only the 8×8 lowest frequencies are needed: two separable passes over 8 of the 32 rows/columns.
  const rows = new Float64Array(N * 8);
  for (let y = 0; y < N; y++) for (let u = 0; u < 8; u++) {
    let s = 0;
    for (let x = 0; x < N; x++) s += g[y * N + x] * COS[u * N + x];
    rows[y * 8 + u] = s;
  }
  const coeffs: number[] = [];
  for (let v = 0; v < 8; v++) for (let u = 0; u < 8; u++) {
    let s = 0;
    for (let y = 0; y < N; y++) s += rows[y * 8 + u] * COS[v * N + y];
    coeffs.push(s);
  }
  const ac = coeffs.slice(1);
  const median = [...ac].sort((a, b) => a - b)[Math.floor(ac.length / 2)];
  let hex = '';
  for (let nibble = 0; nibble < 16; nibble++) {
    let v = 0;
    for (let b = 0; b < 4; b++) v = (v << 1) | (coeffs[nibble * 4 + b] > median ? 1 : 0);
    hex += v.toString(16);
  }
  return hex;
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
