import { readdirSync } from 'node:fs';
import path from 'node:path';
import { decodeImageFile } from './src/engine/node';
import { embedFiles, openModel } from './src/engine/node-model';
const dir = '/work/shared/data/imagenet-sample';
const files = readdirSync(dir).slice(0, 300).map((f) => path.join(dir, f));
async function pool(k: number, f: (x: string) => Promise<unknown>) { let i = 0; await Promise.all(Array.from({ length: k }, async () => { while (i < files.length) await f(files[i++]); })); }
for (const threads of [1, 2]) {
const m = await openModel(undefined, { threads });
for (const k of [2, 4, 8]) {
  let c = process.cpuUsage(); let t = performance.now(); await pool(k, decodeImageFile); const dec = files.length / ((performance.now() - t) / 1000); const dcpu = process.cpuUsage(c);
  c = process.cpuUsage(); t = performance.now(); await embedFiles(m, files, { concurrency: k, batchSize: 1 }); const emb = files.length / ((performance.now() - t) / 1000); const ecpu = process.cpuUsage(c);
  console.log({ threads, k, decodePerS: dec.toFixed(0), embedPerS: emb.toFixed(0), ratio: (emb / dec).toFixed(2), decCpu: ((dcpu.user + dcpu.system) / 1000 / files.length).toFixed(2), embCpu: ((ecpu.user + ecpu.system) / 1000 / files.length).toFixed(2) });
}
}
