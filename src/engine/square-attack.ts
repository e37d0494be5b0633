/**
 * Square Attack (src/core/square.ts) on an encoder through its embeddings alone: no attack graph,
 * no gradient, one forward run a query. What `rclip attack --method square` runs; beside PGD it is
 * the check for gradient masking (a black-box attack that beats the white-box one means the
 * gradient lies). Perturbs model-input pixels, as PGD does, so the two compare on the same ball.
 */
import type { AttackObjective } from '../core/attack';
import { cosineDistance } from '../core/distance';
import { RclipError } from '../core/errors';
import { pixelsToRgba, type PixelTensor, type RgbaImage } from '../core/preprocess';
import { runSquareAttack, type SquareProgress, type SquareSettings } from '../core/square';
import type { Engine } from './engine';
import { throwIfAborted, type JobOptions } from './jobs';

export interface SquareAttackOutcome {
  adversarial: PixelTensor;
  adversarialRgba: RgbaImage;
  /** The objective's distance before (0 for push-apart) and at the point kept. */
  attacked: { model: string; clean: number; after: number };
  queries: number;
  /** Squares kept (the starting point not counted). */
  accepted: number;
}

export async function squareAttackImage<I>(
  engine: Engine<I>,
  image: RgbaImage,
  target: RgbaImage | null,
  request: { model: string; objective: AttackObjective; settings: SquareSettings },
  { signal, onProgress }: JobOptions & { onProgress?: (p: SquareProgress) => void } = {},
): Promise<SquareAttackOutcome> {
  const { model, objective, settings } = request;
  if (objective !== 'push-apart' && !target) throw new RclipError('INVALID_ARGUMENT', `${objective} needs a second image (B).`);
  const clean = await engine.pixelsFor(model, image);
  const reference = objective === 'push-apart' ? clean : await engine.pixelsFor(model, target!);
  const [referenceEmbedding, cleanEmbedding] = await engine.embedPixels(model, [reference, clean], { signal });
  // Square maximises: the distance for push-apart and push-from-target, its negative for pull-together.
  const sign = objective === 'pull-together' ? -1 : 1;
  const shape = { channels: 3, height: clean.size, width: clean.size };
  const result = await runSquareAttack(
    clean.data,
    shape,
    settings,
    async (data) => {
      const [e] = await engine.embedPixels(model, [{ size: clean.size, data }], { signal });
      return { score: sign * cosineDistance(e, referenceEmbedding) };
    },
    { checkCancelled: () => throwIfAborted(signal), onQuery: onProgress },
  );
  const adversarial = { size: clean.size, data: result.adversarial };
  return {
    adversarial,
    adversarialRgba: pixelsToRgba(adversarial),
    attacked: { model, clean: cosineDistance(cleanEmbedding, referenceEmbedding), after: sign * result.score },
    queries: result.queries,
    accepted: result.accepted,
  };
}
