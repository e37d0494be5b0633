import { readdirSync } from 'node:fs';
import path from 'node:path';
import { decodeImageFile } from './src/engine/node';
import { toModelPixels, compositeToRgb, shortestSideSize } from './src/core/preprocess';
const dir = '/work/shared/data/imagenet-sample';
const files = readdirSync(dir).slice(0, 100).map((f) => path.join(dir, f));
const rgbas = [];
for (const f of files) rgbas.push(await decodeImageFile(f));
for (let rep = 0; rep < 3; rep++) {
let t = performance.now();
for (const r of rgbas) compositeToRgb(r, [1,1,1]);
const tc = performance.now() - t; t = performance.now();
for (const r of rgbas) toModelPixels(r, { size: 96, background: [1,1,1] });
const tp = performance.now() - t;
console.log({ compositeMs: tc / rgbas.length, allMs: tp / rgbas.length });
}
