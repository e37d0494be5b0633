/**
 * A folder's embeddings on disk (docs/scale.md): a directory that any Parquet reader understands.
 *
 *   store.json                 what the store holds: format, the model (id, encoder sha256, D), and
 *                              each segment and the index file with their byte counts and sha256
 *   segments/NNNNNN-*.parquet  rows (path, size, mtime_ms, embedding FLOAT[D], error), appended one
 *                              batch of files at a time
 *   index.usearch              the approximate index over the segments' rows (src/engine/vector-index.ts)
 *
 * Paths are relative to the indexed folder, so shards embedded on different machines merge. A row
 * supersedes earlier rows of the same path; a file is embedded again only when its size or mtime
 * changed. Each batch is written as a new segment and then recorded in store.json (both by rename),
 * so an interrupted run keeps every batch it finished. Every file is checked against its sha256 on
 * open: a store that fails is refused (STORE_CORRUPT), as is one made by another model or another
 * program (STORE_FOREIGN); `rebuild` starts it afresh.
 */
import { createHash, randomBytes } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Field, FixedSizeList, Float32, Float64, Int64, makeData, RecordBatch, Schema, Struct, Table as ArrowTable, tableFromIPC, tableToIPC, Utf8, vectorFromArray } from 'apache-arrow';
import { Compression, readParquet, Table as ParquetTable, writeParquet, WriterPropertiesBuilder } from 'parquet-wasm/node';
import { isErrorCode, RclipError } from '../core/errors';
import type { EmbeddingMatrix } from '../core/nearest';
import { embedEach, type FileOutcome, type OpenModel, type SkippedFile } from './node-model';

export const STORE_FORMAT = 'rclip-store';
export const STORE_VERSION = 1;
const MANIFEST = 'store.json';

export interface FileRecord {
  file: string;
  bytes: number;
  sha256: string;
}

export interface StoreModel {
  id: string;
  encoderSha256: string;
  dim: number;
}

export interface StoreManifest {
  format: typeof STORE_FORMAT;
  version: number;
  model: StoreModel;
  segments: Array<FileRecord & { rows: number }>;
  /** The index covers rows [0, rows) of the segments taken in order. */
  index?: FileRecord & { rows: number; config: Record<string, unknown> };
}

/** One row to append: an embedding, or the error that kept the file out. */
export interface StoreRow {
  path: string;
  size: number;
  mtimeMs: number;
  embedding?: Float32Array;
  error?: { code: string; message: string };
}

export interface StoreContents {
  /** All rows of all segments in order (the index's keys), superseded ones included. */
  paths: string[];
  sizes: Float64Array;
  mtimes: Float64Array;
  /** rows × dim; a row without an embedding (error set) is zeros. */
  vectors: EmbeddingMatrix;
  errors: Array<string | null>;
  /** path → its latest row. */
  latest: Map<string, number>;
}

export function storeModel(model: OpenModel): StoreModel {
  const m = model.info.manifest;
  return { id: m.id, encoderSha256: m.files.encoder.sha256, dim: m.embeddingSize };
}

export function sha256File(file: string): string {
  return createHash('sha256').update(readFileSync(file)).digest('hex');
}

function writeAtomic(file: string, data: string | Uint8Array): void {
  const tmp = `${file}.${randomBytes(4).toString('hex')}.tmp`;
  writeFileSync(tmp, data);
  renameSync(tmp, file);
}

function segmentSchema(dim: number): Schema {
  return new Schema([
    new Field('path', new Utf8(), false),
    new Field('size', new Int64(), false),
    new Field('mtime_ms', new Float64(), false),
    new Field('embedding', new FixedSizeList(dim, new Field('item', new Float32(), false)), true),
    new Field('error', new Utf8(), true),
  ]);
}

/** Rows as one Parquet file: the embedding as a fixed-size list of float32 (DuckDB reads it as FLOAT[D]). */
export function encodeSegment(rows: readonly StoreRow[], dim: number): Uint8Array {
  const values = new Float32Array(rows.length * dim);
  rows.forEach((r, i) => r.embedding && values.set(r.embedding, i * dim));
  const schema = segmentSchema(dim);
  const listType = schema.fields[3].type as FixedSizeList<Float32>;
  const valid = rows.map((r) => r.embedding !== undefined);
  const nullBitmap = new Uint8Array(Math.ceil(rows.length / 8));
  valid.forEach((v, i) => v && (nullBitmap[i >> 3] |= 1 << (i & 7)));
  const embedding = makeData({ type: listType, length: rows.length, nullCount: valid.filter((v) => !v).length, nullBitmap, child: makeData({ type: new Float32(), length: values.length, data: values }) });
  const columns = {
    path: vectorFromArray(rows.map((r) => r.path), new Utf8()).data[0],
    size: makeData({ type: new Int64(), length: rows.length, data: BigInt64Array.from(rows, (r) => BigInt(r.size)) }),
    mtime_ms: makeData({ type: new Float64(), length: rows.length, data: Float64Array.from(rows, (r) => r.mtimeMs) }),
    embedding,
    error: vectorFromArray(rows.map((r) => (r.error ? `${r.error.code}: ${r.error.message}` : null)), new Utf8()).data[0],
  };
  const struct = makeData({ type: new Struct(schema.fields), length: rows.length, children: Object.values(columns) });
  const table = new ArrowTable([new RecordBatch(schema, struct)]);
  const props = new WriterPropertiesBuilder().setCompression(Compression.SNAPPY).setColumnCompression('embedding', Compression.UNCOMPRESSED).build();
  return writeParquet(ParquetTable.fromIPCStream(tableToIPC(table, 'stream')), props);
}

interface DecodedSegment {
  paths: string[];
  sizes: number[];
  mtimes: number[];
  vectors: Float32Array;
  errors: Array<string | null>;
}

function decodeSegment(bytes: Uint8Array, dim: number, name: string): DecodedSegment {
  let table: ArrowTable;
  try {
    table = tableFromIPC(readParquet(bytes).intoIPCStream());
  } catch (err) {
    throw new RclipError('STORE_CORRUPT', `segment ${name} is not a readable Parquet file (${(err as Error).message}).`, { cause: err });
  }
  const rows = table.numRows;
  const column = (n: string) => {
    const c = table.getChild(n);
    if (!c) throw new RclipError('STORE_FOREIGN', `segment ${name} has no "${n}" column: not an rclip store segment.`);
    return c;
  };
  const emb = column('embedding');
  const vectors = new Float32Array(rows * dim);
  let off = 0;
  for (const chunk of emb.data) {
    const child = chunk.children[0];
    if ((chunk.type as FixedSizeList).listSize !== dim) throw new RclipError('STORE_FOREIGN', `segment ${name} holds ${(chunk.type as FixedSizeList).listSize}-d embeddings; the store's model has ${dim}.`);
    vectors.set((child.values as Float32Array).subarray((child.offset + chunk.offset * dim), (child.offset + (chunk.offset + chunk.length) * dim)), off);
    off += chunk.length * dim;
  }
  return {
    paths: column('path').toArray() as string[],
    sizes: Array.from(column('size').toArray() as BigInt64Array, Number),
    mtimes: Array.from(column('mtime_ms').toArray() as Float64Array),
    vectors,
    errors: Array.from({ length: rows }, (_, i) => column('error').get(i) as string | null),
  };
}

export class EmbeddingStore {
  readonly dir: string;
  private manifest: StoreManifest;

  private constructor(dir: string, manifest: StoreManifest) {
    this.dir = dir;
    this.manifest = manifest;
  }

  /**
   * Opens the store at `dir` for `model`, creating it when the folder is absent or empty. Refuses a
   * foreign or corrupt one unless `rebuild`, which empties it first.
   */
  static open(dir: string, model: StoreModel, options: { rebuild?: boolean } = {}): EmbeddingStore {
    const manifestFile = path.join(dir, MANIFEST);
    // A folder with files but no store.json may be anything (the user's photos): never written to, even with rebuild.
    if (!existsSync(manifestFile) && !EmbeddingStore.isEmptyFolder(dir)) {
      throw new RclipError('STORE_FOREIGN', `"${dir}" is not an rclip store (it has files but no ${MANIFEST}); give an empty or new folder as the store.`);
    }
    if (options.rebuild && existsSync(manifestFile)) {
      rmSync(path.join(dir, 'segments'), { recursive: true, force: true });
      for (const f of readdirSync(dir)) if (f.endsWith('.usearch') || f.endsWith('.tmp')) rmSync(path.join(dir, f), { force: true });
      rmSync(manifestFile);
    }
    if (!existsSync(manifestFile)) {
      mkdirSync(path.join(dir, 'segments'), { recursive: true });
      const store = new EmbeddingStore(dir, { format: STORE_FORMAT, version: STORE_VERSION, model, segments: [] });
      store.saveManifest();
      return store;
    }
    const store = new EmbeddingStore(dir, EmbeddingStore.readManifest(dir));
    const m = store.manifest.model;
    if (m.encoderSha256 !== model.encoderSha256 || m.dim !== model.dim) {
      throw new RclipError(
        'STORE_FOREIGN',
        `store "${dir}" holds embeddings of model ${m.id} (encoder sha256 ${m.encoderSha256.slice(0, 12)}…), not of ${model.id} (${model.encoderSha256.slice(0, 12)}…); use another store, or --rebuild to empty this one.`,
      );
    }
    store.verify();
    return store;
  }

  /** store.json, checked for form (not yet the files it lists). */
  static readManifest(dir: string): StoreManifest {
    let manifest: StoreManifest;
    try {
      manifest = JSON.parse(readFileSync(path.join(dir, MANIFEST), 'utf8')) as StoreManifest;
    } catch (err) {
      throw new RclipError('STORE_CORRUPT', `store "${dir}": ${MANIFEST} is unreadable (${(err as Error).message}); --rebuild empties the store.`, { cause: err });
    }
    if (manifest?.format !== STORE_FORMAT) throw new RclipError('STORE_FOREIGN', `"${dir}/${MANIFEST}" is not an rclip store manifest (format "${String(manifest?.format)}").`);
    if (manifest.version !== STORE_VERSION) throw new RclipError('STORE_FOREIGN', `store "${dir}" has format version ${manifest.version}; this rclip reads version ${STORE_VERSION}.`);
    if (!Array.isArray(manifest.segments) || typeof manifest.model?.dim !== 'number') throw new RclipError('STORE_CORRUPT', `store "${dir}": ${MANIFEST} lacks its segments or model.`);
    return manifest;
  }

  get model(): StoreModel {
    return this.manifest.model;
  }

  get rows(): number {
    return this.manifest.segments.reduce((a, s) => a + s.rows, 0);
  }

  get segmentCount(): number {
    return this.manifest.segments.length;
  }

  static isEmptyFolder(dir: string): boolean {
    return !existsSync(dir) || readdirSync(dir).length === 0;
  }

  get indexRecord(): StoreManifest['index'] {
    return this.manifest.index;
  }

  private checkFile(record: FileRecord): void {
    const file = path.join(this.dir, record.file);
    if (!existsSync(file)) throw new RclipError('STORE_CORRUPT', `store "${this.dir}": ${record.file} is missing; --rebuild empties the store.`);
    const size = statSync(file).size;
    if (size !== record.bytes || sha256File(file) !== record.sha256) {
      throw new RclipError('STORE_CORRUPT', `store "${this.dir}": ${record.file} does not match its sha256 in ${MANIFEST} (changed or damaged); --rebuild empties the store.`);
    }
  }

  /** Every segment and the index against their sha256. */
  verify(): void {
    for (const s of this.manifest.segments) this.checkFile(s);
    if (this.manifest.index) this.checkFile(this.manifest.index);
  }

  private saveManifest(): void {
    writeAtomic(path.join(this.dir, MANIFEST), `${JSON.stringify(this.manifest, null, 1)}\n`);
  }

  private record(file: string, bytes?: Uint8Array): FileRecord {
    const abs = path.join(this.dir, file);
    return { file, bytes: statSync(abs).size, sha256: bytes ? createHash('sha256').update(bytes).digest('hex') : sha256File(abs) };
  }

  /** Appends rows as one new segment (written, then recorded: an interruption leaves the store as it was before this call). */
  append(rows: readonly StoreRow[]): void {
    if (rows.length === 0) return;
    for (const r of rows) {
      if (r.embedding && r.embedding.length !== this.model.dim) throw new RclipError('INVALID_ARGUMENT', `embedding of ${r.path} has ${r.embedding.length} values; the store holds ${this.model.dim}.`);
    }
    const bytes = encodeSegment(rows, this.model.dim);
    const name = `segments/${String(this.manifest.segments.length).padStart(6, '0')}-${randomBytes(4).toString('hex')}.parquet`;
    writeAtomic(path.join(this.dir, name), bytes);
    this.manifest.segments.push({ ...this.record(name, bytes), rows: rows.length });
    this.saveManifest();
  }

  /** Records the index file (already written under `file` in the store's folder) as covering rows [0, rows). */
  recordIndex(file: string, rows: number, config: Record<string, unknown>): void {
    this.manifest.index = { ...this.record(file), rows, config };
    this.saveManifest();
  }

  read(): StoreContents {
    const dim = this.model.dim;
    const total = this.rows;
    const vectors = new Float32Array(total * dim);
    const paths: string[] = [];
    const sizes = new Float64Array(total);
    const mtimes = new Float64Array(total);
    const errors: Array<string | null> = [];
    let row = 0;
    for (const s of this.manifest.segments) {
      const seg = decodeSegment(readFileSync(path.join(this.dir, s.file)), dim, s.file);
      if (seg.paths.length !== s.rows) throw new RclipError('STORE_CORRUPT', `store "${this.dir}": ${s.file} has ${seg.paths.length} rows, ${MANIFEST} says ${s.rows}.`);
      vectors.set(seg.vectors, row * dim);
      for (let i = 0; i < s.rows; i++) {
        paths.push(seg.paths[i]);
        sizes[row + i] = seg.sizes[i];
        mtimes[row + i] = seg.mtimes[i];
        errors.push(seg.errors[i]);
      }
      row += s.rows;
    }
    const latest = new Map<string, number>();
    paths.forEach((p, i) => latest.set(p, i));
    return { paths, sizes, mtimes, vectors: { rows: total, dim, data: vectors }, errors, latest };
  }

  /**
   * Shard stores into this (empty) one: their segments copied in the order given (later shards
   * supersede earlier ones for the same path). Each shard is verified first.
   */
  mergeFrom(shards: readonly EmbeddingStore[]): void {
    if (this.manifest.segments.length > 0) throw new RclipError('INVALID_ARGUMENT', `the merge target "${this.dir}" already holds rows; merge into a new folder.`);
    for (const shard of shards) {
      if (shard.model.encoderSha256 !== this.model.encoderSha256) throw new RclipError('STORE_FOREIGN', `shard "${shard.dir}" was embedded by model ${shard.model.id} (${shard.model.encoderSha256.slice(0, 12)}…), not ${this.model.id}.`);
      for (const s of shard.manifest.segments) {
        const name = `segments/${String(this.manifest.segments.length).padStart(6, '0')}-${randomBytes(4).toString('hex')}.parquet`;
        copyFileSync(path.join(shard.dir, s.file), path.join(this.dir, name));
        this.manifest.segments.push({ ...s, file: name });
      }
    }
    this.saveManifest();
  }
}

/** The store at `dir` as it stands, for merging or reading: verified, whatever its model. */
export function openExistingStore(dir: string): EmbeddingStore {
  if (!existsSync(path.join(dir, MANIFEST))) throw new RclipError('STORE_FOREIGN', `"${dir}" is not an rclip store (no ${MANIFEST}).`);
  return EmbeddingStore.open(dir, EmbeddingStore.readManifest(dir).model);
}

/** Files per segment when embedding: the most an interruption can lose. */
export const SEGMENT_FILES = 256;

/**
 * The one place the store embeds images: `files` in batches of SEGMENT_FILES, each batch's outcomes (an
 * embedding, or why the file was skipped) handed to `onBatch` in input order as it is done. With
 * `strict`, the first unreadable file throws instead (the batches before it are kept by the caller).
 */
export async function embedInBatches(
  model: OpenModel,
  files: readonly string[],
  onBatch: (start: number, outcomes: FileOutcome[]) => void,
  options: { strict?: boolean; onProgress?: (done: number) => void; onSkip?: (skipped: SkippedFile) => void } = {},
): Promise<void> {
  for (let start = 0; start < files.length; start += SEGMENT_FILES) {
    const outcomes: FileOutcome[] = [];
    for await (const outcome of embedEach(model, files.slice(start, start + SEGMENT_FILES), { strict: options.strict })) {
      outcomes.push(outcome);
      if (outcome.skipped) options.onSkip?.(outcome.skipped);
      options.onProgress?.(start + outcomes.length);
    }
    onBatch(start, outcomes);
  }
}

export interface SyncedFolder {
  /** The folder's readable files (paths as given, in order), and for each its row in `contents`. */
  files: string[];
  rows: Int32Array;
  contents: StoreContents;
  /** How many files were tried now (new or changed; those that failed now included). */
  embedded: number;
  /**
   * The files that could not be read, in input order: those that failed now, and those whose error row
   * is still current (same size and mtime: not tried again until the file changes).
   */
  skipped: SkippedFile[];
}

/** A row's `error` column ("CODE: message", as encodeSegment writes it) back as the file's skip. */
function storedSkip(file: string, error: string): SkippedFile {
  const at = error.indexOf(': ');
  const code = error.slice(0, at);
  return isErrorCode(code) ? { file, code, message: error.slice(at + 2) } : { file, code: 'IMAGE_DECODE_FAILED', message: error };
}

/**
 * Brings the store up to date with `files` (all under `root`; keyed by their path relative to it):
 * files whose size and mtime match their latest row are reused, the rest embedded and appended. A
 * file that failed is kept as an error row and reused like any other: it is reported as skipped on
 * every run (`onSkip` with `unchanged`, before any embedding; with `strict`, thrown) but tried again
 * only once it changes, so a rerun over the same bad files embeds nothing and appends no rows.
 */
export async function syncFiles(
  store: EmbeddingStore,
  model: OpenModel,
  root: string,
  files: readonly string[],
  options: { strict?: boolean; onProgress?: (done: number, total: number) => void; onSkip?: (skipped: SkippedFile, unchanged: boolean) => void } = {},
): Promise<SyncedFolder> {
  const before = store.read();
  const keys = files.map((f) => path.relative(root, f).split(path.sep).join('/'));
  const stats = files.map((f) => statSync(f));
  const todo: number[] = [];
  keys.forEach((k, i) => {
    const row = before.latest.get(k);
    if (row === undefined || before.sizes[row] !== stats[i].size || before.mtimes[row] !== stats[i].mtimeMs) {
      todo.push(i);
      return;
    }
    const error = before.errors[row];
    if (error === null) return;
    const skip = storedSkip(files[i], error);
    if (options.strict) throw new RclipError(skip.code, skip.message);
    options.onSkip?.(skip, true);
  });
  if (todo.length > 0) {
    await embedInBatches(
      model,
      todo.map((i) => files[i]),
      (start, outcomes) =>
        store.append(
          outcomes.map((o, j) => {
            const i = todo[start + j];
            const row = { path: keys[i], size: stats[i].size, mtimeMs: stats[i].mtimeMs };
            return o.skipped ? { ...row, error: { code: o.skipped.code, message: o.skipped.message } } : { ...row, embedding: o.embedding };
          }),
        ),
      {
        strict: options.strict,
        onProgress: (done) => options.onProgress?.(done, todo.length),
        onSkip: (s) => options.onSkip?.(s, false),
      },
    );
  }
  const contents = todo.length > 0 ? store.read() : before;
  const rowOf = keys.map((k) => contents.latest.get(k)!);
  const readable = files.map((_, i) => i).filter((i) => contents.errors[rowOf[i]] === null);
  const skipped = files.flatMap((file, i) => (contents.errors[rowOf[i]] === null ? [] : [storedSkip(file, contents.errors[rowOf[i]]!)]));
  return { files: readable.map((i) => files[i]), rows: Int32Array.from(readable, (i) => rowOf[i]), contents, embedded: todo.length, skipped };
}

/** Rows of `contents` as their own matrix (for the exact search), in the order given. */
export function gatherRows(contents: StoreContents, rows: ArrayLike<number>): EmbeddingMatrix {
  const { dim, data } = contents.vectors;
  const out = new Float32Array(rows.length * dim);
  for (let i = 0; i < rows.length; i++) out.set(data.subarray(rows[i] * dim, (rows[i] + 1) * dim), i * dim);
  return { rows: rows.length, dim, data: out };
}
