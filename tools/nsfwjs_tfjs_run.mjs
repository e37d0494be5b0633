// Runs one of nsfwjs's bundled TensorFlow.js layers models in TensorFlow.js itself (@tensorflow/tfjs,
// CPU backend, pure JS) and writes the activations of named layers, so that the Python converter
// (tools/rclip_tools/keras_mobilenet.py) can be checked against the framework the model was made for.
// The model is read from node_modules/nsfwjs exactly as tools/nsfwjs_dump.mjs reads it; tfjs does its
// own dequantisation of the uint8 weights.
//
//   node tools/nsfwjs_tfjs_run.mjs <dir> [mobilenet_v2]
//
// <dir>/input.json: {"shape": [N, H, W, 3], "outputs": ["block_10_expand_relu", ...]}; the batch is
// <dir>/input.f32 (raw little-endian float32, NHWC, the model's own input: nsfwjs feeds pixels / 255).
// Writes each output as <dir>/out_<layer>.f32 (NHWC) and prints {"<layer>": [dims...], ...} on stdout.
import { createRequire } from 'node:module';
import { readFileSync, writeFileSync } from 'node:fs';
import { join, sep } from 'node:path';

const [dir, name = 'mobilenet_v2'] = process.argv.slice(2);
if (!dir) {
  console.error('usage: node tools/nsfwjs_tfjs_run.mjs <dir> [mobilenet_v2]');
  process.exit(2);
}
const require = createRequire(import.meta.url);
let tf;
let pkgDir;
try {
  tf = await import('@tensorflow/tfjs');
  const entry = require.resolve('nsfwjs');
  pkgDir = entry.slice(0, entry.lastIndexOf(`${sep}dist${sep}`));
} catch (err) {
  console.error(`nsfwjs_tfjs_run: needs the npm packages nsfwjs and @tensorflow/tfjs (run \`npm ci\`): ${err.message}`);
  process.exit(2);
}
await tf.setBackend('cpu');
await tf.ready();

const modelDir = join(pkgDir, 'dist', 'models', name);
const { modelTopology, weightsManifest } = require(join(modelDir, 'model.min.js'));
const shards = weightsManifest.flatMap((group) => group.paths.map((p) =>
  Buffer.from(require(join(modelDir, `${p}.min.js`)), 'base64')));
const bytes = Buffer.concat(shards);
const weightData = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
const weightSpecs = weightsManifest.flatMap((group) => group.weights);
const model = await tf.loadLayersModel(tf.io.fromMemory({ modelTopology, weightSpecs, weightData }));

const { shape, outputs } = JSON.parse(readFileSync(join(dir, 'input.json'), 'utf8'));
const raw = readFileSync(join(dir, 'input.f32'));
const input = tf.tensor(new Float32Array(raw.buffer, raw.byteOffset, raw.byteLength / 4), shape, 'float32');
const sub = tf.model({ inputs: model.inputs, outputs: outputs.map((layer) => model.getLayer(layer).output) });
let results = sub.predict(input); // inference mode: BatchNorm uses its moving statistics
if (!Array.isArray(results)) results = [results];
const shapes = {};
for (const [i, layer] of outputs.entries()) {
  const data = await results[i].data();
  writeFileSync(join(dir, `out_${layer}.f32`), Buffer.from(data.buffer, data.byteOffset, data.byteLength));
  shapes[layer] = results[i].shape;
}
process.stdout.write(JSON.stringify(shapes));
