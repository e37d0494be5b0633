import { readdirSync } from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { decodeImageFile } from './src/engine/node';
const dir = '/work/shared/data/imagenet-sample';
const files = readdirSync(dir).slice(0, 200).map((f) => path.join(dir, f));
async function pool(k: number, f: (x: string) => Promise<unknown>) { let i = 0; await Promise.all(Array.from({ length: k }, async () => { while (i < files.length) await f(files[i++]); })); }
console.log('sharp concurrency', sharp.concurrency(), 'uv', process.env.UV_THREADPOOL_SIZE);
for (const k of [1, 4]) {
  const c = process.cpuUsage(); const t = performance.now();
  await pool(k, decodeImageFile);
  const d = process.cpuUsage(c);
  console.log({ k, perS: (files.length / (performance.now() - t) * 1000).toFixed(0), cpuMsPerImg: ((d.user + d.system) / 1000 / files.length).toFixed(2) });
}
