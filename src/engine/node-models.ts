/** The shipped models folder on disk: what it lists (rclip models list) and copying it somewhere a page can serve it. */
import { cpSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { RclipError } from '../core/errors';
import { validateManifest, validateModelIndex, type ModelIndex, type ModelManifest } from '../core/manifest';

function readIndex(from: string): ModelIndex {
  const indexPath = path.join(from, 'index.json');
  if (!existsSync(indexPath)) throw new RclipError('MODEL_NOT_FOUND', `No models at "${from}" (index.json is missing).`);
  return validateModelIndex(JSON.parse(readFileSync(indexPath, 'utf8')), indexPath);
}

/** The index and each model's manifest (validated), in the index's order; no model file is read. */
export function listModels(from: string): { index: ModelIndex; manifests: ModelManifest[] } {
  const index = readIndex(from);
  const manifests = index.models.map((m) => {
    const file = path.join(from, m.path, 'manifest.json');
    return validateManifest(JSON.parse(readFileSync(file, 'utf8')), file);
  });
  return { index, manifests };
}

export function copyModels(from: string, to: string): { models: string[]; to: string } {
  const index = readIndex(from);
  mkdirSync(to, { recursive: true });
  cpSync(path.join(from, 'index.json'), path.join(to, 'index.json'));
  for (const m of index.models) cpSync(path.join(from, m.path), path.join(to, m.path), { recursive: true });
  return { models: index.models.map((m) => m.id), to: path.resolve(to) };
}
