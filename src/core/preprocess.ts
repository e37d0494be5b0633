import type { InputSpec } from './manifest';

/** Decoded pixels, straight (not premultiplied) alpha, row-major RGBA. */
export interface RgbaImage {
  width: number;
  height: number;
  data: Uint8Array | Uint8ClampedArray;
}

/** Model-input pixels: CHW float32 in [0,1], size×size. Attacks work in this space. */
export interface PixelTensor {
  size: number;
  data: Float32Array;
}

// The resampler reproduces Pillow's Resample.c (8-bit path) bit for bit, because open_clip's
// preprocessing is torchvision Resize(BICUBIC) on PIL images: same filter, same fixed-point rounding.
const PRECISION_BITS = 32 - 8 - 2;
const ONE = 2 ** PRECISION_BITS;
const HALF = 2 ** (PRECISION_BITS - 1);
const BICUBIC_SUPPORT = 2;

function bicubic(x: number): number {
  const a = -0.5;
  x = Math.abs(x);
  if (x < 1) return ((a + 2) * x - (a + 3)) * x * x + 1;
  if (x < 2) return (((x - 5) * x + 8) * x - 4) * a;
  return 0;
}

interface Coefficients {
  ksize: number;
  bounds: Int32Array; // [xmin, count] per output sample
  weights: Float64Array; // fixed-point integers, as Pillow's normalize_coeffs_8bpc makes them
}

function coefficients(inSize: number, outSize: number): Coefficients {
  const scale = inSize / outSize;
  const filterscale = Math.max(scale, 1);
  const support = BICUBIC_SUPPORT * filterscale;
  const ksize = Math.ceil(support) * 2 + 1;
  const bounds = new Int32Array(outSize * 2);
  const weights = new Float64Array(outSize * ksize);
  const k = new Float64Array(ksize);
  for (let xx = 0; xx < outSize; xx++) {
    const center = (xx + 0.5) * scale;
    const ss = 1 / filterscale;
    const xmin = Math.max(Math.trunc(center - support + 0.5), 0);
    const xmax = Math.min(Math.trunc(center + support + 0.5), inSize) - xmin;
    let ww = 0;
    for (let x = 0; x < xmax; x++) {
      k[x] = bicubic((x + xmin - center + 0.5) * ss);
      ww += k[x];
    }
    for (let x = 0; x < xmax; x++) {
      const w = ww !== 0 ? k[x] / ww : k[x];
      weights[xx * ksize + x] = w < 0 ? Math.trunc(-0.5 + w * ONE) : Math.trunc(0.5 + w * ONE);
    }
    bounds[xx * 2] = xmin;
    bounds[xx * 2 + 1] = xmax;
  }
  return { ksize, bounds, weights };
}

/** Pillow's clip8 on a fixed-point sum: every sum here is an integer below 2^31, so the shift is floor(v / ONE). */
function clip8(v: number): number {
  if (v >= ONE * 256) return 255;
  if (v <= 0) return 0;
  return v >> PRECISION_BITS;
}

/** Alpha-composites onto `background` (RGB in [0,1]) and drops alpha: RGB, 3 bytes per pixel. */
export function compositeToRgb(img: RgbaImage, background: readonly [number, number, number]): Uint8Array {
  return compositeRegion(img, background, 0, 0, img.width, img.height);
}

/** compositeToRgb of the columns [x0, x1) and rows [y0, y1) only. */
function compositeRegion(img: RgbaImage, background: readonly [number, number, number], x0: number, y0: number, x1: number, y1: number): Uint8Array {
  const w = x1 - x0;
  const out = new Uint8Array(w * (y1 - y0) * 3);
  const [b0, b1, b2] = background.map((b) => b * 255);
  const d = img.data;
  let q = 0;
  for (let y = y0; y < y1; y++) {
    for (let p = (y * img.width + x0) * 4, end = p + w * 4; p < end; p += 4, q += 3) {
      const alpha = d[p + 3];
      if (alpha === 255) {
        out[q] = d[p];
        out[q + 1] = d[p + 1];
        out[q + 2] = d[p + 2];
      } else {
        const a = alpha / 255;
        out[q] = Math.round(d[p] * a + b0 * (1 - a));
        out[q + 1] = Math.round(d[p + 1] * a + b1 * (1 - a));
        out[q + 2] = Math.round(d[p + 2] * a + b2 * (1 - a));
      }
    }
  }
  return out;
}

function isOpaque(img: RgbaImage, x0: number, y0: number, x1: number, y1: number): boolean {
  const d = img.data;
  for (let y = y0; y < y1; y++) {
    for (let p = (y * img.width + x0) * 4 + 3, end = p + (x1 - x0) * 4; p < end; p += 4) if (d[p] !== 255) return false;
  }
  return true;
}

/**
 * The size×size window at (left, top) of `img` composited and resized to rw×rh the way Pillow does
 * it (horizontal pass, 8-bit clip, vertical pass, 8-bit clip), as RGB bytes. Each output pixel
 * depends only on its own filter taps, so only the window's pixels, and the source rows and columns
 * under their taps, are computed: the same bytes as resizing everything and cropping, with less work.
 * Sums are exact integers in float64, so accumulating a row at a time does not change them.
 */
function resizedWindow(img: RgbaImage, background: readonly [number, number, number], rw: number, rh: number, left: number, top: number, size: number): Uint8Array {
  const { width: w, height: h } = img;
  const cx = rw !== w ? coefficients(w, rw) : null;
  const cy = rh !== h ? coefficients(h, rh) : null;
  const span = (c: Coefficients | null, first: number): [number, number] => {
    if (!c) return [first, first + size];
    let lo = Infinity;
    let hi = 0;
    for (let o = first; o < first + size; o++) {
      lo = Math.min(lo, c.bounds[o * 2]);
      hi = Math.max(hi, c.bounds[o * 2] + c.bounds[o * 2 + 1]);
    }
    return [lo, hi];
  };
  const [sx0, sx1] = span(cx, left);
  const [sy0, sy1] = span(cy, top);
  // An opaque region is read in place (compositing leaves it as it is); otherwise composited first.
  const opaque = isOpaque(img, sx0, sy0, sx1, sy1);
  const src = opaque ? img.data : compositeRegion(img, background, sx0, sy0, sx1, sy1);
  const step = opaque ? 4 : 3;
  const srcRow = opaque ? w * 4 : (sx1 - sx0) * 3;
  const srcStart = opaque ? (sy0 * w + sx0) * 4 : 0;
  const rows = sy1 - sy0;
  const rowBytes = size * 3;
  // Horizontal pass over the rows the vertical pass reads: the window's columns only.
  const mid = new Uint8Array(rows * rowBytes);
  for (let r = 0; r < rows; r++) {
    const rowStart = srcStart + r * srcRow;
    let q = r * rowBytes;
    if (!cx) {
      for (let p = rowStart + (left - sx0) * step, end = p + size * step; p < end; p += step, q += 3) {
        mid[q] = src[p];
        mid[q + 1] = src[p + 1];
        mid[q + 2] = src[p + 2];
      }
      continue;
    }
    const { bounds, weights, ksize } = cx;
    for (let o = left; o < left + size; o++, q += 3) {
      const n = bounds[o * 2 + 1];
      let s0 = HALF;
      let s1 = HALF;
      let s2 = HALF;
      for (let k = o * ksize, kEnd = k + n, p = rowStart + (bounds[o * 2] - sx0) * step; k < kEnd; k++, p += step) {
        const wk = weights[k];
        s0 += src[p] * wk;
        s1 += src[p + 1] * wk;
        s2 += src[p + 2] * wk;
      }
      mid[q] = clip8(s0);
      mid[q + 1] = clip8(s1);
      mid[q + 2] = clip8(s2);
    }
  }
  if (!cy) return mid;
  // Vertical pass: each output row is a weighted sum of whole `mid` rows.
  const out = new Uint8Array(size * rowBytes);
  const acc = new Float64Array(rowBytes);
  for (let yy = 0; yy < size; yy++) {
    const o = top + yy;
    acc.fill(HALF);
    for (let k = o * cy.ksize, kEnd = k + cy.bounds[o * 2 + 1], row = (cy.bounds[o * 2] - sy0) * rowBytes; k < kEnd; k++, row += rowBytes) {
      const wk = cy.weights[k];
      for (let i = 0; i < rowBytes; i++) acc[i] += mid[row + i] * wk;
    }
    for (let i = 0, q = yy * rowBytes; i < rowBytes; i++) out[q + i] = clip8(acc[i]);
  }
  return out;
}

/** torchvision's Resize(int): the shorter side becomes `size`, the longer one is truncated, not rounded. */
export function shortestSideSize(width: number, height: number, size: number): { width: number; height: number } {
  if (width <= height) return { width: size, height: Math.trunc((size * height) / width) };
  return { width: Math.trunc((size * width) / height), height: size };
}

/** Python's round(): halves go to the even neighbour. torchvision's CenterCrop offsets use it. */
function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/**
 * open_clip's image transform (Resize(size, BICUBIC) → CenterCrop(size) → ToTensor) on decoded
 * pixels, without the normalisation, which `normalize` applies so attacks can work in [0,1].
 */
export function toModelPixels(img: RgbaImage, spec: Pick<InputSpec, 'size' | 'background'>): PixelTensor {
  if (img.width < 1 || img.height < 1) throw new RangeError('image has no pixels');
  const { width: rw, height: rh } = shortestSideSize(img.width, img.height, spec.size);
  const s = spec.size;
  const window = resizedWindow(img, spec.background, rw, rh, roundHalfEven((rw - s) / 2), roundHalfEven((rh - s) / 2), s);
  const plane = s * s;
  const data = new Float32Array(3 * plane);
  for (let i = 0, p = 0; i < plane; i++, p += 3) {
    data[i] = window[p] / 255;
    data[plane + i] = window[p + 1] / 255;
    data[2 * plane + i] = window[p + 2] / 255;
  }
  return { size: s, data };
}

/** (p − mean) / std per channel: the tensor the ONNX graphs take. */
export function normalize(pixels: PixelTensor, spec: Pick<InputSpec, 'mean' | 'std'>): Float32Array {
  const plane = pixels.size * pixels.size;
  const out = new Float32Array(pixels.data.length);
  for (let c = 0; c < 3; c++) {
    const m = spec.mean[c];
    const s = spec.std[c];
    for (let i = c * plane; i < (c + 1) * plane; i++) out[i] = (pixels.data[i] - m) / s;
  }
  return out;
}

/** RGB planes (CHW, [0,1]) of an image of any size, alpha composited onto `background`: what a score-based attack perturbs. */
export function rgbaToChw(img: RgbaImage, background: readonly [number, number, number] = [1, 1, 1]): Float32Array {
  const rgb = compositeToRgb(img, background);
  const plane = img.width * img.height;
  const out = new Float32Array(3 * plane);
  for (let i = 0; i < plane; i++) for (let c = 0; c < 3; c++) out[c * plane + i] = rgb[i * 3 + c] / 255;
  return out;
}

/** CHW pixels in [0,1] back to opaque 8-bit RGBA (rounded, as an 8-bit PNG of them would be). */
export function chwToRgba(data: Float32Array, width: number, height: number): RgbaImage {
  const plane = width * height;
  const out = new Uint8ClampedArray(plane * 4);
  for (let i = 0; i < plane; i++) {
    for (let c = 0; c < 3; c++) out[i * 4 + c] = Math.round(data[c * plane + i] * 255);
    out[i * 4 + 3] = 255;
  }
  return { width, height, data: out };
}

/** Back to RGBA bytes, for showing a model-input tensor (an adversarial image, say) on a canvas. */
export function pixelsToRgba(pixels: PixelTensor): RgbaImage {
  return chwToRgba(pixels.data, pixels.size, pixels.size);
}
