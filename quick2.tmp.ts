import { readdirSync } from 'node:fs';
import path from 'node:path';
import { decodeImageFile } from './src/engine/node';
import { openModel } from './src/engine/node-model';
const dir = '/work/shared/data/imagenet-sample';
const files = readdirSync(dir).slice(0, 100).map((f) => path.join(dir, f));
for (const threads of [1, 2]) {
  const m = await openModel(undefined, { threads });
  const px = []; for (const f of files) px.push(await m.engine.pixelsFor(m.ref, await decodeImageFile(f)));
  for (const b of [1, 8, 32]) {
    const c = process.cpuUsage(); const t = performance.now();
    for (let i = 0; i < px.length; i += b) await m.engine.embedPixels(m.ref, px.slice(i, i + b));
    const wall = performance.now() - t; const cpu = process.cpuUsage(c);
    console.log({ threads, batch: b, perS: (px.length / wall * 1000).toFixed(0), cpuMsPerImg: ((cpu.user + cpu.system) / 1000 / px.length).toFixed(2) });
  }
}
