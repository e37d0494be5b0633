/**
 * Square Attack (src/core/square.ts) on an encoder through its embeddings alone: no attack graph,
 * no gradient, one forward run a query. What `rclip attack --method square` runs; beside PGD it is
 * the check for gradient masking (a black-box attack that beats the white-box one means the
 * gradient lies). Perturbs model-input pixels, as PGD does, so the two compare on the same ball, or
 * (size 'full') the image at its own size through the preprocessing, as PGD does there too.
 */
import type { AttackObjective } from '../core/attack';
import { fullSizeSpace, modelView } from '../core/preprocess-linear';
import { cosineDistance } from '../core/distance';
import { RclipError } from '../core/errors';
import { pixelsToRgba, toModelPixels, type PixelTensor, type RgbaImage, type RgbImage } from '../core/preprocess';
import { runSquareAttack, type SquareProgress, type SquareSettings } from '../core/square';
import { fullSizeCopy, type AttackSize, type FullSizeCopy } from './attack';
import type { Engine } from './engine';
import { throwIfAborted, type JobOptions } from './jobs';

export interface SquareAttackOutcome {
  /** Model-input pixels of the copy (for size 'full': its 8-bit full-size copy as the model sees it). */
  adversarial: PixelTensor;
  adversarialRgba: RgbaImage;
  /** The objective's distance before (0 for push-apart) and at the point kept. */
  attacked: { model: string; clean: number; after: number };
  queries: number;
  /** Squares kept (the starting point not counted). */
  accepted: number;
  /** size 'full': the copy at the image's own size, its squares placed in full-size pixels; else null. */
  fullSize: FullSizeCopy | null;
}

export async function squareAttackImage<I>(
  engine: Engine<I>,
  image: RgbaImage | RgbImage,
  target: RgbaImage | RgbImage | null,
  request: { model: string; objective: AttackObjective; settings: SquareSettings; size?: AttackSize },
  { signal, onProgress }: JobOptions & { onProgress?: (p: SquareProgress) => void } = {},
): Promise<SquareAttackOutcome> {
  const { model, objective, settings } = request;
  if (objective !== 'push-apart' && !target) throw new RclipError('INVALID_ARGUMENT', `${objective} needs a second image (B).`);
  const clean = await engine.pixelsFor(model, image);
  const reference = objective === 'push-apart' ? clean : await engine.pixelsFor(model, target!);
  const [referenceEmbedding, cleanEmbedding] = await engine.embedPixels(model, [reference, clean], { signal });
  // Square maximises: the distance for push-apart and push-from-target, its negative for pull-together.
  const sign = objective === 'pull-together' ? -1 : 1;
  // size 'full': the squares are drawn on the region of the image the crop reads, queried through the preprocessing (clamp(P x)).
  const input = (await engine.loadModel(model)).manifest.input;
  const full = request.size === 'full' ? fullSizeSpace(image, input) : null;
  const region = full?.map.region;
  const shape = region ? { channels: 3, height: region.y1 - region.y0, width: region.x1 - region.x0 } : { channels: 3, height: clean.size, width: clean.size };
  const result = await runSquareAttack(
    full ? full.clean : clean.data,
    shape,
    settings,
    async (data) => {
      const [e] = await engine.embedPixels(model, [{ size: clean.size, data: full ? modelView(full.map, data) : data }], { signal });
      return { score: sign * cosineDistance(e, referenceEmbedding) };
    },
    { checkCancelled: () => throwIfAborted(signal), onQuery: onProgress },
  );
  const fullSize = full && fullSizeCopy(image, input.background, full.map, result.adversarial);
  const adversarial = fullSize ? toModelPixels(fullSize.rgba, input) : { size: clean.size, data: result.adversarial };
  return {
    adversarial,
    adversarialRgba: pixelsToRgba(adversarial),
    attacked: { model, clean: cosineDistance(cleanEmbedding, referenceEmbedding), after: sign * result.score },
    queries: result.queries,
    accepted: result.accepted,
    fullSize,
  };
}
