import type { InputSpec } from './manifest';

/** Decoded pixels, straight (not premultiplied) alpha, row-major RGBA. */
export interface RgbaImage {
  width: number;
  height: number;
  data: Uint8Array | Uint8ClampedArray;
}

/** Decoded pixels without alpha, row-major RGB (sharp's decode of an opaque file): toModelPixels reads them in place. */
export interface RgbImage {
  width: number;
  height: number;
  data: Uint8Array;
  channels: 3;
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

/** One axis of the resize: for each output sample, its source taps and their weights. */
export interface Coefficients {
  ksize: number;
  bounds: Int32Array; // [xmin, count] per output sample
  weights: Int32Array; // fixed-point integers, as Pillow's normalize_coeffs_8bpc makes them
}

/** Pillow's bicubic coefficients for resizing one axis from inSize to outSize samples (weights in fixed point: ONE is 1). */
export function resizeCoefficients(inSize: number, outSize: number): Coefficients {
  // Same size: Pillow skips the pass; one tap of weight ONE gives the same bytes (clip8(HALF + v·ONE) = v).
  if (inSize === outSize) return { ksize: 1, bounds: Int32Array.from({ length: outSize * 2 }, (_, i) => (i % 2 ? 1 : i / 2)), weights: new Int32Array(outSize).fill(ONE) };
  const scale = inSize / outSize;
  const filterscale = Math.max(scale, 1);
  const support = BICUBIC_SUPPORT * filterscale;
  const ksize = Math.ceil(support) * 2 + 1;
  const bounds = new Int32Array(outSize * 2);
  const weights = new Int32Array(outSize * ksize);
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

/** Pillow's clip8 on a fixed-point sum (an int32, as in Pillow: |sum| < 2^31 for 8-bit input). */
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

/** The fixed-point weights' unit: a weight w stands for w / RESIZE_WEIGHT_ONE. */
export const RESIZE_WEIGHT_ONE = ONE;

/** Source rows or columns [lo, hi) under the taps of outputs [first, first + size). */
export function tapSpan(c: Coefficients, first: number, size: number): [number, number] {
  let lo = Infinity;
  let hi = 0;
  for (let o = first; o < first + size; o++) {
    lo = Math.min(lo, c.bounds[o * 2]);
    hi = Math.max(hi, c.bounds[o * 2] + c.bounds[o * 2 + 1]);
  }
  return [lo, hi];
}

/**
 * The size×size window at (left, top) of `img` composited and resized to rw×rh the way Pillow does
 * it (horizontal pass, 8-bit clip, vertical pass, 8-bit clip), as CHW float32 in [0,1]. Each output
 * pixel depends only on its own filter taps, so only the window's pixels, and the source rows and
 * columns under their taps, are computed: the same bytes as resizing everything and cropping, with
 * less work. Sums are int32, as Pillow's.
 */
function resizedWindow(img: RgbaImage | RgbImage, background: readonly [number, number, number], rw: number, rh: number, left: number, top: number, size: number): Float32Array {
  const { width: w, height: h } = img;
  const cx = resizeCoefficients(w, rw);
  const cy = resizeCoefficients(h, rh);
  const [sx0, sx1] = tapSpan(cx, left, size);
  const [sy0, sy1] = tapSpan(cy, top, size);
  // RGB, and RGBA whose region is opaque, are read in place (compositing leaves them as they are); other RGBA is composited first.
  const rgb = 'channels' in img && img.channels === 3;
  const inPlace = rgb || isOpaque(img, sx0, sy0, sx1, sy1);
  const step = inPlace && !rgb ? 4 : 3;
  const src = inPlace ? img.data : compositeRegion(img, background, sx0, sy0, sx1, sy1);
  const srcRow = inPlace ? w * step : (sx1 - sx0) * 3;
  const srcStart = inPlace ? (sy0 * w + sx0) * step : 0;
  const mid = horizontalPass(src, srcStart, srcRow, step, sy1 - sy0, cx, left, size, sx0);
  return verticalPass(mid, cy, top, size, sy0);
}

// The passes read a pixel as one little-endian 32-bit load (DataView: any alignment, any typed array
// the decoder handed over) and take its channels by shifts: ~1.2× faster in V8 than three byte loads.

/**
 * Horizontal pass over `rows` source rows from byte `start` (`rowStride` apart, `step` bytes a pixel):
 * the window's `size` columns, RGB bytes out, one spare byte at the end for the vertical pass's
 * 32-bit loads. Two rows at a time share each weight load.
 */
function horizontalPass(bytes: Uint8Array | Uint8ClampedArray, start: number, rowStride: number, step: number, rows: number, cx: Coefficients, left: number, size: number, sx0: number): Uint8Array {
  const src = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const rowBytes = size * 3;
  const mid = new Uint8Array(rows * rowBytes + 1);
  const { bounds, weights, ksize } = cx;
  // A 32-bit load of an RGB buffer's very last pixel would read past its end: such a last row goes byte by byte.
  const lastRowUnsafe = step === 3 && start + rows * rowStride >= bytes.length;
  const pairedRows = (rows - (lastRowUnsafe ? 1 : 0)) & ~1;
  for (let r = 0; r < pairedRows; r += 2) {
    const rowStart = start + r * rowStride;
    for (let o = left, q = r * rowBytes; o < left + size; o++, q += 3) {
      let a0 = HALF, a1 = HALF, a2 = HALF, b0 = HALF, b1 = HALF, b2 = HALF;
      for (let k = o * ksize, kEnd = k + bounds[o * 2 + 1], p = rowStart + (bounds[o * 2] - sx0) * step; k < kEnd; k++, p += step) {
        const wk = weights[k];
        const a = src.getInt32(p, true);
        const b = src.getInt32(p + rowStride, true);
        a0 = (a0 + (a & 255) * wk) | 0;
        a1 = (a1 + ((a >> 8) & 255) * wk) | 0;
        a2 = (a2 + ((a >> 16) & 255) * wk) | 0;
        b0 = (b0 + (b & 255) * wk) | 0;
        b1 = (b1 + ((b >> 8) & 255) * wk) | 0;
        b2 = (b2 + ((b >> 16) & 255) * wk) | 0;
      }
      mid[q] = clip8(a0);
      mid[q + 1] = clip8(a1);
      mid[q + 2] = clip8(a2);
      mid[q + rowBytes] = clip8(b0);
      mid[q + rowBytes + 1] = clip8(b1);
      mid[q + rowBytes + 2] = clip8(b2);
    }
  }
  for (let r = pairedRows; r < rows; r++) {
    const rowStart = start + r * rowStride;
    for (let o = left, q = r * rowBytes; o < left + size; o++, q += 3) {
      let a0 = HALF, a1 = HALF, a2 = HALF;
      for (let k = o * ksize, kEnd = k + bounds[o * 2 + 1], p = rowStart + (bounds[o * 2] - sx0) * step; k < kEnd; k++, p += step) {
        const wk = weights[k];
        a0 = (a0 + bytes[p] * wk) | 0;
        a1 = (a1 + bytes[p + 1] * wk) | 0;
        a2 = (a2 + bytes[p + 2] * wk) | 0;
      }
      mid[q] = clip8(a0);
      mid[q + 1] = clip8(a1);
      mid[q + 2] = clip8(a2);
    }
  }
  return mid;
}

/** Vertical pass over the horizontal pass's rows (the first is source row sy0), straight into CHW float planes. */
function verticalPass(mid: Uint8Array, cy: Coefficients, top: number, size: number, sy0: number): Float32Array {
  const src = new DataView(mid.buffer, mid.byteOffset, mid.byteLength);
  const rowBytes = size * 3;
  const plane = size * size;
  const out = new Float32Array(3 * plane);
  const { bounds, weights, ksize } = cy;
  for (let yy = 0; yy < size; yy++) {
    const o = top + yy;
    const k0 = o * ksize;
    const kEnd = k0 + bounds[o * 2 + 1];
    const row0 = (bounds[o * 2] - sy0) * rowBytes;
    for (let x = 0, q = yy * size; x < size; x++, q++) {
      let a0 = HALF, a1 = HALF, a2 = HALF;
      for (let k = k0, p = row0 + x * 3; k < kEnd; k++, p += rowBytes) {
        const wk = weights[k];
        const a = src.getInt32(p, true);
        a0 = (a0 + (a & 255) * wk) | 0;
        a1 = (a1 + ((a >> 8) & 255) * wk) | 0;
        a2 = (a2 + ((a >> 16) & 255) * wk) | 0;
      }
      out[q] = clip8(a0) / 255;
      out[plane + q] = clip8(a1) / 255;
      out[2 * plane + q] = clip8(a2) / 255;
    }
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
export function toModelPixels(img: RgbaImage | RgbImage, spec: Pick<InputSpec, 'size' | 'background'>): PixelTensor {
  if (img.width < 1 || img.height < 1) throw new RangeError('image has no pixels');
  const { resized, left, top } = cropWindow(img.width, img.height, spec.size);
  return { size: spec.size, data: resizedWindow(img, spec.background, resized.width, resized.height, left, top, spec.size) };
}

/** Where the model's size×size centre crop lies in the resized image (torchvision's CenterCrop offsets). */
export function cropWindow(width: number, height: number, size: number): { resized: { width: number; height: number }; left: number; top: number } {
  const resized = shortestSideSize(width, height, size);
  return { resized, left: roundHalfEven((resized.width - size) / 2), top: roundHalfEven((resized.height - size) / 2) };
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

/** A rectangle of an image's pixels: columns [x0, x1), rows [y0, y1). */
export interface PixelRegion {
  x0: number;
  y0: number;
  x1: number;
  y1: number;
}

/** RGB planes (CHW, [0,1]) of an image of any size, alpha composited onto `background`: what a score-based attack perturbs. */
export function rgbaToChw(img: RgbaImage, background: readonly [number, number, number] = [1, 1, 1]): Float32Array {
  return regionToChw(img, background, { x0: 0, y0: 0, x1: img.width, y1: img.height });
}

/** rgbaToChw of one region only (RGB images read as they are): the planes are (x1 − x0) × (y1 − y0). */
export function regionToChw(img: RgbaImage | RgbImage, background: readonly [number, number, number], region: PixelRegion): Float32Array {
  const { x0, y0, x1, y1 } = region;
  const w = x1 - x0;
  const plane = w * (y1 - y0);
  const out = new Float32Array(3 * plane);
  const rgb = 'channels' in img && img.channels === 3;
  const bytes = rgb ? img.data : compositeRegion(img, background, x0, y0, x1, y1);
  for (let y = 0; y < y1 - y0; y++) {
    for (let x = 0, i = y * w, p = rgb ? ((y + y0) * img.width + x0) * 3 : i * 3; x < w; x++, i++, p += 3) {
      for (let c = 0; c < 3; c++) out[c * plane + i] = bytes[p + c] / 255;
    }
  }
  return out;
}

/**
 * The whole image as opaque RGBA (alpha composited onto `background`, as the model sees it) with
 * `region` replaced by the CHW planes `chw` in [0,1], rounded to 8 bits: a full-size copy whose
 * pixels outside the region are the original's.
 */
export function withRegion(img: RgbaImage | RgbImage, background: readonly [number, number, number], region: PixelRegion, chw: Float32Array): RgbaImage {
  const { width, height } = img;
  const out = new Uint8ClampedArray(width * height * 4);
  const rgb = 'channels' in img && img.channels === 3;
  const bytes = rgb ? img.data : compositeToRgb(img as RgbaImage, background);
  for (let i = 0; i < width * height; i++) {
    out[i * 4] = bytes[i * 3];
    out[i * 4 + 1] = bytes[i * 3 + 1];
    out[i * 4 + 2] = bytes[i * 3 + 2];
    out[i * 4 + 3] = 255;
  }
  const w = region.x1 - region.x0;
  const plane = w * (region.y1 - region.y0);
  for (let y = region.y0; y < region.y1; y++) {
    for (let x = region.x0, i = (y - region.y0) * w; x < region.x1; x++, i++) {
      for (let c = 0; c < 3; c++) out[(y * width + x) * 4 + c] = Math.round(chw[c * plane + i] * 255);
    }
  }
  return { width, height, data: out };
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
