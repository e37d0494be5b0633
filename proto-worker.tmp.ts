import { parentPort } from 'node:worker_threads';
import { decodeImageFile } from './src/engine/node';
import { toModelPixels } from './src/core/preprocess';
parentPort!.on('message', async ({ id, file, size }) => {
  try {
    const p = toModelPixels(await decodeImageFile(file), { size, background: [1, 1, 1] });
    parentPort!.postMessage({ id, data: p.data }, [p.data.buffer]);
  } catch (e) { parentPort!.postMessage({ id, error: String(e) }); }
});
