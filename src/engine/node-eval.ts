/**
 * The one 2AFC runner over an image folder that `rclip eval`, `npm run bench` and the benchmark suite
 * share, and the index's model pair. Opening models and reading folders are in node-model.ts and
 * node-images.ts.
 */
import path from 'node:path';
import type { AttackSettings } from '../core/attack';
import { RclipError } from '../core/errors';
import { evaluationImageNames, runTwoAfc, type TripletResult, type TwoAfcModel, type TwoAfcReport } from '../core/twoafc';
import { createNodeEngine, DEFAULT_MODELS_DIR } from './node';
import { folderEntries, folderTripletSources } from './node-images';
import { skippedFile, type SkippedFile } from './node-model';

/** The index's default (robust) and baseline model ids. */
export async function indexModels(modelsDir = DEFAULT_MODELS_DIR): Promise<{ default: string; baseline: string }> {
  const index = await createNodeEngine({ modelsDir }).index();
  return { default: index.default, baseline: index.baseline };
}

/**
 * The evaluation split of `dir` (sorted index i % 5 == 4), the first `limit` of it as references,
 * triplets drawn from the whole split.
 */
export async function runFolderTwoAfc(
  model: TwoAfcModel,
  dir: string,
  options: {
    limit?: number;
    seed: number;
    attack: AttackSettings | null;
    onImage?: (done: number, total: number) => void;
    /** Given: an unreadable evaluation image is reported here and left out of the split. Absent: it ends the run. */
    onSkip?: (skipped: SkippedFile) => void;
  },
): Promise<{ report: TwoAfcReport; results: TripletResult[]; images: string[]; skipped: SkippedFile[] }> {
  const split = evaluationImageNames(folderEntries(dir));
  const sources = folderTripletSources(dir, split);
  // Every image of the split is decoded up front (the sources cache it for the triplets), so an
  // unreadable one is known before any triplet draws it as the "other photo".
  const skipped: SkippedFile[] = [];
  const all: string[] = [];
  for (const name of split) {
    try {
      await sources.load(name);
      all.push(name);
    } catch (err) {
      const s = options.onSkip ? skippedFile(path.join(dir, name), err) : null;
      if (!s) throw err;
      skipped.push(s);
      options.onSkip!(s);
    }
  }
  if (all.length < 2) throw new RclipError('INVALID_ARGUMENT', `"${dir}" has ${all.length} readable evaluation image(s) (sorted index i % 5 == 4 of its jpg/jpeg/png/webp files); at least 2 are needed.`);
  const images = options.limit === undefined ? all : all.slice(0, options.limit);
  const { report, results } = await runTwoAfc(model, { ...sources, evaluation: all }, { images, seed: options.seed, attack: options.attack, onImage: options.onImage });
  return { report, results, images, skipped };
}
