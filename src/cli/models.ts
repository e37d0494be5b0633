import { RclipError } from '../core/errors';
import { positionalCount } from '../core/options';
import { copyModels } from '../engine/node-models';
import { DEFAULT_MODELS_DIR } from '../engine/node-paths';
import type { Output, Values } from './commands';

export async function modelsCommand(_values: Values, positionals: string[]): Promise<Output> {
  const [action, ...rest] = positionals;
  if (action === 'path') {
    positionalCount(rest, 0, 0, 'nothing after "path"');
    return { json: { models: DEFAULT_MODELS_DIR }, text: DEFAULT_MODELS_DIR };
  }
  if (action !== 'copy') throw new RclipError('INVALID_ARGUMENT', `expected "copy <dir>" or "path"${action ? ` (got "${action}")` : ''}.`);
  positionalCount(rest, 1, 1, 'one destination folder after "copy"');
  const { models, to } = copyModels(DEFAULT_MODELS_DIR, rest[0]);
  return { json: { models, to }, text: `Copied ${models.length} model(s) (${models.join(', ')}) and index.json to ${to}. Serve that folder and pass its URL as modelsBase (or models-base="…").` };
}
