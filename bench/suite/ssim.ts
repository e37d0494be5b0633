/**
 * ssim.js's default SSIM (v3.5: integer greys, no downsampling below 384 px, its "weber" algorithm of
 * 11×11 box windows over integral images), split into what depends on one image (greys, window sums
 * and variances) and what a pair adds (the covariance). Square asks for one query image's distance to
 * 12 gallery photos a thousand times an item; ssim.js recomputes both images' terms and its closures
 * every call (~4 ms a 128×128 pair here), this recomputes only the pair's (~20× less). Every step
 * keeps ssim.js's integer truncations and its order of float operations, so the result is the same
 * number bit for bit (tests/ssim.test.ts checks it against ssim.js on photos and noise).
 */
import type { RgbaImage } from '../../src/core/preprocess';

const WINDOW = 11;
const L = 255;
const C1 = 0.01 * L * (0.01 * L);
const C2 = 0.03 * L * (0.03 * L);
const AREA = WINDOW * WINDOW;

export interface SsimFeatures {
  width: number;
  height: number;
  /** ssim.js's integer grey, (77 R + 150 G + 29 B + 128) >> 8. */
  grey: Int32Array;
  /** Per window (top-left corner, row-major): the sum of greys, and 1024 × the variance, truncated as ssim.js stores it. */
  sums: Int32Array;
  variances: Int32Array;
}

/** The integral image ssim.js builds (bottom-right to top-left, Int32 like its own, so overflow wraps the same way). */
function integral(width: number, height: number, values: Int32Array): Int32Array {
  const mw = width + 1;
  const s = new Int32Array(mw * (height + 1));
  for (let h = height - 1; h >= 0; --h) {
    for (let w = width - 1; w >= 0; --w) {
      const at = h * mw + w;
      s[at] = values[h * width + w] + s[at + 1] + s[at + mw] - s[at + mw + 1];
    }
  }
  return s;
}

function products(a: Int32Array, b: Int32Array): Int32Array {
  const out = new Int32Array(a.length);
  for (let i = 0; i < a.length; i++) out[i] = a[i] * b[i];
  return out;
}

function windowSums(s: Int32Array, width: number, height: number): Int32Array {
  const mw = width + 1;
  const ww = width - WINDOW + 1;
  const wh = height - WINDOW + 1;
  const out = new Int32Array(ww * wh);
  for (let h = 0; h < wh; ++h) {
    for (let w = 0; w < ww; ++w) {
      out[h * ww + w] = s[mw * h + w] - s[mw * h + w + WINDOW] - s[mw * (h + WINDOW) + w] + s[mw * (h + WINDOW) + w + WINDOW];
    }
  }
  return out;
}

export function ssimFeatures(img: RgbaImage): SsimFeatures {
  const { width, height, data } = img;
  if (width < WINDOW || height < WINDOW) throw new Error(`SSIM needs at least ${WINDOW}×${WINDOW} pixels, got ${width}×${height}`);
  // ssim.js downsamples by round(min side / 256) when that is above 1; this split does not.
  if (Math.round(Math.min(width, height) / 256) > 1) throw new Error(`SSIM features: ${width}×${height} is past ssim.js's downsampling size (< 384 px a side)`);
  const grey = new Int32Array(width * height);
  for (let i = 0; i < grey.length; i++) grey[i] = (77 * data[4 * i] + 150 * data[4 * i + 1] + 29 * data[4 * i + 2] + 128) >> 8;
  const sums = windowSums(integral(width, height, grey), width, height);
  const variances = windowSums(integral(width, height, products(grey, grey)), width, height);
  for (let i = 0; i < sums.length; ++i) {
    const mean = sums[i] / AREA;
    variances[i] = 1024 * (variances[i] / AREA - mean * mean);
  }
  return { width, height, grey, sums, variances };
}

/** Mean SSIM of a (ssim.js's first image) against b: what ssim(a, b).mssim returns. */
export function meanSsim(a: SsimFeatures, b: SsimFeatures): number {
  if (a.width !== b.width || a.height !== b.height) throw new Error('Image dimensions do not match');
  const covariances = windowSums(integral(a.width, a.height, products(a.grey, b.grey)), a.width, a.height);
  let mssim = 0;
  for (let i = 0; i < a.sums.length; ++i) {
    const cov1024 = (1024 * (covariances[i] / AREA - (a.sums[i] / AREA) * (b.sums[i] / AREA))) | 0;
    const meanx = a.sums[i] / AREA;
    const meany = b.sums[i] / AREA;
    const na = 2 * meanx * meany + C1;
    const nb = 2 * (cov1024 / 1024) + C2;
    const da = meanx * meanx + meany * meany + C1;
    const db = a.variances[i] / 1024 + b.variances[i] / 1024 + C2;
    const ssim = (na * nb) / da / db;
    mssim = i === 0 ? ssim : mssim + (ssim - mssim) / (i + 1);
  }
  return mssim;
}
