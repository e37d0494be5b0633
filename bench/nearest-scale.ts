/**
 * How `rclip dedupe` / `rclip match` scale: exact brute-force search over N synthetic unit vectors
 * (Gaussian, normalised; the cost does not depend on the values). Run:
 *   nice -n 19 npx tsx bench/nearest-scale.ts [N=10000] [dims=256,512]
 */
import { duplicateGroups } from '../src/cli/dedupe';
import { nearestRow, pairsWithin, toMatrix } from '../src/core/nearest';
import { gaussianSamples, seededRandom } from '../src/core/random';

const n = Number(process.argv[2] ?? 10000);
const dims = (process.argv[3] ?? '256,512').split(',').map(Number);

for (const dim of dims) {
  const random = seededRandom(1);
  const rows = Array.from({ length: n }, () => {
    const v = gaussianSamples(dim, random);
    let s = 0;
    for (const x of v) s += x * x;
    return v.map((x) => x / Math.sqrt(s));
  });
  const m = toMatrix(rows);
  let t = performance.now();
  const queries = 1000;
  for (let q = 0; q < queries; q++) nearestRow(rows[(q * 7) % n], m);
  const matchMs = (performance.now() - t) / queries;
  t = performance.now();
  let pairs = 0;
  pairsWithin(m, 0.1, () => pairs++);
  const dedupeS = (performance.now() - t) / 1000;
  // Plant near-duplicates so the grouping has work: row 2i+1 ≈ row 2i for the first 100 pairs.
  for (let i = 0; i < 200; i += 2) rows[i + 1] = rows[i].map((v, k) => v + (k % 2 ? 1e-3 : -1e-3));
  t = performance.now();
  const groups = duplicateGroups(rows.map((_, i) => `f${i}`), rows, 0.1);
  const dedupeCliS = (performance.now() - t) / 1000;
  console.log(JSON.stringify({ n, dim, match_ms_per_query: +matchMs.toFixed(2), all_pairs_s: +dedupeS.toFixed(2), dedupe_groups_s: +dedupeCliS.toFixed(2), pairs_within_0_1: pairs, groups: groups.length }));
}
