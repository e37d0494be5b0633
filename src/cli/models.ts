import { RclipError } from '../core/errors';
import type { HeldRadius } from '../core/manifest';
import { per255, positionalCount } from '../core/options';
import { copyModels, listModels } from '../engine/node-models';
import { DEFAULT_MODELS_DIR } from '../engine/node-paths';
import type { Output, Values } from './commands';

/** The radius a model holds at (its manifest's robustness.holds, measured by the suite), for people. */
function heldText(holds: HeldRadius | null): string {
  if (!holds) return 'not measured';
  const radius = holds.eps === null ? 'no measured radius' : per255(holds.eps);
  return `${radius} (copy R@1 ≥ ${holds.minimum} under ${holds.attack})`;
}

/** `rclip models` / `rclip models list`: each model of the index with its role, input size and held radius. */
function list(): Output {
  const { index, manifests } = listModels(DEFAULT_MODELS_DIR);
  const role = (id: string) => (id === index.default ? 'default' : id === index.baseline ? 'baseline' : null);
  const models = manifests.map((m) => ({ id: m.id, name: m.name, role: role(m.id), input_size: m.input.size, embedding_size: m.embeddingSize, holds: m.robustness.holds ?? null }));
  const rows = [['id', 'role', 'input', 'holds at'], ...models.map((m) => [m.id, m.role ?? '-', `${m.input_size}×${m.input_size}`, heldText(m.holds)])];
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
  const table = rows.map((r) => r.map((cell, c) => (c < r.length - 1 ? cell.padEnd(widths[c]) : cell)).join('  '));
  return { json: { models_dir: DEFAULT_MODELS_DIR, models }, text: [...table, `(${DEFAULT_MODELS_DIR}; --model takes an id or a model folder)`].join('\n') };
}

export async function modelsCommand(_values: Values, positionals: string[]): Promise<Output> {
  const [action = 'list', ...rest] = positionals;
  if (action === 'list') {
    positionalCount(rest, 0, 0, 'nothing after "list"');
    return list();
  }
  if (action === 'path') {
    positionalCount(rest, 0, 0, 'nothing after "path"');
    return { json: { models: DEFAULT_MODELS_DIR }, text: DEFAULT_MODELS_DIR };
  }
  if (action !== 'copy') throw new RclipError('INVALID_ARGUMENT', `expected "list", "path" or "copy <dir>" (got "${action}").`);
  positionalCount(rest, 1, 1, 'one destination folder after "copy"');
  const { models, to } = copyModels(DEFAULT_MODELS_DIR, rest[0]);
  return { json: { models, to }, text: `Copied ${models.length} model(s) (${models.join(', ')}) and index.json to ${to}. Serve that folder and pass its URL as modelsBase (or models-base="…").` };
}
