// Runs one of nsfwjs's bundled TensorFlow.js layers models in TensorFlow.js itself (@tensorflow/tfjs,
// CPU backend, pure JS) and writes the activations of named layers, so that the Python converter
// (tools/rclip_tools/keras_mobilenet.py) can be checked against the framework the model was made for.
// The model is read from node_modules/nsfwjs exactly as tools/nsfwjs_dump.mjs reads it; tfjs does its
// own dequantisation of the uint8 weights.
//
//   node tools/nsfwjs_tfjs_run.mjs <dir> [mobilenet_v2 | inception_v3]
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
const { modelTopology: bundled, weightsManifest } = require(join(modelDir, 'model.min.js'));
const { shape, outputs } = JSON.parse(readFileSync(join(dir, 'input.json'), 'utf8'));

// The model up to the requested layers only: the bundled heads (Flatten + Dense) fix the input size, so
// the topology keeps just the layers the outputs depend on, its InputLayer declared at the batch's H x W
// (the bundled ones fix 224 or 299; the convolutional layers work at any size they allow, as Keras'
// include_top=False), and the weights of the layers kept.
const modelTopology = structuredClone(bundled);
const config = modelTopology.model_config.config;
const byName = new Map(config.layers.map((l) => [l.name, l]));
const needed = new Set();
const stack = [...outputs];
while (stack.length) {
  const name = stack.pop();
  if (needed.has(name)) continue;
  if (!byName.has(name)) throw new Error(`no layer ${name} in the model`);
  needed.add(name);
  for (const node of byName.get(name).inbound_nodes) for (const src of node) stack.push(src[0]);
}
config.layers = config.layers.filter((l) => needed.has(l.name));
config.output_layers = outputs.map((name) => [name, 0, 0]);
for (const layer of config.layers) {
  if (layer.class_name === 'InputLayer') layer.config.batch_input_shape = [null, shape[1], shape[2], shape[3]];
}

const shards = weightsManifest.flatMap((group) => group.paths.map((p) =>
  Buffer.from(require(join(modelDir, `${p}.min.js`)), 'base64')));
const bytes = Buffer.concat(shards);
const weightSpecs = [];
const kept = [];
let offset = 0;
for (const spec of weightsManifest.flatMap((group) => group.weights)) {
  const size = spec.shape.reduce((a, b) => a * b, 1) * (spec.quantization ? 1 : 4);
  if (needed.has(spec.name.split('/')[0])) {
    weightSpecs.push(spec);
    kept.push(bytes.subarray(offset, offset + size));
  }
  offset += size;
}
const keptBytes = Buffer.concat(kept);
const weightData = keptBytes.buffer.slice(keptBytes.byteOffset, keptBytes.byteOffset + keptBytes.byteLength);
const model = await tf.loadLayersModel(tf.io.fromMemory({ modelTopology, weightSpecs, weightData }));

const raw = readFileSync(join(dir, 'input.f32'));
const input = tf.tensor(new Float32Array(raw.buffer, raw.byteOffset, raw.byteLength / 4), shape, 'float32');
let results = model.predict(input); // inference mode: BatchNorm uses its moving statistics
if (!Array.isArray(results)) results = [results];
const shapes = {};
for (const [i, layer] of outputs.entries()) {
  const data = await results[i].data();
  writeFileSync(join(dir, `out_${layer}.f32`), Buffer.from(data.buffer, data.byteOffset, data.byteLength));
  shapes[layer] = results[i].shape;
}
process.stdout.write(JSON.stringify(shapes));
