/**
 * Which approximate-nearest-neighbour library backs the embedding store (docs/scale.md): each
 * candidate that is installed builds an index over N synthetic clustered unit vectors
 * (bench/synthetic-embeddings.ts) and answers k-NN for sampled rows; recall is the share of the exact
 * pairs at the dedupe threshold (brute force over all N rows for the sampled rows) that it returns.
 *   npm i --no-save hnswlib-node@3.0.0    # the candidates not in package.json
 *   nice -n 5 npx tsx bench/ann-candidates.ts [N=100000] [--dim 384] [--sample 2000] [--k 16]
 * Writes bench/results/ann-candidates-N.json.
 */
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { syntheticEmbeddings } from './synthetic-embeddings';

const { values, positionals } = parseArgs({ allowPositionals: true, options: { dim: { type: 'string' }, sample: { type: 'string' }, k: { type: 'string' }, threshold: { type: 'string' } } });
const n = Number(positionals[0] ?? 100000);
const dim = Number(values.dim ?? 384);
const sample = Number(values.sample ?? 2000);
const k = Number(values.k ?? 16);
const threshold = Number(values.threshold ?? 0.1);
const threads = 2;

interface Candidate {
  name: string;
  build(data: Float32Array, file: string): Promise<{ search: (queries: Float32Array, rows: number[]) => number[][] }>;
}

const rss = () => process.memoryUsage().rss;

async function usearchCandidate(quantization: 'f32' | 'f16' | 'i8'): Promise<Candidate> {
  const { Index, MetricKind, ScalarKind } = (await import('usearch')).default;
  return {
    name: `usearch ${quantization} (HNSW, M=16, ef_add=128, ef=64)`,
    async build(data, file) {
      const index = new Index({ dimensions: dim, metric: MetricKind.Cos, quantization: quantization as typeof ScalarKind.F32, connectivity: 16, expansion_add: 128, expansion_search: 64, multi: false });
      const keys = new BigUint64Array(n);
      for (let i = 0; i < n; i++) keys[i] = BigInt(i);
      index.add(keys, data, threads);
      index.save(file);
      return {
        search(queries, rows) {
          const m = index.search(queries, k, threads) as unknown as { keys: BigUint64Array; counts: BigUint64Array };
          return rows.map((_, q) => Array.from(m.keys.subarray(q * k, q * k + Number(m.counts[q])), Number));
        },
      };
    },
  };
}

async function hnswlibCandidate(): Promise<Candidate> {
  // Not a dependency of the project: installed only to run this comparison (see the header).
  const name = 'hnswlib-node';
  const mod = await import(name);
  const { HierarchicalNSW } = mod.default ?? mod;
  return {
    name: 'hnswlib-node (HNSW, M=16, ef_construction=128, ef=64)',
    async build(data, file) {
      const index = new HierarchicalNSW('ip', dim);
      index.initIndex(n, 16, 128, 1);
      for (let i = 0; i < n; i++) index.addPoint(Array.from(data.subarray(i * dim, (i + 1) * dim)), i);
      index.setEf(64);
      await index.writeIndex(file);
      return { search: (queries, rows) => rows.map((_, q) => index.searchKnn(Array.from(queries.subarray(q * dim, (q + 1) * dim)), k).neighbors) };
    },
  };
}

const factories: Array<[string, () => Promise<Candidate>]> = [
  ['usearch', () => usearchCandidate('f32')],
  ['usearch', () => usearchCandidate('f16')],
  ['usearch', () => usearchCandidate('i8')],
  ['hnswlib-node', hnswlibCandidate],
];

const { data, plantedRows } = syntheticEmbeddings(n, dim);
// Sampled query rows (half planted copies, where the pairs are; half spread over all rows) and their
// exact pairs ≤ threshold (brute force against all n rows).
const rows = Array.from({ length: sample }, (_, i) => (i % 2 ? Math.floor((i * n) / sample) : plantedRows[Math.floor((i * plantedRows.length) / sample)]));
const queries = new Float32Array(sample * dim);
rows.forEach((r, q) => queries.set(data.subarray(r * dim, (r + 1) * dim), q * dim));
let t = performance.now();
const exact: Array<Set<number>> = rows.map((r) => {
  const hits = new Set<number>();
  for (let j = 0; j < n; j++) {
    if (j === r) continue;
    let s = 0;
    for (let d = 0; d < dim; d++) s += data[r * dim + d] * data[j * dim + d];
    if (1 - s <= threshold) hits.add(j);
  }
  return hits;
});
const exactPairs = exact.reduce((a, s) => a + s.size, 0);
console.log(`exact: ${exactPairs} pairs ≤ ${threshold} for ${sample} sampled rows (${((performance.now() - t) / 1000).toFixed(1)} s)`);

const results = [];
const dir = mkdtempSync(path.join(tmpdir(), 'ann-candidates-'));
for (const [pkg, make] of factories) {
  let candidate: Candidate;
  try {
    candidate = await make();
  } catch (err) {
    console.log(`skipped ${pkg}: not installed (${(err as Error).message.split('\n')[0]})`);
    results.push({ package: pkg, skipped: 'not installed' });
    continue;
  }
  global.gc?.();
  const rss0 = rss();
  const file = path.join(dir, `${results.length}.index`);
  t = performance.now();
  const index = await candidate.build(data, file);
  const buildS = (performance.now() - t) / 1000;
  const memoryMb = (rss() - rss0) / 2 ** 20;
  t = performance.now();
  const found = index.search(queries, rows);
  const queryMs = (performance.now() - t) / sample;
  let hit = 0;
  rows.forEach((_, q) => {
    for (const j of found[q]) if (exact[q].has(j)) hit++;
  });
  const row = { package: pkg, name: candidate.name, n, dim, k, threshold, build_s: +buildS.toFixed(1), query_ms: +queryMs.toFixed(3), recall: exactPairs ? +(hit / exactPairs).toFixed(4) : null, exact_pairs: exactPairs, memory_mb: Math.round(memoryMb), disk_mb: Math.round(statSync(file).size / 2 ** 20) };
  console.log(JSON.stringify(row));
  results.push(row);
}
rmSync(dir, { recursive: true, force: true });
const out = path.join(import.meta.dirname, 'results', `ann-candidates-${n}.json`);
writeFileSync(out, JSON.stringify({ date: new Date().toISOString().slice(0, 10), machine: '2 cores (other engineers\' jobs and a niced training run may have been running)', threads, sample, results }, null, 2) + '\n');
console.log(`wrote ${out}`);
