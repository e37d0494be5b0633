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

function clip8(v: number): number {
  if (v >= ONE * 256) return 255;
  if (v <= 0) return 0;
  return Math.floor(v / ONE);
}

/** Separable resize of interleaved channels, horizontal pass first, as Pillow does. */
function resizeChannels(src: Uint8Array, w: number, h: number, channels: number, outW: number, outH: number): Uint8Array {
  let cur = src;
  let curW = w;
  if (outW !== w) {
    const c = coefficients(w, outW);
    const out = new Uint8Array(outW * h * channels);
    for (let y = 0; y < h; y++) {
      const row = y * w * channels;
      for (let xx = 0; xx < outW; xx++) {
        const xmin = c.bounds[xx * 2];
        const n = c.bounds[xx * 2 + 1];
        const kOff = xx * c.ksize;
        for (let ch = 0; ch < channels; ch++) {
          let ss = HALF;
          for (let x = 0; x < n; x++) ss += cur[row + (x + xmin) * channels + ch] * c.weights[kOff + x];
          out[(y * outW + xx) * channels + ch] = clip8(ss);
        }
      }
    }
    cur = out;
    curW = outW;
  }
  if (outH !== h) {
    const c = coefficients(h, outH);
    const out = new Uint8Array(curW * outH * channels);
    for (let yy = 0; yy < outH; yy++) {
      const ymin = c.bounds[yy * 2];
      const n = c.bounds[yy * 2 + 1];
      const kOff = yy * c.ksize;
      for (let x = 0; x < curW; x++) {
        for (let ch = 0; ch < channels; ch++) {
          let ss = HALF;
          for (let y = 0; y < n; y++) ss += cur[((y + ymin) * curW + x) * channels + ch] * c.weights[kOff + y];
          out[(yy * curW + x) * channels + ch] = clip8(ss);
        }
      }
    }
    cur = out;
  }
  return cur;
}

/** Alpha-composites onto `background` (RGB in [0,1]) and drops alpha: RGB, 3 bytes per pixel. */
export function compositeToRgb(img: RgbaImage, background: readonly [number, number, number]): Uint8Array {
  const n = img.width * img.height;
  const out = new Uint8Array(n * 3);
  const bg = background.map((b) => b * 255);
  for (let i = 0; i < n; i++) {
    const a = img.data[i * 4 + 3] / 255;
    for (let c = 0; c < 3; c++) {
      const v = img.data[i * 4 + c];
      out[i * 3 + c] = a === 1 ? v : Math.round(v * a + bg[c] * (1 - a));
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
export function toModelPixels(img: RgbaImage, spec: Pick<InputSpec, 'size' | 'background'>): PixelTensor {
  if (img.width < 1 || img.height < 1) throw new RangeError('image has no pixels');
  const rgb = compositeToRgb(img, spec.background);
  const { width: rw, height: rh } = shortestSideSize(img.width, img.height, spec.size);
  const resized = resizeChannels(rgb, img.width, img.height, 3, rw, rh);
  const top = roundHalfEven((rh - spec.size) / 2);
  const left = roundHalfEven((rw - spec.size) / 2);
  const s = spec.size;
  const data = new Float32Array(3 * s * s);
  for (let c = 0; c < 3; c++) {
    for (let y = 0; y < s; y++) {
      for (let x = 0; x < s; x++) {
        data[c * s * s + y * s + x] = resized[((y + top) * rw + (x + left)) * 3 + c] / 255;
      }
    }
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
