import { describe, expect, it } from 'vitest';
import { cosineDistance } from '../src/core/distance';
import { nearestRow, pairsWithin, sharedAnchorCandidates, toMatrix } from '../src/core/nearest';
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

  it('sharedAnchorCandidates proposes every pair within the threshold that shares an anchor, and only pairs that share one', () => {
    // Tight groups around 40 centres, each row given 3 anchors drawn from other groups' rows, as a graph
    // index that links near-identical rows only outwards would give them.
    const r = seededRandom(11);
    const dim = 12;
    const centres = Array.from({ length: 40 }, () => gaussianSamples(dim, r));
    const points = Array.from({ length: 400 }, (_, i) => {
      const noise = gaussianSamples(dim, r);
      return centres[i % 40].map((v, k) => v + 0.12 * noise[k]);
    });
    const m = toMatrix(points, dim, true);
    const d = (i: number, j: number) => cosineDistance(points[i], points[j]);
    const perRow = 3;
    const anchors = new Int32Array(points.length * perRow);
    const anchorDistance = new Float32Array(points.length * perRow);
    for (let i = 0; i < points.length; i++) {
      for (let s = 0; s < perRow; s++) {
        // Anchors: one of 3 rows of group 0 (a hub every row shares, at different distances from each
        // group: the window must prune there), then rows of the group "next" to i's.
        const a = (s === 0 ? 0 : ((i % 40) + 1) % 40) + 40 * Math.floor(r() * 3);
        anchors[i * perRow + s] = s === 2 && i % 7 === 0 ? -1 : a;
        anchorDistance[i * perRow + s] = d(i, a);
      }
    }
    const threshold = 0.1;
    const proposed = new Set<string>();
    const count = sharedAnchorCandidates(anchors, anchorDistance, perRow, threshold, (i, j) => {
      expect(i).toBeLessThan(j);
      proposed.add(`${i},${j}`);
    });
    expect(count).toBeGreaterThanOrEqual(proposed.size);
    const anchorsOf = (i: number) => new Set(Array.from(anchors.subarray(i * perRow, (i + 1) * perRow)).filter((a) => a >= 0));
    let within = 0;
    for (let i = 0; i < points.length; i++) {
      for (let j = i + 1; j < points.length; j++) {
        const shared = [...anchorsOf(i)].some((a) => anchorsOf(j).has(a));
        if (!shared) expect(proposed.has(`${i},${j}`)).toBe(false);
        else if (d(i, j) <= threshold) {
          within++;
          expect(proposed.has(`${i},${j}`)).toBe(true);
        }
      }
    }
    expect(within).toBeGreaterThan(100);
    // The triangle-inequality window prunes: fewer candidates than all pairs sharing an anchor.
    let sharing = 0;
    for (let i = 0; i < points.length; i++) for (let j = i + 1; j < points.length; j++) if ([...anchorsOf(i)].some((a) => anchorsOf(j).has(a))) sharing++;
    expect(proposed.size).toBeLessThan(sharing);
    expect(m.rows).toBe(points.length);
  });
});
