/**
 * Pixel distortions for the 2AFC benchmark, on model-style pixels (CHW float32 in [0,1], square).
 * Pure: randomness comes in through a `random` function so a seed reproduces every triplet.
 * JPEG needs a codec and lives with the caller (sharp in Node).
 */
import type { PixelTensor } from './preprocess';

const clamp01 = (v: number) => (v < 0 ? 0 : v > 1 ? 1 : v);

/** Reflect-101 indexing (…2 1 | 0 1 2 … n-1 | n-2 …), as OpenCV's and PIL's filters pad. */
function reflect(i: number, n: number): number {
  if (n === 1) return 0;
  const period = 2 * (n - 1);
  i = ((i % period) + period) % period;
  return i < n ? i : period - i;
}

function map(pixels: PixelTensor, f: (data: Float32Array, out: Float32Array) => void): PixelTensor {
  const out = new Float32Array(pixels.data.length);
  f(pixels.data, out);
  return { size: pixels.size, data: out };
}

/** Separable Gaussian blur with a kernel of radius ⌈3σ⌉. */
export function gaussianBlur(pixels: PixelTensor, sigma: number): PixelTensor {
  if (sigma <= 0) return map(pixels, (d, o) => o.set(d));
  const radius = Math.ceil(3 * sigma);
  const kernel = new Float64Array(2 * radius + 1);
  let sum = 0;
  for (let k = -radius; k <= radius; k++) sum += kernel[k + radius] = Math.exp(-(k * k) / (2 * sigma * sigma));
  for (let k = 0; k < kernel.length; k++) kernel[k] /= sum;
  const s = pixels.size;
  const tmp = new Float32Array(pixels.data.length);
  return map(pixels, (d, o) => {
    for (let c = 0; c < 3; c++) {
      const base = c * s * s;
      for (let y = 0; y < s; y++)
        for (let x = 0; x < s; x++) {
          let acc = 0;
          for (let k = -radius; k <= radius; k++) acc += kernel[k + radius] * d[base + y * s + reflect(x + k, s)];
          tmp[base + y * s + x] = acc;
        }
      for (let y = 0; y < s; y++)
        for (let x = 0; x < s; x++) {
          let acc = 0;
          for (let k = -radius; k <= radius; k++) acc += kernel[k + radius] * tmp[base + reflect(y + k, s) * s + x];
          o[base + y * s + x] = clamp01(acc);
        }
    }
  });
}

/** x + σ·z, clipped to [0,1]; z is standard normal, one value per element. */
export function addNoise(pixels: PixelTensor, sigma: number, noise: Float32Array): PixelTensor {
  return map(pixels, (d, o) => {
    for (let i = 0; i < d.length; i++) o[i] = clamp01(d[i] + sigma * noise[i]);
  });
}

export interface ColourShift {
  /** Multiplicative factors; 1 leaves the image as it is. */
  brightness: number;
  contrast: number;
  saturation: number;
  /** Hue rotation in turns (1 = 360°), in YIQ chroma. */
  hue: number;
}

const LUMA = [0.299, 0.587, 0.114] as const;

/** Brightness, contrast (about the mean luma), saturation (about each pixel's luma), then hue, in torchvision's ColorJitter order. */
export function colourShift(pixels: PixelTensor, shift: ColourShift): PixelTensor {
  const plane = pixels.size * pixels.size;
  const cosH = Math.cos(shift.hue * 2 * Math.PI);
  const sinH = Math.sin(shift.hue * 2 * Math.PI);
  return map(pixels, (d, o) => {
    for (let i = 0; i < d.length; i++) o[i] = clamp01(d[i] * shift.brightness);
    let meanLuma = 0;
    for (let i = 0; i < plane; i++) meanLuma += LUMA[0] * o[i] + LUMA[1] * o[plane + i] + LUMA[2] * o[2 * plane + i];
    meanLuma /= plane;
    for (let i = 0; i < o.length; i++) o[i] = clamp01((o[i] - meanLuma) * shift.contrast + meanLuma);
    for (let i = 0; i < plane; i++) {
      const r = o[i];
      const g = o[plane + i];
      const b = o[2 * plane + i];
      const yl = LUMA[0] * r + LUMA[1] * g + LUMA[2] * b;
      const rs = clamp01((r - yl) * shift.saturation + yl);
      const gs = clamp01((g - yl) * shift.saturation + yl);
      const bs = clamp01((b - yl) * shift.saturation + yl);
      // Hue: rotate the (I, Q) chroma plane of YIQ, keep Y.
      const y = 0.299 * rs + 0.587 * gs + 0.114 * bs;
      const ci = 0.596 * rs - 0.274 * gs - 0.322 * bs;
      const cq = 0.211 * rs - 0.523 * gs + 0.312 * bs;
      const i2 = cosH * ci - sinH * cq;
      const q2 = sinH * ci + cosH * cq;
      o[i] = clamp01(y + 0.956 * i2 + 0.621 * q2);
      o[plane + i] = clamp01(y - 0.272 * i2 - 0.647 * q2);
      o[2 * plane + i] = clamp01(y - 1.106 * i2 + 1.703 * q2);
    }
  });
}

export interface AffineWarp {
  /** Translation in fractions of the side (0.1 = 10 % of the width). */
  dx: number;
  dy: number;
  /** Zoom about the centre; > 1 magnifies (crops in). */
  scale: number;
  /** Rotation about the centre, in degrees. */
  degrees: number;
  flip: boolean;
}

/** Inverse-mapped bilinear warp with reflected borders, so no black corners give the distortion away. */
export function affineWarp(pixels: PixelTensor, warp: AffineWarp): PixelTensor {
  const s = pixels.size;
  const c0 = (s - 1) / 2;
  const a = (warp.degrees * Math.PI) / 180;
  const cos = Math.cos(a) / warp.scale;
  const sin = Math.sin(a) / warp.scale;
  const tx = warp.dx * s;
  const ty = warp.dy * s;
  return map(pixels, (d, o) => {
    for (let y = 0; y < s; y++)
      for (let x = 0; x < s; x++) {
        // Output pixel → source pixel: undo the translation, then rotation and scale about the centre.
        const ox = (warp.flip ? s - 1 - x : x) - c0 - tx;
        const oy = y - c0 - ty;
        const sx = cos * ox + sin * oy + c0;
        const sy = -sin * ox + cos * oy + c0;
        const x0 = Math.floor(sx);
        const y0 = Math.floor(sy);
        const fx = sx - x0;
        const fy = sy - y0;
        const xa = reflect(x0, s);
        const xb = reflect(x0 + 1, s);
        const ya = reflect(y0, s);
        const yb = reflect(y0 + 1, s);
        for (let c = 0; c < 3; c++) {
          const base = c * s * s;
          const top = d[base + ya * s + xa] * (1 - fx) + d[base + ya * s + xb] * fx;
          const bottom = d[base + yb * s + xa] * (1 - fx) + d[base + yb * s + xb] * fx;
          o[base + y * s + x] = top * (1 - fy) + bottom * fy;
        }
      }
  });
}
