#!/usr/bin/env node
// Writes one of nsfwjs's bundled TensorFlow.js layers models as plain files for the Python converter
// (tools/rclip_tools/keras_mobilenet.py): topology.json (Keras model config), weights.json (the
// weightsManifest: names, shapes, per-tensor uint8 quantisation) and weights.bin (the shards' bytes,
// concatenated in manifest order). The model comes from node_modules/nsfwjs (npm, MIT), never from a
// file committed by hand.
//   node tools/nsfwjs_dump.mjs [mobilenet_v2] [out-dir]
import { createRequire } from 'node:module';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve, sep } from 'node:path';

const require = createRequire(import.meta.url);
const name = process.argv[2] ?? 'mobilenet_v2';
const out = resolve(process.argv[3] ?? join('tools', 'runs', 'nsfwjs', name));

let pkgDir;
try {
  const entry = require.resolve('nsfwjs'); // its "exports" hide package.json
  pkgDir = entry.slice(0, entry.lastIndexOf(`${sep}dist${sep}`));
} catch {
  console.error('nsfwjs_dump: the npm package nsfwjs is not installed; run `npm ci` in the repository root');
  process.exit(2);
}
const version = JSON.parse(readFileSync(join(pkgDir, 'package.json'), 'utf8')).version;
const modelDir = join(pkgDir, 'dist', 'models', name);
const { modelTopology, weightsManifest } = require(join(modelDir, 'model.min.js'));
const shards = weightsManifest.flatMap((group) => group.paths.map((p) =>
  Buffer.from(require(join(modelDir, `${p}.min.js`)), 'base64')));
const weights = Buffer.concat(shards);
const expected = weightsManifest.flatMap((g) => g.weights)
  .reduce((n, w) => n + w.shape.reduce((a, b) => a * b, 1) * (w.quantization ? 1 : 4), 0);
if (expected !== weights.length) {
  console.error(`nsfwjs_dump: ${name}: shards hold ${weights.length} bytes, the manifest describes ${expected}`);
  process.exit(1);
}
mkdirSync(out, { recursive: true });
writeFileSync(join(out, 'topology.json'), JSON.stringify(modelTopology));
writeFileSync(join(out, 'weights.json'), JSON.stringify({ nsfwjs: version, model: name, weightsManifest }));
writeFileSync(join(out, 'weights.bin'), weights);
console.error(`nsfwjs_dump: nsfwjs@${version} ${name}: ${weightsManifest[0].weights.length} tensors, ${weights.length} bytes -> ${out}`);
