import { PAPER_DEFAULTS } from '../src/core/attack';
import type { RgbaImage } from '../src/core/preprocess';
import { attackImage } from '../src/engine/attack';
import type { Engine } from '../src/engine/engine';

/**
 * Milliseconds per PGD step through the app's own attack runner (one queued attack.onnx job per
 * step, projection in JS), timed between the first and the last iterate so set-up is excluded.
 */
export async function msPerAttackStep<I>(engine: Engine<I>, model: string, image: RgbaImage, steps: number): Promise<number> {
  const at: number[] = [];
  await attackImage(engine, image, null, { model, objective: 'push-apart', settings: { ...PAPER_DEFAULTS, steps } }, { onStep: () => at.push(performance.now()) });
  return (at[at.length - 1] - at[0]) / (at.length - 1);
}
