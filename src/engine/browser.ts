/**
 * The browser half of the engine: onnxruntime-web on WebGPU (native EP) or wasm, image decoding with
 * createImageBitmap + OffscreenCanvas, model files over fetch. Runs inside the worker.
 */
import * as ort from 'onnxruntime-web/webgpu';
import { RclipError } from '../core/errors';
import { checkPixelCount, corruptImageError, sniffImage } from '../core/image-format';
import type { RgbaImage } from '../core/preprocess';
import { Engine, type BackendChoice } from './engine';
import { FetchModelSource } from './fetch-source';

export type BackendPreference = 'auto' | 'webgpu' | 'wasm';

/** What the page may hand over: bytes, a decoded bitmap, or a URL the worker fetches itself. */
export type ImageInput = Blob | ArrayBuffer | Uint8Array | ImageBitmap | { url: string; name?: string };

function wasmThreads(): number {
  // Threads need SharedArrayBuffer, which only cross-origin-isolated pages get.
  return self.crossOriginIsolated ? Math.max(1, Math.min(4, navigator.hardwareConcurrency || 1)) : 1;
}

/**
 * The EP for a preference. 'auto' takes WebGPU only on a hardware adapter: a software fallback adapter
 * (SwiftShader on headless servers, VMs, CI, GPU-blocklisted machines) runs this encoder ~100x slower
 * than wasm (bench/README.md: 441 ms vs 3.9 ms per inference), so it counts as no usable GPU.
 * 'webgpu' takes any adapter, software included, so the WebGPU path stays testable without a GPU.
 */
export async function chooseBackend(preference: BackendPreference): Promise<BackendChoice> {
  const threads = wasmThreads();
  ort.env.wasm.numThreads = threads;
  const wasm = (reason: string, adapter: BackendChoice['adapter'] = null): BackendChoice => ({ ep: 'wasm', reason, adapter, threads });
  if (preference === 'wasm') return wasm('wasm was requested.');
  const gpu = (navigator as Navigator & { gpu?: GPU }).gpu;
  if (!gpu) return wasm('This browser exposes no WebGPU (navigator.gpu is missing).');
  let adapter: GPUAdapter | null = null;
  try {
    adapter = await gpu.requestAdapter();
  } catch (err) {
    return wasm(`WebGPU adapter request failed: ${(err as Error).message}.`);
  }
  if (!adapter) return wasm('WebGPU is present but no adapter is available (no usable GPU, or it is blocked).');
  const info = adapter.info;
  const adapterInfo = {
    vendor: info?.vendor ?? '',
    architecture: info?.architecture ?? '',
    description: info?.description ?? '',
    isFallbackAdapter: Boolean((info as GPUAdapterInfo & { isFallbackAdapter?: boolean })?.isFallbackAdapter ?? (adapter as GPUAdapter & { isFallbackAdapter?: boolean }).isFallbackAdapter),
    shaderF16: adapter.features.has('shader-f16'),
  };
  const name = [adapterInfo.vendor, adapterInfo.architecture].filter(Boolean).join(' ') || 'unnamed adapter';
  if (adapterInfo.isFallbackAdapter && preference === 'auto') {
    return wasm(`The only WebGPU adapter (${name}) is a software fallback, no usable GPU: wasm is faster here. Ask for WebGPU explicitly (backend 'webgpu', ?backend=webgpu on the demo) to use it anyway.`, adapterInfo);
  }
  // Hand ORT the adapter we inspected, so the one reported is the one that runs.
  ort.env.webgpu.adapter = adapter;
  ort.env.wasm.numThreads = 1;
  const forced = preference === 'webgpu' ? ', requested explicitly' : '';
  return {
    ep: 'webgpu',
    reason: `WebGPU adapter: ${name}${adapterInfo.isFallbackAdapter ? ` (software fallback adapter${forced})` : forced}.`,
    adapter: adapterInfo,
    threads: 1,
  };
}

async function fetchImage(url: string, name: string): Promise<Blob> {
  const target = new URL(url, self.location.href);
  const crossOrigin = target.origin !== self.location.origin;
  let res: Response;
  try {
    res = await fetch(target, { mode: 'cors', credentials: 'same-origin' });
  } catch (err) {
    if (crossOrigin) {
      throw new RclipError(
        'IMAGE_CROSS_ORIGIN',
        `${name} is on another site (${target.origin}) that does not allow this page to read it (no CORS permission). Download it and pick the file instead.`,
        { cause: err },
      );
    }
    throw new RclipError('IMAGE_FETCH_FAILED', `Could not fetch ${name}: ${(err as Error).message}.`, { cause: err });
  }
  if (!res.ok) throw new RclipError('IMAGE_FETCH_FAILED', `${name} was not found (HTTP ${res.status}).`);
  // Single-page-app servers answer a wrong path with their index.html and status 200.
  if (/text\/html/i.test(res.headers.get('content-type') ?? '')) {
    throw new RclipError('IMAGE_FETCH_FAILED', `${name} was not found (the server sent a web page, not an image).`);
  }
  return res.blob();
}

function bitmapToRgba(bitmap: ImageBitmap): RgbaImage {
  try {
    const canvas = new OffscreenCanvas(bitmap.width, bitmap.height);
    const ctx = canvas.getContext('2d', { willReadFrequently: true });
    if (!ctx) throw new RclipError('IMAGE_DECODE_FAILED', 'No 2D canvas is available to read pixels.');
    ctx.drawImage(bitmap, 0, 0);
    const { data, width, height } = ctx.getImageData(0, 0, bitmap.width, bitmap.height, { colorSpace: 'srgb' });
    return { width, height, data };
  } catch (err) {
    if (err instanceof RclipError) throw err;
    if ((err as DOMException).name === 'SecurityError') {
      throw new RclipError('IMAGE_CROSS_ORIGIN', 'The image comes from another site and taints the canvas, so its pixels cannot be read.', { cause: err });
    }
    throw new RclipError('IMAGE_DECODE_FAILED', `Could not read the image's pixels: ${(err as Error).message}.`, { cause: err });
  } finally {
    bitmap.close();
  }
}

/** Decodes in the worker. EXIF orientation is applied by createImageBitmap ('from-image'), as sharp's rotate() does in Node. */
export async function decodeImage(input: ImageInput): Promise<RgbaImage> {
  if (input instanceof ImageBitmap) {
    checkPixelCount(input.width, input.height);
    return bitmapToRgba(input);
  }
  let name = 'the image';
  let blob: Blob;
  if (input instanceof Blob) {
    blob = input;
    if (input instanceof File) name = `"${input.name}"`;
  } else if (input instanceof ArrayBuffer || input instanceof Uint8Array) {
    blob = new Blob([input as BlobPart]);
  } else if (typeof input === 'object' && input !== null && typeof input.url === 'string') {
    name = input.name ? `"${input.name}"` : input.url;
    blob = await fetchImage(input.url, name);
  } else {
    throw new RclipError('INVALID_ARGUMENT', 'An image must be a File, Blob, ArrayBuffer, ImageBitmap or { url }.');
  }
  const bytes = new Uint8Array(await blob.arrayBuffer());
  const header = sniffImage(bytes, name);
  let bitmap: ImageBitmap;
  try {
    bitmap = await createImageBitmap(new Blob([bytes], { type: `image/${header.format}` }), {
      premultiplyAlpha: 'none',
      colorSpaceConversion: 'default',
      imageOrientation: 'from-image',
    });
  } catch (err) {
    throw corruptImageError(name, header.format, err);
  }
  try {
    checkPixelCount(bitmap.width, bitmap.height, name);
  } catch (err) {
    bitmap.close();
    throw err;
  }
  return bitmapToRgba(bitmap);
}

export function createBrowserEngine(options: { modelsBase: string; backend: BackendPreference; logSeverityLevel?: 0 | 1 | 2 | 3 | 4 }) {
  return new Engine<ImageInput>({
    ort,
    source: new FetchModelSource(new URL(options.modelsBase, self.location.href)),
    chooseBackend: () => chooseBackend(options.backend),
    decode: decodeImage,
    logSeverityLevel: options.logSeverityLevel,
  });
}
