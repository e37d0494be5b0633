/**
 * The embedding store (src/engine/embedding-store.ts) and the approximate index behind
 * `rclip dedupe` / `rclip match`, on real photos (../shared/data/imagenet-sample) and the shipped
 * models: incremental updates, refusal of corrupt or foreign stores, index = exact, shards merged.
 */
import { execFile } from 'node:child_process';
import { appendFileSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { parquetReadObjects } from 'hyparquet';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeNearDuplicate, NEAR_DUPLICATE_KINDS } from '../bench/near-duplicate-files';
import { groupsFromEdges, type Edge } from '../src/core/duplicate-groups';
import { RclipError } from '../src/core/errors';
import { EmbeddingStore, gatherRows, storeModel, syncFiles } from '../src/engine/embedding-store';
import { expandImageArgs } from '../src/engine/node-images';
import { openModel, type OpenModel } from '../src/engine/node-model';
import { ensureIndex, indexedPairsWithin } from '../src/engine/vector-index';
import { exactEdges } from '../src/cli/dedupe';

const root = path.resolve(__dirname, '..');
const IMAGENET = path.resolve(root, '../shared/data/imagenet-sample');
const haveData = existsSync(IMAGENET);
const PHOTOS = 48;

let dir: string;
let model: OpenModel;
let photos: string[];

async function rclip(...args: string[]): Promise<{ code: number; out: any; stderr: string }> {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [path.join(root, 'bin/rclip.mjs'), ...args, '--json'], { cwd: root, timeout: 180_000 });
    return { code: 0, out: JSON.parse(stdout), stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, out: e.stdout ? JSON.parse(e.stdout) : null, stderr: e.stderr };
  }
}

function storeError(f: () => unknown): RclipError {
  try {
    f();
  } catch (err) {
    if (err instanceof RclipError) return err;
    throw err;
  }
  throw new Error('expected an RclipError');
}

describe.skipIf(!haveData)(`embedding store on real photos (needs ${IMAGENET})`, () => {
  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'rclip-store-'));
    model = await openModel(undefined);
    // A folder of real photos plus near-duplicate files of some of them (one edit kind each).
    const folder = path.join(dir, 'photos');
    mkdirSync(folder);
    const sources = readdirSync(IMAGENET).sort().filter((_, i) => i % 16 === 3).slice(0, PHOTOS);
    for (const s of sources) copyFileSync(path.join(IMAGENET, s), path.join(folder, s));
    for (let i = 0; i < 16; i++) await writeNearDuplicate(path.join(folder, sources[i]), folder, NEAR_DUPLICATE_KINDS[i % NEAR_DUPLICATE_KINDS.length]);
    photos = expandImageArgs([folder]);
  }, 120_000);
  afterAll(async () => model && (await model.engine.unloadModel(model.ref)));

  it('embeds only new or changed files; a reopened store answers with the same rows', async () => {
    const folder = path.join(dir, 'incremental');
    mkdirSync(folder);
    const some = photos.slice(0, 10);
    for (const f of some) copyFileSync(f, path.join(folder, path.basename(f)));
    const store = EmbeddingStore.open(path.join(dir, 'incremental-store'), storeModel(model));
    const first = await syncFiles(store, model, folder, expandImageArgs([folder]));
    expect(first.embedded).toBe(10);
    const again = await syncFiles(EmbeddingStore.open(store.dir, storeModel(model)), model, folder, expandImageArgs([folder]));
    expect(again.embedded).toBe(0);
    expect(gatherRows(again.contents, again.rows).data).toEqual(gatherRows(first.contents, first.rows).data);
    // Two files added, one touched (same bytes, new mtime): three embedded, the other nine reused.
    copyFileSync(photos[20], path.join(folder, path.basename(photos[20])));
    copyFileSync(photos[21], path.join(folder, path.basename(photos[21])));
    const later = new Date(Date.now() + 10_000);
    utimesSync(path.join(folder, path.basename(some[0])), later, later);
    const grown = await syncFiles(store, model, folder, expandImageArgs([folder]));
    expect(grown.embedded).toBe(3);
    expect(grown.files.length).toBe(12);
    expect(store.segmentCount).toBe(2);
  }, 120_000);

  it('refuses a corrupt or foreign store with its code, and --rebuild starts it afresh', async () => {
    const folder = path.join(dir, 'small');
    mkdirSync(folder);
    for (const f of photos.slice(0, 3)) copyFileSync(f, path.join(folder, path.basename(f)));
    const storeDir = path.join(dir, 'small-store');
    expect((await rclip('embed', folder, '--store', storeDir)).out.embedded_now).toBe(3);
    const segment = path.join(storeDir, 'segments', readdirSync(path.join(storeDir, 'segments'))[0]);
    const bytes = readFileSync(segment);
    bytes[bytes.length >> 1] ^= 0xff;
    writeFileSync(segment, bytes);
    expect(storeError(() => EmbeddingStore.open(storeDir, storeModel(model))).code).toBe('STORE_CORRUPT');
    const refused = await rclip('dedupe', folder, '--store', storeDir);
    expect(refused.code).toBe(1);
    expect(refused.out.error.code).toBe('STORE_CORRUPT');
    expect(refused.stderr).toContain('--rebuild');
    const rebuilt = await rclip('dedupe', folder, '--store', storeDir, '--rebuild');
    expect(rebuilt.code, rebuilt.stderr).toBe(0);
    expect(rebuilt.out.store.embedded_now).toBe(3);

    // Another model's store, a folder that is no store, and a damaged store.json.
    const baseline = await openModel('rclip-mnv2-base');
    expect(storeError(() => EmbeddingStore.open(storeDir, storeModel(baseline))).code).toBe('STORE_FOREIGN');
    await baseline.engine.unloadModel(baseline.ref);
    const notStore = path.join(dir, 'not-a-store');
    mkdirSync(notStore);
    writeFileSync(path.join(notStore, 'notes.txt'), 'hello');
    expect(storeError(() => EmbeddingStore.open(notStore, storeModel(model))).code).toBe('STORE_FOREIGN');
    appendFileSync(path.join(storeDir, 'store.json'), '}garbage');
    expect(storeError(() => EmbeddingStore.open(storeDir, storeModel(model))).code).toBe('STORE_CORRUPT');
  }, 180_000);

  it('the approximate index finds the same near-duplicate groups as exact search', async () => {
    const store = EmbeddingStore.open(path.join(dir, 'groups-store'), storeModel(model));
    const synced = await syncFiles(store, model, path.dirname(photos[0]), photos);
    const threshold = model.info.manifest.calibration!.dedupeThreshold;
    const exact = groupsFromEdges(photos, exactEdges(gatherRows(synced.contents, synced.rows), threshold));
    const edges: Edge[] = [];
    indexedPairsWithin(ensureIndex(store, synced.contents), synced.contents, synced.rows, threshold, (i, j, d) => edges.push([i, j, d]));
    const approximate = groupsFromEdges(photos, edges);
    // The planted copies make groups (not asserted per copy: how far an edit moves an embedding is the model's business).
    expect(exact.length).toBeGreaterThan(4);
    expect(approximate.map((g) => g.files)).toEqual(exact.map((g) => g.files));
    // The index is on disk and recorded: a second run adds nothing.
    expect(ensureIndex(EmbeddingStore.open(store.dir, storeModel(model)), synced.contents).added).toBe(0);
  }, 180_000);

  it('two shards merged give the same groups as one run, and the store is Parquet any reader opens', async () => {
    const folder = path.dirname(photos[0]);
    const shards = [0, 1].map((i) => path.join(dir, `shard-${i}`));
    const embedded = await Promise.all(shards.map(async (s, i) => (await rclip('embed', folder, '--store', s, '--shard', `${i}/2`)).out.embedded_now));
    expect(embedded[0] + embedded[1]).toBe(photos.length);
    const merged = path.join(dir, 'merged');
    const merge = await rclip('store', 'merge', ...shards, '--out', merged);
    expect(merge.code, merge.stderr).toBe(0);
    expect(merge.out.files).toBe(photos.length);
    const fromMerged = await rclip('dedupe', folder, '--store', merged, '--index');
    expect(fromMerged.code, fromMerged.stderr).toBe(0);
    expect(fromMerged.out.store.embedded_now).toBe(0);
    const oneRun = await rclip('dedupe', folder, '--store', path.join(dir, 'one-run'), '--exact');
    expect(fromMerged.out.groups).toEqual(oneRun.out.groups);

    // An independent Parquet reader (hyparquet) sees the columns and the embeddings rclip stored.
    const segment = path.join(shards[0], 'segments', readdirSync(path.join(shards[0], 'segments'))[0]);
    const buf = readFileSync(segment);
    const rows = (await parquetReadObjects({ file: buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength) })) as Array<{ path: string; size: bigint; embedding: number[]; error: string | null }>;
    expect(rows.length).toBe(embedded[0]);
    expect(rows[0].embedding.length).toBe(model.info.manifest.embeddingSize);
    const contents = EmbeddingStore.open(shards[0], storeModel(model)).read();
    const row = contents.latest.get(rows[0].path)!;
    expect(Float32Array.from(rows[0].embedding)).toEqual(contents.vectors.data.subarray(row * contents.vectors.dim, (row + 1) * contents.vectors.dim));
    expect(rows[0].error).toBeNull();
  }, 300_000);
});
