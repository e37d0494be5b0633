import { PAPER_DEFAULTS } from '../src/core/attack';
import type { RgbaImage } from '../src/core/preprocess';
import type { Engine } from '../src/engine/engine';

/**
 * Milliseconds per PGD step through the app's own attack runner (one queued attack.onnx job per
 * step, projection in JS), timed between the first and the last iterate so set-up is excluded.
 */
export async function msPerAttackStep<I>(engine: Engine<I>, model: string, image: RgbaImage, steps: number): Promise<number> {
  return (await attackStepCost(engine, model, image, steps)).msPerStep;
}

/**
 * msPerAttackStep, and with `readbacks` (a counter of GPU→CPU downloads, e.g. GPUBuffer.mapAsync
 * calls) the downloads per step, counted the same way between the first and the last iterate.
 */
export async function attackStepCost<I>(engine: Engine<I>, model: string, image: RgbaImage, steps: number, readbacks?: () => number): Promise<{ msPerStep: number; readbacksPerStep: number | null }> {
  const at: number[] = [];
  const counts: number[] = [];
  await engine.attackDecoded(image, null, { model, objective: 'push-apart', settings: { ...PAPER_DEFAULTS, steps } }, {
    onStep: () => {
      at.push(performance.now());
      if (readbacks) counts.push(readbacks());
    },
  });
  const n = at.length - 1;
  return { msPerStep: (at[n] - at[0]) / n, readbacksPerStep: readbacks ? (counts[n] - counts[0]) / n : null };
}
