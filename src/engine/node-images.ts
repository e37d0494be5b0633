/** Image files in Node (the CLI and the bench): listing folders, and the sharp-backed pieces the 2AFC benchmark needs. */
import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { RclipError } from '../core/errors';
import { pixelsToRgba, toModelPixels, type PixelTensor } from '../core/preprocess';
import { sortByBytes, WORK_BACKGROUND, WORK_SIZE, type TripletSources } from '../core/twoafc';
import { decodeImageFile } from './node';

/** The formats sniffImage accepts, by extension: what a folder argument picks up. */
const IMAGE_FILE = /\.(jpe?g|png|webp|gif|bmp|avif)$/i;

function readFolder(dir: string): string[] {
  try {
    return readdirSync(dir).filter((n) => statSync(path.join(dir, n)).isFile());
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new RclipError('IMAGE_FETCH_FAILED', code === 'ENOENT' ? `Folder "${dir}" does not exist.` : `Cannot read folder "${dir}": ${(err as Error).message}`, { cause: err });
  }
}

/** The file names (not paths) in a folder, unfiltered: the 2AFC split rule filters them itself. */
export function folderEntries(dir: string): string[] {
  if (existsSync(dir) && !isFolder(dir)) throw new RclipError('IMAGE_FETCH_FAILED', `"${dir}" is a file, not a folder.`);
  return readFolder(dir);
}

export function isFolder(p: string): boolean {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
}

/** Folders expand to their image files (not recursive, byte order); files are taken as given. */
export function expandImageArgs(args: readonly string[]): string[] {
  const files: string[] = [];
  for (const arg of args) {
    if (isFolder(arg)) {
      const images = sortByBytes(readFolder(arg).filter((n) => IMAGE_FILE.test(n)));
      if (images.length === 0) throw new RclipError('INVALID_ARGUMENT', `Folder "${arg}" holds no images (jpg, jpeg, png, webp, gif, bmp, avif).`);
      files.push(...images.map((n) => path.join(arg, n)));
    } else files.push(arg);
  }
  return files;
}

export async function jpegRoundTrip(pixels: PixelTensor, quality: number): Promise<PixelTensor> {
  const s = pixels.size;
  const encoded = await sharp(Buffer.from(pixelsToRgba(pixels).data), { raw: { width: s, height: s, channels: 4 } }).jpeg({ quality }).toBuffer();
  const { data, info } = await sharp(encoded).ensureAlpha().raw().toBuffer({ resolveWithObject: true });
  return toModelPixels({ width: info.width, height: info.height, data }, { size: s, background: WORK_BACKGROUND });
}

/** 2AFC inputs from a folder: decoded like every CLI image, centre-cropped to WORK_SIZE, cached (other photos are reused). */
export function folderTripletSources(dir: string, evaluation: readonly string[]): TripletSources {
  const cache = new Map<string, Promise<PixelTensor>>();
  const load = (name: string) => {
    let pending = cache.get(name);
    if (!pending) {
      pending = decodeImageFile(path.join(dir, name)).then((rgba) => toModelPixels(rgba, { size: WORK_SIZE, background: WORK_BACKGROUND }));
      cache.set(name, pending);
    }
    return pending;
  };
  return { evaluation, load, jpeg: jpegRoundTrip };
}
