import { readdirSync } from 'node:fs';
import path from 'node:path';
import { decodeImageFile } from './src/engine/node';
import { toModelPixels, compositeToRgb } from './src/core/preprocess';
import { toModelPixels as oldPixels } from './src/core/preprocess-old.tmp';
const dir = '/work/shared/data/imagenet-sample';
const files = readdirSync(dir).slice(0, 100).map((f) => path.join(dir, f));
const imgs = []; for (const f of files) imgs.push(await decodeImageFile(f));
const cpu = (f: () => void) => { const c = process.cpuUsage(); f(); const d = process.cpuUsage(c); return ((d.user + d.system) / 1000 / imgs.length).toFixed(2); };
for (let rep = 0; rep < 3; rep++) {
  console.log({
    new96: cpu(() => { for (const i of imgs) toModelPixels(i, { size: 96, background: [1,1,1] }); }),
    old96: cpu(() => { for (const i of imgs) oldPixels(i, { size: 96, background: [1,1,1] }); }),
    composite: cpu(() => { for (const i of imgs) compositeToRgb(i, [1,1,1]); }),
  });
}
