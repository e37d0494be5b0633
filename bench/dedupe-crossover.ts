/**
 * Where the index starts to pay: `rclip dedupe`'s exact all-pairs search vs the store's index (write
 * the rows as a store, build the index, range search, verify) on N synthetic clustered rows
 * (bench/synthetic-embeddings.ts), for several N, in one run. Sets EXACT_SEARCH_BELOW (src/core/nearest.ts).
 *   nice npx tsx bench/dedupe-crossover.ts [Ns=1000,2000,5000,10000]
 * Writes bench/results/dedupe-crossover.json.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pairsWithin } from '../src/core/nearest';
import { EmbeddingStore } from '../src/engine/embedding-store';
import { ensureIndex, indexedPairsWithin } from '../src/engine/vector-index';
import { syntheticEmbeddings } from './synthetic-embeddings';

const sizes = (process.argv[2] ?? '1000,2000,5000,10000').split(',').map(Number);
const dim = 384;
const threshold = 0.1;
const rows = [];
for (const n of sizes) {
  const { data } = syntheticEmbeddings(n, dim, { clusterSize: Math.min(1000, n / 4) });
  let t = performance.now();
  let exactPairs = 0;
  pairsWithin({ rows: n, dim, data }, threshold, () => exactPairs++);
  const exactS = (performance.now() - t) / 1000;
  const dir = mkdtempSync(path.join(tmpdir(), 'rclip-crossover-'));
  t = performance.now();
  const store = EmbeddingStore.open(dir, { id: 'synthetic', encoderSha256: '0'.repeat(64), dim });
  store.append(Array.from({ length: n }, (_, i) => ({ path: `r${i}`, size: 0, mtimeMs: 0, embedding: data.subarray(i * dim, (i + 1) * dim) })));
  const contents = store.read();
  const index = ensureIndex(store, contents);
  let indexPairs = 0;
  indexedPairsWithin(index, contents, Int32Array.from({ length: n }, (_, i) => i), threshold, () => indexPairs++);
  const indexS = (performance.now() - t) / 1000;
  rmSync(dir, { recursive: true, force: true });
  const row = { n, exact_s: +exactS.toFixed(2), index_s: +indexS.toFixed(2), exact_pairs: exactPairs, index_pairs: indexPairs };
  console.log(JSON.stringify(row));
  rows.push(row);
}
const out = path.join(import.meta.dirname, 'results', 'dedupe-crossover.json');
writeFileSync(out, `${JSON.stringify({ date: new Date().toISOString(), conditions: "2-core machine shared with other engineers' jobs; both columns in the same run", dim, threshold, rows }, null, 1)}\n`);
console.log(`wrote ${out}`);
