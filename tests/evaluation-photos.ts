/** The suite's evaluation photos from ../shared/data/imagenet-sample, for the tests that need real photos. */
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { RgbaImage } from '../src/core/preprocess';
import { evaluationImageNames } from '../src/core/twoafc';
import { decodeImageFile } from '../src/engine/node';
import { folderEntries } from '../src/engine/node-images';

export const IMAGENET = path.resolve(__dirname, '../../shared/data/imagenet-sample');
/** Why the photos cannot be read (for a skip message), or null when they are there. */
export const missingPhotos = existsSync(IMAGENET) ? null : `${IMAGENET} is absent`;

/** The paths of the first `count` evaluation photos (the suite's seeded choice). */
export function evaluationPhotoPaths(count: number): string[] {
  return evaluationImageNames(folderEntries(IMAGENET), count).map((name) => path.join(IMAGENET, name));
}

/** The first `count` evaluation photos, decoded. */
export function loadEvaluationPhotos(count: number): Promise<RgbaImage[]> {
  return Promise.all(evaluationPhotoPaths(count).map((file) => decodeImageFile(file)));
}
