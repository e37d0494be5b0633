/**
 * The index's second look (src/engine/vector-index.ts): a row whose own search does not return it
 * is searched again through a wider view of the saved graph. Synthetic vectors, no model needed.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { syntheticEmbeddings } from '../bench/synthetic-embeddings';
import { pairsWithin } from '../src/core/nearest';
import { seededRandom, shuffleInPlace } from '../src/core/random';
import { EmbeddingStore } from '../src/engine/embedding-store';
import { ensureIndex, indexedPairsWithin } from '../src/engine/vector-index';

const dir = mkdtempSync(path.join(tmpdir(), 'rclip-vector-index-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('indexedPairsWithin', () => {
  it('gives a row its own search missed a second look, and finds its pairs there', () => {
    const n = 3000;
    const dim = 64;
    const { data, plantedRows, plantedSources } = syntheticEmbeddings(n, dim, { seed: 5, clusterSize: 100, plantedShare: 0.05 });
    const store = EmbeddingStore.open(path.join(dir, 'store'), { id: 'synthetic', encoderSha256: '0'.repeat(64), dim });
    store.append(Array.from({ length: n }, (_, i) => ({ path: `r${i}`, size: 0, mtimeMs: 0, embedding: data.subarray(i * dim, (i + 1) * dim) })));
    const contents = store.read();
    const index = ensureIndex(store, contents);
    const rows = Int32Array.from({ length: n }, (_, i) => i);
    const exact = new Set<string>();
    pairsWithin({ rows: n, dim, data }, 0.1, (i, j) => exact.add(`${i},${j}`));
    // A planted copy within the threshold of its source, both taken out of the in-memory graph only:
    // neither first search can return the other (or itself); the saved file still has both.
    const p = plantedRows.findIndex((r, i) => exact.has(`${Math.min(r, plantedSources[i])},${Math.max(r, plantedSources[i])}`));
    const [lostRow, source] = [plantedRows[p], plantedSources[p]];
    index.index.remove(BigUint64Array.from([BigInt(lostRow), BigInt(source)]));
    const found = new Set<string>();
    const { secondLooks } = indexedPairsWithin(index, contents, rows, 0.1, (i, j) => found.add(`${i},${j}`));
    expect(secondLooks).toBeGreaterThanOrEqual(2);
    expect(found.has(`${Math.min(lostRow, source)},${Math.max(lostRow, source)}`)).toBe(true);
    expect([...found].every((k) => exact.has(k))).toBe(true);
    expect(found.size).toBe(exact.size);
  });

  it('extends a saved index with rows appended later, and finds their pairs with the old rows', () => {
    const n = 2000;
    const dim = 64;
    const { data } = syntheticEmbeddings(n, dim, { seed: 9, clusterSize: 100, plantedShare: 0 });
    const store = EmbeddingStore.open(path.join(dir, 'extend'), { id: 'synthetic', encoderSha256: '0'.repeat(64), dim });
    store.append(Array.from({ length: n }, (_, i) => ({ path: `r${i}`, size: 0, mtimeMs: 0, embedding: data.subarray(i * dim, (i + 1) * dim) })));
    expect(ensureIndex(store, store.read()).added).toBe(n);
    // 40 near-copies of old rows (a small step towards another row), appended after the index was saved.
    const copies = Array.from({ length: 40 }, (_, c) => {
      const [a, b] = [c * 37, c * 37 + 1];
      const v = Float32Array.from({ length: dim }, (_, k) => data[a * dim + k] + 0.15 * data[b * dim + k]);
      const norm = Math.hypot(...v);
      return { path: `copy${c}`, size: 0, mtimeMs: 0, embedding: v.map((x) => x / norm) };
    });
    store.append(copies);
    const reopened = EmbeddingStore.open(store.dir, { id: 'synthetic', encoderSha256: '0'.repeat(64), dim });
    const contents = reopened.read();
    const index = ensureIndex(reopened, contents);
    expect(index.added).toBe(copies.length);
    expect(index.index.size()).toBe(n + copies.length);
    const rows = Int32Array.from({ length: contents.vectors.rows }, (_, i) => i);
    const exact = new Set<string>();
    pairsWithin(contents.vectors, 0.1, (i, j) => exact.add(`${i},${j}`));
    expect([...exact].filter((k) => Number(k.split(',')[1]) >= n).length).toBeGreaterThanOrEqual(copies.length);
    const found = new Set<string>();
    indexedPairsWithin(index, contents, rows, 0.1, (i, j) => found.add(`${i},${j}`));
    expect([...found].sort()).toEqual([...exact].sort());
  });
});

describe('shuffleInPlace (the index adds rows in this order)', () => {
  it('is a permutation, the same for a seed and another for another seed', () => {
    const rows = Array.from({ length: 1000 }, (_, i) => i);
    const a = shuffleInPlace([...rows], seededRandom(7));
    expect([...a].sort((x, y) => x - y)).toEqual(rows);
    expect(a).toEqual(shuffleInPlace([...rows], seededRandom(7)));
    expect(a).not.toEqual(shuffleInPlace([...rows], seededRandom(8)));
    // Far from the store's order: few rows stay where they were.
    expect(a.filter((r, i) => r === i).length).toBeLessThan(10);
  });
});
