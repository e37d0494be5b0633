import { readdirSync } from 'node:fs';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { decodeImageFile } from './src/engine/node';
import { openModel } from './src/engine/node-model';
const dir = '/work/shared/data/imagenet-sample';
const files = readdirSync(dir).slice(0, 300).map((f) => path.join(dir, f));
const m = await openModel(undefined, { threads: 1 });
async function pool(k: number, f: (x: string) => Promise<unknown>) { let i = 0; await Promise.all(Array.from({ length: k }, async () => { while (i < files.length) await f(files[i++]); })); }
for (const nw of [2, 3]) {
  const workers = Array.from({ length: nw }, () => new Worker(`const { workerData } = require('node:worker_threads'); (async () => { (await import(workerData.tsx)).register(); await import(workerData.entry); })();`, { eval: true, workerData: { tsx: 'file:///work/wt-scale/node_modules/tsx/dist/esm/api/index.mjs', entry: new URL('./proto-worker.tmp.ts', import.meta.url).href } }));
  const pending = new Map<number, (v: any) => void>();
  workers.forEach((w) => w.on('message', (msg) => { pending.get(msg.id)!(msg); pending.delete(msg.id); }));
  let id = 0;
  const prep = (file: string) => new Promise<any>((res) => { const i = id++; pending.set(i, res); workers[i % nw].postMessage({ id: i, file, size: 96 }); });
  await prep(files[0]);
  for (const k of [4, 8]) {
    let t = performance.now(); await pool(k, decodeImageFile); const dec = files.length / ((performance.now() - t) / 1000);
    t = performance.now();
    // ordered pipeline: k in flight
    const q: Promise<any>[] = []; let next = 0;
    while (next < files.length && q.length < k) q.push(prep(files[next++]));
    while (q.length) { const r = await q.shift()!; if (next < files.length) q.push(prep(files[next++])); await m.engine.embedPixels(m.ref, [{ size: 96, data: r.data }]); }
    const emb = files.length / ((performance.now() - t) / 1000);
    console.log({ nw, k, decodePerS: dec.toFixed(0), embedPerS: emb.toFixed(0), ratio: (emb / dec).toFixed(2) });
  }
  workers.forEach((w) => w.terminate());
}
