/**
 * Image decoding in Node (sharp, and bmp-ts for BMP), apart from the engine so that the decode
 * worker threads (node-decode-pool.ts) load it without onnxruntime-node.
 */
import { readFile } from 'node:fs/promises';
import sharp from 'sharp';
import { missingDependency, RclipError } from '../core/errors';
import { checkPixelCount, corruptImageError, sniffImage } from '../core/image-format';
import type { RgbaImage, RgbImage } from '../core/preprocess';

// libvips' operation cache (process-wide) only pays when the same operation runs on the same input
// again; a decode of each file once gains nothing from it, and keeping it cost ~0.5 ms of CPU per
// 500×375 JPEG (4.1 → 3.6 ms, bench/README.md, `rclip embed` throughput).
sharp.cache(false);

/** A file path, or bytes already read. */
export type NodeImage = string | Uint8Array;

/**
 * BMP, which sharp cannot read, with bmp-ts (pure JS, an optional dependency loaded on first use).
 * Its ABGR output becomes RGBA; like Chromium, a BMP whose alpha bytes are all zero is opaque.
 */
async function decodeBmp(bytes: Uint8Array): Promise<RgbaImage> {
  const { decode } = await import('bmp-ts');
  const bmp = decode(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
  const abgr = bmp.data;
  const data = new Uint8ClampedArray(bmp.width * bmp.height * 4);
  let alphaSeen = false;
  for (let i = 0; i < data.length; i += 4) {
    data[i] = abgr[i + 3];
    data[i + 1] = abgr[i + 2];
    data[i + 2] = abgr[i + 1];
    data[i + 3] = abgr[i];
    alphaSeen ||= abgr[i] !== 0;
  }
  if (!alphaSeen) for (let i = 3; i < data.length; i += 4) data[i] = 255;
  return { width: bmp.width, height: bmp.height, data };
}

/**
 * Decodes like the browser does: the same sniffing and size limits first, then EXIF orientation
 * applied (sharp's rotate(), as createImageBitmap's 'from-image'), straight-alpha RGBA out. With
 * { rgb: true }, an image without alpha (every JPEG) comes out as RGB instead, the same R, G and B
 * bytes: for toModelPixels, which reads either in place, and ~10 % cheaper for sharp than adding alpha.
 */
export async function decodeImageFile(image: NodeImage): Promise<RgbaImage>;
export async function decodeImageFile(image: NodeImage, options: { rgb: true }): Promise<RgbaImage | RgbImage>;
export async function decodeImageFile(image: NodeImage, { rgb = false } = {}): Promise<RgbaImage | RgbImage> {
  const name = typeof image === 'string' ? `"${image}"` : 'the image';
  let bytes: Uint8Array;
  if (typeof image === 'string') {
    try {
      bytes = await readFile(image);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      throw new RclipError('IMAGE_FETCH_FAILED', code === 'ENOENT' ? `${name} does not exist.` : `Cannot read ${name}: ${(err as Error).message}`, { cause: err });
    }
  } else bytes = image;
  const header = sniffImage(bytes, name);
  try {
    if (header.format === 'bmp') {
      checkPixelCount(header.width, header.height, name);
      return await decodeBmp(bytes);
    }
    const decoder = sharp(bytes, { limitInputPixels: false }).rotate();
    // sharp's raw output is sRGB: 3 channels, or 4 when the image has alpha.
    const { data, info } = await (rgb ? decoder : decoder.ensureAlpha()).raw().toBuffer({ resolveWithObject: true });
    checkPixelCount(info.width, info.height, name);
    if (info.channels === 3) return { width: info.width, height: info.height, data, channels: 3 };
    if (info.channels !== 4) throw new Error(`sharp gave ${info.channels} channels`);
    return { width: info.width, height: info.height, data };
  } catch (err) {
    if (err instanceof RclipError) throw err;
    const missing = missingDependency(err);
    if (missing) throw missing;
    throw corruptImageError(name, header.format, err);
  }
}
