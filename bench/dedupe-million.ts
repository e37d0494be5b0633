/**
 * Dedupe and match at a million embeddings through the store and its index (docs/scale.md).
 *   bash bench/dedupe-million.sh [N=1000000]       (pauses the background training while it times)
 * Phases (one process each, so the shell can resume the training between them):
 *   --phase real    embed ../shared/data/imagenet-sample and near-duplicate files of each photo
 *                   (bench/near-duplicate-files.ts, two edits per photo) into a store, with the
 *                   default (robust) model; incremental, so a rerun reuses it
 *   --phase timed   write N rows (synthetic clustered vectors shaped like the model's embeddings of
 *                   the photos, bench/synthetic-embeddings.ts, plus the real rows) as a fresh store, then time what `rclip dedupe --index` does on
 *                   it: open (sha256 checks), read, build the index, range search + exact
 *                   verification, grouping; and `rclip match`'s search for 1,000 queries
 *   --phase recall  exact all-pairs (brute force) on a 50,000-row subset (every real row, planted
 *                   synthetic pairs, random rows) vs the pairs the timed phase found inside that subset
 *   --phase append  the real rows added later: the index built over the synthetic rows alone, then
 *                   extended with the real rows (as when files join an indexed folder), searched
 *                   again; recall against the recall phase's exact pairs (run it after that phase)
 * Writes bench/results/dedupe-million.json (merged across phases).
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import usearch from 'usearch';
import { groupsFromEdges, type Edge } from '../src/core/duplicate-groups';
import { pairsWithin, type EmbeddingMatrix } from '../src/core/nearest';
import { seededRandom } from '../src/core/random';
import { EmbeddingStore, gatherRows, storeModel, syncFiles, type StoreRow } from '../src/engine/embedding-store';
import { expandImageArgs } from '../src/engine/node-images';
import { openModel } from '../src/engine/node-model';
import { ensureIndex, indexedNearest, indexedPairsWithin, removeIndexFile } from '../src/engine/vector-index';
import { NEAR_DUPLICATE_KINDS, writeNearDuplicate } from './near-duplicate-files';
import { syntheticEmbeddings } from './synthetic-embeddings';

const { values, positionals } = parseArgs({ allowPositionals: true, options: { phase: { type: 'string' }, work: { type: 'string' }, subset: { type: 'string' }, out: { type: 'string' }, reuse: { type: 'boolean' } } });
const n = Number(positionals[0] ?? 1_000_000);
const work = values.work ?? path.join(tmpdir(), 'rclip-dedupe-million');
const IMAGENET = path.resolve(import.meta.dirname, '../../shared/data/imagenet-sample');
const RESULT = values.out ?? path.join(import.meta.dirname, 'results', 'dedupe-million.json');
const SEGMENT_ROWS = 65536;
const MATCH_QUERIES = 1000;
const SUBSET = Number(values.subset ?? 50_000);
mkdirSync(work, { recursive: true });

const mb = (bytes: number) => Math.round(bytes / 2 ** 20);
const folderBytes = (dir: string): number => readdirSync(dir, { withFileTypes: true }).reduce((a, e) => a + (e.isDirectory() ? folderBytes(path.join(dir, e.name)) : statSync(path.join(dir, e.name)).size), 0);
function record(part: string, data: unknown): void {
  const all = existsSync(RESULT) ? JSON.parse(readFileSync(RESULT, 'utf8')) : {};
  all[part] = { date: new Date().toISOString(), ...(data as object) };
  all.conditions = "2-core dev machine shared with other engineers' jobs (their tests and builds may have been running); the project's background training paused (SIGSTOP) during the timed phase";
  writeFileSync(RESULT, `${JSON.stringify(all, null, 1)}\n`);
}
const time = async <T>(f: () => T | Promise<T>): Promise<[T, number]> => {
  const t = performance.now();
  const out = await f();
  return [out, (performance.now() - t) / 1000];
};

async function realPhase() {
  if (!existsSync(IMAGENET)) throw new Error(`${IMAGENET} is absent: the real photos are planted among the synthetic rows; get ../shared/data first.`);
  const folder = path.join(work, 'photos');
  mkdirSync(folder, { recursive: true });
  const sources = readdirSync(IMAGENET).sort();
  for (const [i, name] of sources.entries()) {
    const src = path.join(IMAGENET, name);
    for (const kind of [NEAR_DUPLICATE_KINDS[i % 4], NEAR_DUPLICATE_KINDS[(i + 1) % 4]]) {
      if (!existsSync(path.join(folder, `${path.parse(name).name}.${kind}.jpg`))) await writeNearDuplicate(src, folder, kind);
    }
  }
  const model = await openModel(undefined);
  const store = EmbeddingStore.open(path.join(work, 'photos-store'), storeModel(model));
  const files = [...sources.map((s) => path.join(IMAGENET, s)), ...expandImageArgs([folder])];
  // Keys relative to the data folder's parent, so photos and copies share one store.
  const [synced, seconds] = await time(() => syncFiles(store, model, path.dirname(IMAGENET), files, { onProgress: (d, t) => d % 200 === 0 && console.log(`embedded ${d}/${t}`) }));
  record('real', { model: model.info.id, photos: sources.length, copies: files.length - sources.length, embedded_now: synced.embedded, embed_s: +seconds.toFixed(1) });
  console.log(`real: ${files.length} rows (${synced.embedded} embedded now, ${seconds.toFixed(0)} s)`);
}

async function timedPhase() {
  const model = await openModel(undefined);
  const real = EmbeddingStore.open(path.join(work, 'photos-store'), storeModel(model)).read();
  const realRows = [...real.latest.values()].sort((a, b) => a - b);
  const dim = real.vectors.dim;
  const synthetic = n - realRows.length;
  const dir = path.join(work, 'million-store');
  // --reuse: the store (and its index, if a run got that far) from an earlier timed run, not written again.
  let genS: number | null = null;
  let writeS: number | null = null;
  if (!values.reuse) {
    // Shaped like the model's own embeddings of the 800 photos (not their copies): see synthetic-embeddings.ts.
    const photos = gatherRows(real, realRows.filter((r) => real.paths[r].startsWith('imagenet-sample/')));
    const [syn, g] = await time(() => syntheticEmbeddings(synthetic, dim, { seed: 7, shapeFrom: photos }));
    genS = g;
    console.log(`synthetic ${synthetic} rows in ${genS.toFixed(0)} s`);
    rmSync(dir, { recursive: true, force: true });
    [, writeS] = await time(() => {
      const store = EmbeddingStore.open(dir, storeModel(model));
      for (let start = 0; start < synthetic; start += SEGMENT_ROWS) {
        const rows: StoreRow[] = [];
        for (let i = start; i < Math.min(synthetic, start + SEGMENT_ROWS); i++) rows.push({ path: `synthetic/${i}`, size: 0, mtimeMs: 0, embedding: syn.data.subarray(i * dim, (i + 1) * dim) });
        store.append(rows);
      }
      store.append(realRows.map((r) => ({ path: real.paths[r], size: real.sizes[r], mtimeMs: real.mtimes[r], embedding: real.vectors.data.subarray(r * dim, (r + 1) * dim) })));
    });
    // Planted synthetic pairs and the real rows' positions, for the recall phase.
    writeFileSync(path.join(work, 'planted.json'), JSON.stringify({ synthetic, rows: Array.from(syn.plantedRows), sources: Array.from(syn.plantedSources) }));
  }
  const storeBytes = folderBytes(path.join(dir, 'segments'));
  console.log(`store ${writeS === null ? 'reused' : `written in ${writeS.toFixed(0)} s`} (${mb(storeBytes)} MB)`);
  const planted = JSON.parse(readFileSync(path.join(work, 'planted.json'), 'utf8')) as { synthetic: number; rows: number[] };
  const threshold = model.info.manifest.calibration!.dedupeThreshold;

  // What `rclip dedupe --index` does, phase by phase.
  const cpu0 = process.cpuUsage();
  const [store, openS] = await time(() => EmbeddingStore.open(dir, storeModel(model)));
  const [contents, readS] = await time(() => store.read());
  const all = Int32Array.from(contents.latest.values()).sort();
  const [vectorIndex, buildS] = await time(() => ensureIndex(store, contents, (d, t) => d % (4 * SEGMENT_ROWS) === 0 && console.log(`indexed ${d}/${t}`)));
  const indexBytes = statSync(path.join(dir, 'index.usearch')).size;
  console.log(`index built in ${buildS.toFixed(0)} s`);
  const edges: Edge[] = [];
  const [{ secondLooks, joinCandidates, joined }, searchS] = await time(() => indexedPairsWithin(vectorIndex, contents, all, threshold, (i, j, d) => edges.push([i, j, d])));
  const [groups, groupS] = await time(() => groupsFromEdges(Array.from(all, (r) => contents.paths[r]), edges));
  const cpu = process.cpuUsage(cpu0);
  const cpuS = (cpu.user + cpu.system) / 1e6;
  const peakRssMb = Math.round(process.resourceUsage().maxRSS / 1024);
  writeFileSync(path.join(work, 'pairs.json'), JSON.stringify(edges.map(([i, j]) => [all[i], all[j]])));
  console.log(`search ${searchS.toFixed(0)} s: ${edges.length} pairs (${joined} of them from the shared-neighbour join of ${joinCandidates} candidates; ${secondLooks} second looks), ${groups.length} groups`);

  // `rclip match`: the real copies as queries against every other row (nearest = their photo, when the edit kept it close).
  const rowOf = (p: string) => contents.latest.get(p)!;
  const copies = [...contents.latest.keys()].filter((p) => /\.(half|jpeg40|crop90|bright)\.jpg$/.test(p)).slice(0, MATCH_QUERIES).map(rowOf);
  const copySet = new Set(copies);
  const listed = all.filter((r) => !copySet.has(r));
  const queries: EmbeddingMatrix = gatherRows(contents, copies);
  const [nearest, matchS] = await time(() => indexedNearest(vectorIndex.index, contents, listed, queries));
  const photoOf = (p: string) => `imagenet-sample/${path.basename(p).replace(/\.(half|jpeg40|crop90|bright)\.jpg$/, '.JPEG')}`;
  const toSource = nearest.filter((m, q) => m.index >= 0 && contents.paths[listed[m.index]] === photoOf(contents.paths[copies[q]])).length;
  // Exact nearest for the first 20 queries (brute force over all listed rows), as the reference.
  // Brute force in place over the store's rows (a gathered copy of the listed rows would be another 1.5 GB).
  const exactNearest = (q: number): number => {
    let best = -1;
    let bestDot = -Infinity;
    listed.forEach((r, i) => {
      let s = 0;
      for (let k = 0; k < dim; k++) s += queries.data[q * dim + k] * contents.vectors.data[r * dim + k];
      if (s > bestDot) [best, bestDot] = [i, s];
    });
    return best;
  };
  let same = 0;
  const checked = Math.min(20, copies.length);
  for (let q = 0; q < checked; q++) if (exactNearest(q) === nearest[q].index) same++;
  const totalS = openS + readS + buildS + searchS + groupS;
  record('timed', {
    rows: n,
    real_rows: realRows.length,
    synthetic_rows: synthetic,
    planted_synthetic_pairs: planted.rows.length,
    synthetic_shape: "clusters whose centres and offsets follow a Gaussian fitted to the model's embeddings of the 800 photos (mean, covariance shrunk 10 % to its average variance); before 2026-11-30 11:00 isotropic",
    index_rows_added_now: vectorIndex.added,
    dim,
    threshold,
    synthetic_s: genS === null ? null : +genS.toFixed(1),
    store_write_s: writeS === null ? null : +writeS.toFixed(1),
    dedupe: { open_verify_s: +openS.toFixed(1), read_s: +readS.toFixed(1), index_build_s: +buildS.toFixed(1), range_search_verify_s: +searchS.toFixed(1), second_looks: secondLooks, join_candidates: joinCandidates, joined, index_reused: vectorIndex.added === 0, group_s: +groupS.toFixed(2), total_s: +totalS.toFixed(1), cpu_s: +cpuS.toFixed(1), pairs: edges.length, groups: groups.length },
    match: { queries: copies.length, listed: listed.length, ms_per_query: +((matchS * 1000) / copies.length).toFixed(2), nearest_is_source_photo: toSource, same_as_exact_of_first: `${same}/${checked}` },
    memory: { peak_rss_mb: peakRssMb, embeddings_mb: mb(contents.vectors.data.byteLength) },
    disk: { store_mb: mb(storeBytes + indexBytes), segments_mb: mb(storeBytes), index_mb: mb(indexBytes) },
  });
  console.log(`dedupe of ${n} rows: ${totalS.toFixed(0)} s in all (${cpuS.toFixed(0)} CPU s); match ${((matchS * 1000) / copies.length).toFixed(2)} ms/query; peak RSS ${peakRssMb} MB`);
}

/**
 * Every pair of subset rows within `threshold`, by brute force (usearch's exactSearch, SIMD: ~2× the
 * JS loop here): each row's k nearest among all subset rows, k widened (×4) for rows whose k-th is
 * still within reach, so no pair is cut off; each pair re-measured in float32 as the store does.
 */
function bruteForcePairs(m: EmbeddingMatrix, rows: Int32Array, threshold: number): Set<string> {
  const pairs = new Set<string>();
  const { dim, data } = m;
  let pending = Array.from(rows, (_, q) => q);
  for (let k = 64; pending.length > 0; k *= 4) {
    const next: number[] = [];
    // exactSearch holds a queries × rows distance matrix: 2,048 queries × 50,000 rows is 400 MB (all 50,000 at once: 10 GB, std::bad_alloc).
    for (let start = 0; start < pending.length; start += 2048) {
      const batch = pending.slice(start, start + 2048);
      const queries = new Float32Array(batch.length * dim);
      batch.forEach((q, i) => queries.set(data.subarray(q * dim, (q + 1) * dim), i * dim));
      const found = usearch.exactSearch(data, queries, dim, k, usearch.MetricKind.Cos, 2) as unknown as { keys: BigUint64Array; distances: Float32Array; counts: BigUint64Array };
      batch.forEach((q, i) => {
        const count = Number(found.counts[i]);
        if (count === k && found.distances[i * k + k - 1] <= threshold + 1e-4) next.push(q);
        for (let t = 0; t < count; t++) {
          const j = Number(found.keys[i * k + t]);
          if (j === q || found.distances[i * k + t] > threshold + 1e-4) continue;
          let s = 0;
          for (let d = 0; d < dim; d++) s += data[q * dim + d] * data[j * dim + d];
          if (1 - s <= threshold) pairs.add(`${rows[Math.min(q, j)]},${rows[Math.max(q, j)]}`);
        }
      });
    }
    pending = next;
  }
  return pairs;
}

async function recallPhase() {
  const model = await openModel(undefined);
  const store = EmbeddingStore.open(path.join(work, 'million-store'), storeModel(model));
  const contents = store.read();
  const planted = JSON.parse(readFileSync(path.join(work, 'planted.json'), 'utf8')) as { synthetic: number; rows: number[]; sources: number[] };
  const found = JSON.parse(readFileSync(path.join(work, 'pairs.json'), 'utf8')) as Array<[number, number]>;
  // Subset: every real row, then planted synthetic (copy, source) pairs, then random rows, up to SUBSET.
  const chosen = new Set<number>();
  for (let r = planted.synthetic; r < contents.vectors.rows; r++) chosen.add(r);
  for (let p = 0; p < planted.rows.length && chosen.size < SUBSET - SUBSET / 10; p++) {
    chosen.add(planted.rows[p]);
    chosen.add(planted.sources[p]);
  }
  const random = seededRandom(3);
  while (chosen.size < SUBSET) chosen.add(Math.floor(random() * planted.synthetic));
  const rows = Int32Array.from(chosen).sort();
  const chosenHead = new Set(rows.subarray(0, Math.min(5000, rows.length)));
  const threshold = model.info.manifest.calibration!.dedupeThreshold;
  const m = gatherRows(contents, rows);
  const [exact, exactS] = await time(() => bruteForcePairs(m, rows, threshold));
  // The brute force is checked against the project's own exact search (pairsWithin) on the first 5,000 subset rows.
  const head = Math.min(5000, rows.length);
  const headPairs = new Set<string>();
  pairsWithin({ rows: head, dim: m.dim, data: m.data.subarray(0, head * m.dim) }, threshold, (i, j) => headPairs.add(`${rows[i]},${rows[j]}`));
  const headFromBrute = [...exact].filter((k) => k.split(',').every((r) => chosenHead.has(Number(r))));
  const chosenCheck = headPairs.size === headFromBrute.length && headFromBrute.every((k) => headPairs.has(k));
  writeFileSync(path.join(work, 'exact-pairs.json'), JSON.stringify([...exact]));
  const foundKeys = new Set(found.map(([a, b]) => `${Math.min(a, b)},${Math.max(a, b)}`));
  const hit = [...exact].filter((k) => foundKeys.has(k)).length;
  const inSubset = found.filter(([a, b]) => chosen.has(a) && chosen.has(b)).length;
  const realPairs = [...exact].filter((k) => k.split(',').every((r) => Number(r) >= planted.synthetic));
  const realExact = realPairs.length;
  const realHit = realPairs.filter((k) => foundKeys.has(k)).length;
  record('recall', { subset_rows: rows.length, exact_pairs: exact.size, exact_real_pairs: realExact, recall_of_real_pairs: +(realHit / realExact).toFixed(4), found_in_subset: inSubset, recall: +(hit / exact.size).toFixed(4), false_pairs: inSubset - hit, exact_all_pairs_s: +exactS.toFixed(1), exact_method: 'usearch exactSearch (brute force, f32, all rows × all rows, k widened until the k-th is beyond the threshold), each pair re-measured in float32', brute_force_equals_pairsWithin_on_5000_rows: chosenCheck });
  console.log(`recall on the ${rows.length}-row subset: ${hit}/${exact.size} = ${(hit / exact.size).toFixed(4)} (exact all-pairs ${exactS.toFixed(0)} s)`);
}

async function appendPhase() {
  const model = await openModel(undefined);
  const store = EmbeddingStore.open(path.join(work, 'million-store'), storeModel(model));
  const contents = store.read();
  const planted = JSON.parse(readFileSync(path.join(work, 'planted.json'), 'utf8')) as { synthetic: number };
  const exact = new Set(JSON.parse(readFileSync(path.join(work, 'exact-pairs.json'), 'utf8')) as string[]);
  const threshold = model.info.manifest.calibration!.dedupeThreshold;
  const { dim, data } = contents.vectors;
  // The store as it was before the real files joined it: its first rows, indexed from scratch.
  const before = { ...contents, vectors: { rows: planted.synthetic, dim, data: data.subarray(0, planted.synthetic * dim) } };
  removeIndexFile(store);
  const [, buildS] = await time(() => ensureIndex(store, before));
  const [extended, appendS] = await time(() => ensureIndex(store, contents));
  const all = Int32Array.from(contents.latest.values()).sort();
  const found = new Set<string>();
  const [, searchS] = await time(() => indexedPairsWithin(extended, contents, all, threshold, (i, j) => found.add(`${Math.min(all[i], all[j])},${Math.max(all[i], all[j])}`)));
  const isReal = (k: string) => k.split(',').some((r) => Number(r) >= planted.synthetic);
  const realExact = [...exact].filter(isReal);
  const hit = [...exact].filter((k) => found.has(k)).length;
  const realHit = realExact.filter((k) => found.has(k)).length;
  record('append', { rows_before: planted.synthetic, rows_appended: extended.added, build_before_s: +buildS.toFixed(1), append_s: +appendS.toFixed(1), ms_per_appended_row: +((appendS * 1000) / extended.added).toFixed(2), search_s: +searchS.toFixed(1), recall: +(hit / exact.size).toFixed(4), exact_pairs: exact.size, recall_of_pairs_with_an_appended_row: +(realHit / realExact.length).toFixed(4), exact_pairs_with_an_appended_row: realExact.length });
  console.log(`append: ${extended.added} rows in ${appendS.toFixed(0)} s; recall ${hit}/${exact.size}, of the appended rows' pairs ${realHit}/${realExact.length}`);
}

const phases: Record<string, () => Promise<void>> = { real: realPhase, timed: timedPhase, recall: recallPhase, append: appendPhase };
const phase = phases[values.phase ?? ''];
if (!phase) throw new Error('--phase real|timed|recall|append');
await phase();
