/** `--model`: an id from public/models/index.json, or a path to a model folder (one holding manifest.json). */
import type { OpenModel } from '../engine/node-eval';

export { openModel, twoAfcModel, type OpenModel } from '../engine/node-eval';

/** Embeds files in batches (decode, preprocess, one ORT run per batch); errors name the file. */
export async function embedFiles({ engine, ref }: OpenModel, files: readonly string[], onDone?: (done: number) => void, batchSize = 16): Promise<Float32Array[]> {
  const out: Float32Array[] = [];
  for (let i = 0; i < files.length; i += batchSize) {
    const batch = files.slice(i, i + batchSize);
    const pixels = await Promise.all(batch.map(async (f) => engine.pixelsFor(ref, (await engine.decode(f)).rgba)));
    out.push(...(await engine.embedPixels(ref, pixels)));
    onDone?.(out.length);
  }
  return out;
}
