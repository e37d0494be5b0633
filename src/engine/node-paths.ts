import { existsSync } from 'node:fs';
import path from 'node:path';

/**
 * The shipped models: public/models/ in a checkout (seen from src/engine/ or dist/cli/), dist/lib/models/
 * in an installed package (seen from dist/cli/). No onnxruntime here, so `rclip models` runs without it.
 */
export const DEFAULT_MODELS_DIR =
  [path.resolve(import.meta.dirname, '../../public/models'), path.resolve(import.meta.dirname, '../lib/models')].find((dir) => existsSync(path.join(dir, 'index.json'))) ??
  path.resolve(import.meta.dirname, '../../public/models');
