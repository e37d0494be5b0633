/**
 * "Adding 10 files to an indexed folder of 10,000 embeds only those 10": a temp folder of 10,000
 * small image files (each of the 800 photos of ../shared/data/imagenet-sample resized to several
 * widths, JPEG), synced into a store and indexed, then 10 files added and the folder synced and
 * indexed again; the counts come from the store (files embedded, index rows added).
 *   nice npx tsx bench/store-incremental.ts [files=10000]
 * Writes bench/results/store-incremental.json.
 */
import { copyFileSync, existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { EmbeddingStore, storeModel, syncFiles } from '../src/engine/embedding-store';
import { expandImageArgs } from '../src/engine/node-images';
import { openModel } from '../src/engine/node-model';
import { ensureIndex } from '../src/engine/vector-index';

const total = Number(process.argv[2] ?? 10000);
const IMAGENET = path.resolve(import.meta.dirname, '../../shared/data/imagenet-sample');
if (!existsSync(IMAGENET)) throw new Error(`${IMAGENET} is absent: this bench builds its folder from those photos.`);
const work = path.join(tmpdir(), `rclip-store-incremental-${total}`);
const folder = path.join(work, 'folder');
mkdirSync(folder, { recursive: true });
const photos = readdirSync(IMAGENET).sort();
const widths = Array.from({ length: Math.ceil(total / photos.length) + 1 }, (_, i) => 64 + 8 * i);
// total + 10 files: the last 10 are held back, then added.
const names: Array<[string, number]> = [];
for (const w of widths) for (const p of photos) names.push([p, w]);
const made = names.slice(0, total + 10).map(([p, w]) => path.join(work, `${path.parse(p).name}.w${w}.jpg`));
for (const [i, [p, w]] of names.slice(0, total + 10).entries()) if (!existsSync(made[i])) await sharp(path.join(IMAGENET, p)).resize({ width: w }).jpeg({ quality: 85 }).toFile(made[i]);
for (const f of made.slice(0, total)) if (!existsSync(path.join(folder, path.basename(f)))) copyFileSync(f, path.join(folder, path.basename(f)));

const model = await openModel(undefined);
const store = EmbeddingStore.open(path.join(work, 'store'), storeModel(model), { rebuild: true });
let t = performance.now();
const first = await syncFiles(store, model, folder, expandImageArgs([folder]), (d, n) => d % 1000 === 0 && console.log(`embedded ${d}/${n}`));
const firstIndex = ensureIndex(store, first.contents);
const firstS = (performance.now() - t) / 1000;
console.log(`first run: ${first.embedded} embedded, ${firstIndex.added} indexed, ${firstS.toFixed(0)} s`);
for (const f of made.slice(total)) copyFileSync(f, path.join(folder, path.basename(f)));
t = performance.now();
const second = await syncFiles(EmbeddingStore.open(store.dir, storeModel(model)), model, folder, expandImageArgs([folder]));
const secondIndex = ensureIndex(EmbeddingStore.open(store.dir, storeModel(model)), second.contents);
const secondS = (performance.now() - t) / 1000;
console.log(`after adding 10: ${second.embedded} embedded, ${secondIndex.added} indexed, ${secondS.toFixed(1)} s`);
const out = path.join(import.meta.dirname, 'results', 'store-incremental.json');
writeFileSync(
  out,
  `${JSON.stringify({ date: new Date().toISOString(), conditions: "2-core machine shared with other engineers' jobs", model: model.info.id, folder_files: total, first: { embedded: first.embedded, indexed: firstIndex.added, seconds: +firstS.toFixed(1) }, added_files: 10, second: { files: second.files.length, embedded: second.embedded, indexed: secondIndex.added, seconds: +secondS.toFixed(1) } }, null, 1)}\n`,
);
console.log(`wrote ${out}`);
