// Runs an ONNX graph in onnxruntime-node (the CPU build of the runtime the browser uses) so the
// Python tools can check exported graphs against PyTorch without an onnxruntime Python wheel.
//
//   node tools/ort_run.mjs <model.onnx> <dir>
//
// <dir>/inputs.json: {"<input name>": [dims...], ...}; each input's data is <dir>/<name>.f32
// (raw little-endian float32). Writes each output as <dir>/out_<name>.f32 and prints
// {"<output name>": [dims...], ...} on stdout.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import ort from 'onnxruntime-node';

const [modelPath, dir] = process.argv.slice(2);
if (!modelPath || !dir) {
  console.error('usage: node tools/ort_run.mjs <model.onnx> <dir>');
  process.exit(2);
}
const dims = JSON.parse(readFileSync(join(dir, 'inputs.json'), 'utf8'));
const feeds = {};
for (const [name, shape] of Object.entries(dims)) {
  const bytes = readFileSync(join(dir, `${name}.f32`));
  const data = new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4);
  feeds[name] = new ort.Tensor('float32', Float32Array.from(data), shape);
}
const session = await ort.InferenceSession.create(modelPath, { intraOpNumThreads: 1, interOpNumThreads: 1 });
const results = await session.run(feeds);
const shapes = {};
for (const [name, tensor] of Object.entries(results)) {
  writeFileSync(join(dir, `out_${name}.f32`), Buffer.from(tensor.data.buffer, tensor.data.byteOffset, tensor.data.byteLength));
  shapes[name] = tensor.dims;
}
process.stdout.write(JSON.stringify(shapes));
