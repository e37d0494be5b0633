/**
 * "Adding 10 files to an indexed folder of 10,000 embeds only those 10", counted by the store.
 * The folder (a temp dir): 10,000 byte-identical copies of the 800 photos of
 * ../shared/data/imagenet-sample under distinct names. Its store is seeded without embedding 10,000
 * times (2 cores shared with other jobs): the 800 originals are embedded through the store, and each
 * copy's row is written with its original's embedding, which is what embedding the identical bytes
 * gives; a resync of the unchanged folder must then embed 0 files, which checks that the rows are
 * keyed as the store's own writes. Then 10 new files (resized JPEGs, new content) are added and the
 * folder synced and indexed again.
 *   nice npx tsx bench/store-incremental.ts [files=10000]
 * Writes bench/results/store-incremental.json.
 */
import { copyFileSync, existsSync, mkdirSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { EmbeddingStore, SEGMENT_FILES, storeModel, syncFiles, type StoreRow } from '../src/engine/embedding-store';
import { expandImageArgs } from '../src/engine/node-images';
import { openModel } from '../src/engine/node-model';
import { ensureIndex } from '../src/engine/vector-index';

const total = Number(process.argv[2] ?? 10000);
const IMAGENET = path.resolve(import.meta.dirname, '../../shared/data/imagenet-sample');
if (!existsSync(IMAGENET)) throw new Error(`${IMAGENET} is absent: this bench builds its folder from those photos.`);
const work = path.join(tmpdir(), `rclip-store-incremental-${total}`);
rmSync(work, { recursive: true, force: true });
const folder = path.join(work, 'folder');
mkdirSync(folder, { recursive: true });
const photos = readdirSync(IMAGENET).sort();
const copyOf = new Map<string, string>();
for (let i = 0; i < total; i++) {
  const photo = photos[i % photos.length];
  const name = `${path.parse(photo).name}.c${Math.floor(i / photos.length)}.JPEG`;
  copyFileSync(path.join(IMAGENET, photo), path.join(folder, name));
  copyOf.set(name, photo);
}

const model = await openModel(undefined);
const seconds = async <T>(f: () => Promise<T> | T): Promise<[T, number]> => {
  const t = performance.now();
  const out = await f();
  return [out, +((performance.now() - t) / 1000).toFixed(2)];
};
const originals = await syncFiles(EmbeddingStore.open(path.join(work, 'originals'), storeModel(model)), model, IMAGENET, photos.map((p) => path.join(IMAGENET, p)));
const dim = originals.contents.vectors.dim;
const store = EmbeddingStore.open(path.join(work, 'store'), storeModel(model));
const names = readdirSync(folder).sort();
for (let start = 0; start < names.length; start += SEGMENT_FILES) {
  store.append(
    names.slice(start, start + SEGMENT_FILES).map((name): StoreRow => {
      const s = statSync(path.join(folder, name));
      const row = originals.contents.latest.get(copyOf.get(name)!)!;
      return { path: name, size: s.size, mtimeMs: s.mtimeMs, embedding: originals.contents.vectors.data.subarray(row * dim, (row + 1) * dim) };
    }),
  );
}
const [firstIndex, indexS] = await seconds(() => ensureIndex(store, store.read()));
const [unchanged, unchangedS] = await seconds(() => syncFiles(EmbeddingStore.open(store.dir, storeModel(model)), model, folder, expandImageArgs([folder])));
console.log(`seeded ${names.length} rows, index ${firstIndex.added} rows in ${indexS} s; resync unchanged: ${unchanged.embedded} embedded (${unchangedS} s)`);

for (const photo of photos.slice(0, 10)) await sharp(path.join(IMAGENET, photo)).resize({ width: 200 }).jpeg({ quality: 85 }).toFile(path.join(folder, `${path.parse(photo).name}.new.jpg`));
const [added, addS] = await seconds(async () => {
  const reopened = EmbeddingStore.open(store.dir, storeModel(model));
  const synced = await syncFiles(reopened, model, folder, expandImageArgs([folder]));
  return { synced, index: ensureIndex(reopened, synced.contents) };
});
console.log(`after adding 10: ${added.synced.files.length} files, ${added.synced.embedded} embedded, ${added.index.added} index rows added, ${addS} s`);
const out = path.join(import.meta.dirname, 'results', 'store-incremental.json');
writeFileSync(
  out,
  `${JSON.stringify(
    {
      date: new Date().toISOString(),
      conditions: "2-core machine shared with other engineers' jobs",
      model: model.info.id,
      folder_files: names.length,
      seeded: { rows: names.length, index_rows: firstIndex.added, index_s: indexS },
      resync_unchanged: { embedded: unchanged.embedded, seconds: unchangedS },
      after_adding_10: { files: added.synced.files.length, embedded: added.synced.embedded, index_rows_added: added.index.added, seconds: addS },
    },
    null,
    1,
  )}\n`,
);
console.log(`wrote ${out}`);
