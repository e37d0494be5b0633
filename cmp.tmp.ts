import { readdirSync } from 'node:fs';
import path from 'node:path';
import { decodeImageFile } from './src/engine/node';
import { toModelPixels } from './src/core/preprocess';
import { toModelPixels as oldPixels } from './src/core/preprocess-old.tmp';
const dir = '/work/shared/data/imagenet-sample';
const files = readdirSync(dir).map((f) => path.join(dir, f));
let mism = 0, n = 0, tOld = 0, tNew = 0;
const same = (a: Float32Array, b: Float32Array) => a.length === b.length && a.every((v, i) => v === b[i]);
for (const f of files) {
  const img = await decodeImageFile(f);
  for (const size of [96, 160, 224]) {
    let t = performance.now(); const a = oldPixels(img, { size, background: [1, 1, 1] }); tOld += performance.now() - t;
    t = performance.now(); const b = toModelPixels(img, { size, background: [1, 1, 1] }); tNew += performance.now() - t;
    n++; if (!same(a.data, b.data)) mism++;
  }
}
// random images with alpha, odd sizes, up- and downscaling
let seed = 1; const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
for (let k = 0; k < 300; k++) {
  const w = 1 + Math.floor(rnd() * 300), h = 1 + Math.floor(rnd() * 300);
  const data = new Uint8Array(w * h * 4).map(() => Math.floor(rnd() * 256));
  if (k % 2) for (let i = 3; i < data.length; i += 4) data[i] = 255;
  const size = [8, 16, 64, 96, 160][k % 5];
  const img = { width: w, height: h, data };
  n++; if (!same(oldPixels(img, { size, background: [0.2, 0.5, 1] }).data, toModelPixels(img, { size, background: [0.2, 0.5, 1] }).data)) { mism++; console.log('mismatch', w, h, size); }
}
console.log({ n, mism, msOldPerImage: tOld / (files.length * 3), msNewPerImage: tNew / (files.length * 3) });
