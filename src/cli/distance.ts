import { openModel } from '../engine/node-model';
import type { Output, Values } from './commands';
import { positionalCount } from '../core/options';

export async function distanceCommand(values: Values, positionals: string[]): Promise<Output> {
  positionalCount(positionals, 2, 2, 'two images');
  const [a, b] = positionals;
  const { engine, ref, info } = await openModel(values.model as string | undefined);
  const r = await engine.distance(a, b, ref);
  return {
    json: { model: info.id, distance: r.distance, similarity: r.similarity },
    text: `${r.distance.toFixed(6)}  (similarity ${r.similarity.toFixed(6)}, model ${info.id})`,
  };
}
