/** Copying a models folder (index.json and the model folders it lists) somewhere a page can serve it. */
import { cpSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { RclipError } from '../core/errors';
import { validateModelIndex } from '../core/manifest';

export function copyModels(from: string, to: string): { models: string[]; to: string } {
  const indexPath = path.join(from, 'index.json');
  if (!existsSync(indexPath)) throw new RclipError('MODEL_NOT_FOUND', `No models at "${from}" (index.json is missing).`);
  const index = validateModelIndex(JSON.parse(readFileSync(indexPath, 'utf8')), indexPath);
  mkdirSync(to, { recursive: true });
  cpSync(indexPath, path.join(to, 'index.json'));
  for (const m of index.models) cpSync(path.join(from, m.path), path.join(to, m.path), { recursive: true });
  return { models: index.models.map((m) => m.id), to: path.resolve(to) };
}
