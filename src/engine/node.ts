/**
 * The engine in Node (the Node adapter): onnxruntime-node on the CPU, sharp for decoding, model files from disk.
 * The CLI, the benchmarks and the end-to-end tests' reference values all come through here.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import sharp from 'sharp';
import { RclipError } from '../core/errors';
import { checkPixelCount, sniffImage } from '../core/image-format';
import type { RgbaImage } from '../core/preprocess';
import { DiskModelSource } from './disk-source';
import { Engine } from './engine';

/** A file path, or bytes already read. */
export type NodeImage = string | Uint8Array;

export const DEFAULT_MODELS_DIR = path.resolve(import.meta.dirname, '../../public/models');

/**
 * Decodes like the browser does: the same sniffing and size limits first, then EXIF orientation
 * applied (sharp's rotate(), as createImageBitmap's 'from-image'), straight-alpha RGBA out.
 */
export async function decodeImageFile(image: NodeImage): Promise<RgbaImage> {
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
    const { data, info } = await sharp(bytes, { limitInputPixels: false }).rotate().ensureAlpha().raw().toBuffer({ resolveWithObject: true });
    checkPixelCount(info.width, info.height, name);
    return { width: info.width, height: info.height, data };
  } catch (err) {
    if (err instanceof RclipError) throw err;
    throw new RclipError('IMAGE_DECODE_FAILED', `${name} looks like a ${header.format.toUpperCase()} file but could not be decoded: it is corrupt or truncated.`, { cause: err });
  }
}

export function createNodeEngine(options: { modelsDir?: string; threads?: number } = {}) {
  const threads = options.threads ?? 1;
  return new Engine<NodeImage>({
    ort,
    sessionOptions: { intraOpNumThreads: threads, interOpNumThreads: 1 },
    source: new DiskModelSource(options.modelsDir ?? DEFAULT_MODELS_DIR),
    chooseBackend: async () => ({ ep: 'cpu', reason: `onnxruntime-node on the CPU, ${threads} thread(s).`, adapter: null, threads }),
    decode: decodeImageFile,
  });
}
