/**
 * The preprocessing as a linear map, for attacks on an image at its own size. toModelPixels is
 * resize (Pillow's bicubic, separable: a horizontal then a vertical pass) → centre crop → /255; with
 * the 8-bit rounding and clipping between and after the passes left out, it is y = P x, P linear,
 * from the full-size pixels to the model's size×size input. The gradient of an objective f(P x) is
 * then Pᵀ ∇f, so the attack graphs' model-input gradient carries over to full-size pixels exactly.
 *
 * Only the source pixels under the crop's filter taps (`region`) reach the model; P is defined on
 * them (CHW planes of the region), so buffers hold the region, not the whole image.
 */
import type { AttackOracle } from './attack';
import { RclipError } from './errors';
import { cropWindow, regionToChw, resizeCoefficients, RESIZE_WEIGHT_ONE, tapSpan, type Coefficients, type PixelRegion, type RgbaImage, type RgbImage } from './preprocess';

/**
 * The most source pixels (of the region the crop reads) a full-size attack perturbs. Each attack
 * buffer is 12 bytes a pixel (3 float32 channels) and APGD holds about a dozen of them: on a
 * 4000×3000 photo (region 3094×3000, 9.3 MP) `rclip attack` peaks at 0.96 GB (PGD) and 1.19 GB
 * (APGD) resident (docs/applications.md), so the limit keeps APGD near 1.5 GB; a 4000×4000 photo is refused.
 */
export const MAX_FULL_SIZE_ATTACK_PIXELS = 12_000_000;

/** One axis of P: output sample o reads source samples start[o] … start[o] + count[o] − 1 (relative to the region) with weights w. */
interface Axis {
  start: Int32Array;
  count: Int32Array;
  ksize: number;
  weights: Float64Array;
  /** max over outputs of Σ|w|: this axis's ∞→∞ operator norm. */
  absSum: number;
  /** The same weights by source sample (the transpose, CSR): source j is read by outputs byOutput[from[j] … from[j+1]) with weights byWeight. */
  from: Int32Array;
  byOutput: Int32Array;
  byWeight: Float64Array;
}

export interface LinearPreprocess {
  /** The full image. */
  width: number;
  height: number;
  /** The model's input side. */
  size: number;
  /** The source pixels the crop's taps read; P's input is their CHW planes. */
  region: PixelRegion;
  /**
   * ‖P‖∞→∞ = (max row Σ|w| horizontally) × (the same vertically): a full-size change of at most ε a
   * pixel moves the model input by at most linfGain·ε a pixel, and some change of ε reaches it.
   */
  linfGain: number;
  /** y = P x: region planes → size×size model planes (no rounding, no clipping). */
  apply(x: Float32Array): Float32Array;
  /** Pᵀ y: size×size model planes → region planes. */
  transpose(y: Float32Array): Float32Array;
}

function axis(c: Coefficients, first: number, size: number, origin: number): Axis {
  const start = new Int32Array(size);
  const count = new Int32Array(size);
  const weights = new Float64Array(size * c.ksize);
  let absSum = 0;
  for (let o = 0; o < size; o++) {
    start[o] = c.bounds[(first + o) * 2] - origin;
    count[o] = c.bounds[(first + o) * 2 + 1];
    let s = 0;
    for (let k = 0; k < count[o]; k++) {
      const w = c.weights[(first + o) * c.ksize + k] / RESIZE_WEIGHT_ONE;
      weights[o * c.ksize + k] = w;
      s += Math.abs(w);
    }
    absSum = Math.max(absSum, s);
  }
  // Pᵀ gathers per source sample (one write each) instead of scattering per output tap.
  const sources = start.reduce((m, v, o) => Math.max(m, v + count[o]), 0);
  const from = new Int32Array(sources + 1);
  for (let o = 0; o < size; o++) for (let k = 0; k < count[o]; k++) from[start[o] + k + 1]++;
  for (let j = 0; j < sources; j++) from[j + 1] += from[j];
  const byOutput = new Int32Array(from[sources]);
  const byWeight = new Float64Array(from[sources]);
  const filled = from.slice(0, sources);
  for (let o = 0; o < size; o++) {
    for (let k = 0; k < count[o]; k++) {
      const e = filled[start[o] + k]++;
      byOutput[e] = o;
      byWeight[e] = weights[o * c.ksize + k];
    }
  }
  return { start, count, ksize: c.ksize, weights, absSum, from, byOutput, byWeight };
}

/** P for an image of width×height and a model input of size×size (toModelPixels' resize and crop, same weights as Pillow's 8-bit path). */
export function linearPreprocess(width: number, height: number, size: number): LinearPreprocess {
  if (width < 1 || height < 1) throw new RangeError('image has no pixels');
  const { resized, left, top } = cropWindow(width, height, size);
  const cx = resizeCoefficients(width, resized.width);
  const cy = resizeCoefficients(height, resized.height);
  const [x0, x1] = tapSpan(cx, left, size);
  const [y0, y1] = tapSpan(cy, top, size);
  const h = axis(cx, left, size, x0);
  const v = axis(cy, top, size, y0);
  const rw = x1 - x0;
  const rh = y1 - y0;
  const regionPlane = rw * rh;
  const plane = size * size;
  return {
    width,
    height,
    size,
    region: { x0, y0, x1, y1 },
    linfGain: h.absSum * v.absSum,
    apply(x) {
      if (x.length !== 3 * regionPlane) throw new RangeError(`P takes ${3 * regionPlane} values (3 × ${rw}×${rh}), got ${x.length}`);
      const mid = new Float64Array(rh * size);
      const out = new Float32Array(3 * plane);
      for (let c = 0; c < 3; c++) {
        const src = c * regionPlane;
        for (let r = 0; r < rh; r++) {
          for (let o = 0; o < size; o++) {
            let s = 0;
            for (let k = 0, p = src + r * rw + h.start[o], q = o * h.ksize; k < h.count[o]; k++) s += h.weights[q + k] * x[p + k];
            mid[r * size + o] = s;
          }
        }
        for (let yy = 0; yy < size; yy++) {
          for (let o = 0; o < size; o++) {
            let s = 0;
            for (let k = 0, q = yy * v.ksize; k < v.count[yy]; k++) s += v.weights[q + k] * mid[(v.start[yy] + k) * size + o];
            out[c * plane + yy * size + o] = s;
          }
        }
      }
      return out;
    },
    transpose(y) {
      if (y.length !== 3 * plane) throw new RangeError(`Pᵀ takes ${3 * plane} values (3 × ${size}×${size}), got ${y.length}`);
      const mid = new Float64Array(rh * size);
      const out = new Float32Array(3 * regionPlane);
      for (let c = 0; c < 3; c++) {
        mid.fill(0);
        for (let yy = 0; yy < size; yy++) {
          for (let k = 0, q = yy * v.ksize; k < v.count[yy]; k++) {
            const w = v.weights[q + k];
            const m = (v.start[yy] + k) * size;
            for (let o = 0; o < size; o++) mid[m + o] += w * y[c * plane + yy * size + o];
          }
        }
        for (let r = 0; r < rh; r++) {
          const m = r * size;
          for (let j = 0, q = c * regionPlane + r * rw; j < rw; j++, q++) {
            let s = 0;
            for (let e = h.from[j]; e < h.from[j + 1]; e++) s += h.byWeight[e] * mid[m + h.byOutput[e]];
            out[q] = s;
          }
        }
      }
      return out;
    },
  };
}

/** clamp(P x, 0, 1): the model input a full-size image gives, the 8-bit rounding aside (toModelPixels clips as well). */
export function modelView(map: LinearPreprocess, x: Float32Array): Float32Array {
  const y = map.apply(x);
  for (let i = 0; i < y.length; i++) y[i] = Math.min(1, Math.max(0, y[i]));
  return y;
}

/**
 * An oracle on full-size region pixels from one on model-input pixels: f(clamp(P x)), gradient
 * Pᵀ ∇f. The gradient passes the clamp unmasked: where a pixel sits at 0 or 1 (a white background,
 * where P x comes out at 1 ± float noise) the masked gradient would be 0 and the attack could never
 * move it inwards, which the real pipeline would let it do. Device steps do not carry over (their
 * projection is in model-input space), so the attack runs its JS loop.
 */
export function throughPreprocess(oracle: AttackOracle, map: LinearPreprocess): AttackOracle {
  return {
    async gradient(x) {
      const { distance, grad } = await oracle.gradient(modelView(map, x));
      return { distance, grad: map.transpose(grad) };
    },
  };
}

/** A full-size attack's space: P for the image and the model input, and the clean region planes (composited onto `background`) it starts from. */
export function fullSizeSpace(image: RgbaImage | RgbImage, input: { size: number; background: readonly [number, number, number] }): { map: LinearPreprocess; clean: Float32Array } {
  const map = linearPreprocess(image.width, image.height, input.size);
  const { x0, y0, x1, y1 } = map.region;
  const pixels = (x1 - x0) * (y1 - y0);
  if (pixels > MAX_FULL_SIZE_ATTACK_PIXELS) {
    throw new RclipError(
      'IMAGE_TOO_LARGE',
      `A full-size attack on this ${image.width}×${image.height} image would perturb the ${x1 - x0}×${y1 - y0} pixels the model's crop reads (${(pixels / 1e6).toFixed(1)} MP), above the ${MAX_FULL_SIZE_ATTACK_PIXELS / 1e6} MP limit (about 12 bytes a pixel per attack buffer). Downscale the image first, or attack at the model's size.`,
    );
  }
  return { map, clean: regionToChw(image, input.background, map.region) };
}
