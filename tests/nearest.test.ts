import { describe, expect, it } from 'vitest';
import { cosineDistance } from '../src/core/distance';
import { nearestRow, pairsWithin, toMatrix } from '../src/core/nearest';
import { gaussianSamples, seededRandom } from '../src/core/random';

const random = seededRandom(3);
const rows = Array.from({ length: 23 }, () => gaussianSamples(17, random));

describe('exact nearest neighbours over unit embeddings', () => {
  it('pairsWithin visits exactly the pairs cosineDistance puts within the threshold (unrolled and tail paths)', () => {
    const m = toMatrix(rows, 17, true);
    const seen: string[] = [];
    pairsWithin(m, 0.9, (i, j, d) => {
      expect(d).toBeCloseTo(cosineDistance(rows[i], rows[j]), 5);
      seen.push(`${i},${j}`);
    });
    const expected: string[] = [];
    for (let i = 0; i < rows.length; i++) for (let j = i + 1; j < rows.length; j++) if (cosineDistance(rows[i], rows[j]) <= 0.9) expected.push(`${i},${j}`);
    expect(seen.sort()).toEqual(expected.sort());
    expect(expected.length).toBeGreaterThan(0);
  });

  it('nearestRow finds the closest row; an empty index gives −1', () => {
    const m = toMatrix(rows, 17, true);
    const q = toMatrix([rows[5].map((v, k) => v + (k === 0 ? 0.01 : 0))], 17, true).data;
    expect(nearestRow(q, m).index).toBe(5);
    expect(nearestRow(q, toMatrix([], 17))).toEqual({ index: -1, distance: Infinity });
    expect(() => toMatrix([new Float32Array(3)], 4)).toThrow(RangeError);
  });
});
