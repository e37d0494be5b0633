/**
 * `npx tsx bench/calibrate.ts --model ID [--write]`: a model's calibration (verdict bands and dedupe
 * threshold, src/core/calibration.ts) from its measured distance bands, bench/results/distance-bands-<ID>.json
 * (run bench/distance-bands.ts first). Prints it; --write puts it into public/models/<ID>/manifest.json.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { calibrationFromBands } from '../src/core/calibration';
import { validateManifest } from '../src/core/manifest';

const root = path.resolve(import.meta.dirname, '..');
const { values } = parseArgs({ options: { model: { type: 'string' }, write: { type: 'boolean' } } });
if (!values.model) throw new Error('--model ID is required');
const bandsFile = `bench/results/distance-bands-${values.model}.json`;
const bands = JSON.parse(readFileSync(path.join(root, bandsFile), 'utf8'));
const calibration = calibrationFromBands(bands.rows, `calibrationFromBands (src/core/calibration.ts) on ${bandsFile}: clean distances to the reference on ${bands.images} 2AFC evaluation photos, seed ${bands.seed} (npx tsx bench/distance-bands.ts --model ${values.model}; npx tsx bench/calibrate.ts --model ${values.model} --write)`);
process.stdout.write(`${JSON.stringify(calibration, null, 2)}\n`);
if (values.write) {
  const file = path.join(root, 'public/models', values.model, 'manifest.json');
  const manifest = { ...JSON.parse(readFileSync(file, 'utf8')), calibration };
  validateManifest(manifest, file);
  writeFileSync(file, `${JSON.stringify(manifest, null, 2)}\n`);
  process.stdout.write(`wrote the calibration into ${path.relative(root, file)}\n`);
}
