/** Image files for the CLI: listing folders, and the sharp-backed pieces the 2AFC benchmark needs. */
import path from 'node:path';
import { RclipError } from '../core/errors';
import { sortByBytes } from '../core/twoafc';
import { isFolder, readFolder } from '../engine/node-eval';

export { folderEntries, folderTripletSources, isFolder } from '../engine/node-eval';

/** The formats sniffImage accepts, by extension: what a folder argument picks up. */
const IMAGE_FILE = /\.(jpe?g|png|webp|gif|bmp|avif)$/i;

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
