/**
 * The one 2AFC runner over an image folder that `rclip eval`, `npm run bench` and the benchmark suite
 * share, and the index's model pair. Opening models and reading folders are in node-model.ts and
 * node-images.ts.
 */
import type { AttackSettings } from '../core/attack';
import { RclipError } from '../core/errors';
import { evaluationImageNames, runTwoAfc, type TripletResult, type TwoAfcModel, type TwoAfcReport } from '../core/twoafc';
import { createNodeEngine, DEFAULT_MODELS_DIR } from './node';
import { folderEntries, folderTripletSources } from './node-images';

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
  options: { limit?: number; seed: number; attack: AttackSettings | null; onImage?: (done: number, total: number) => void },
): Promise<{ report: TwoAfcReport; results: TripletResult[]; images: string[] }> {
  const all = evaluationImageNames(folderEntries(dir));
  if (all.length < 2) throw new RclipError('INVALID_ARGUMENT', `"${dir}" has ${all.length} evaluation image(s) (sorted index i % 5 == 4 of its jpg/jpeg/png/webp files); at least 2 are needed.`);
  const images = options.limit === undefined ? all : all.slice(0, options.limit);
  const { report, results } = await runTwoAfc(model, folderTripletSources(dir, all), { images, seed: options.seed, attack: options.attack, onImage: options.onImage });
  return { report, results, images };
}
