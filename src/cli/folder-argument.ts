import { existsSync } from 'node:fs';
import { RclipError } from '../core/errors';
import { isFolder } from '../engine/node-images';

/**
 * A command's folder argument. The CLI's rule for paths: one that names nothing fails like a missing
 * input file (IMAGE_FETCH_FAILED, exit 1); one that names a file where a folder is wanted is bad
 * usage (INVALID_ARGUMENT, exit 2). `what` says what the folder is for, e.g. "dedupe takes a folder".
 */
export function folderArgument(dir: string, what: string): string {
  if (isFolder(dir)) return dir;
  if (existsSync(dir)) throw new RclipError('INVALID_ARGUMENT', `"${dir}" is a file; ${what}.`);
  throw new RclipError('IMAGE_FETCH_FAILED', `Folder "${dir}" does not exist.`);
}
