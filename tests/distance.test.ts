import { describe, expect, it } from 'vitest';
import { cosineDistance, cosineSimilarity, l2Normalize } from '../src/core/distance';

function seededVector(seed: number, n: number): Float32Array {
  let s = seed >>> 0;
  const v = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    v[i] = s / 2 ** 32 - 0.5;
  }
  return v;
}

describe('cosineDistance', () => {
  const a = seededVector(1, 256);
  const b = seededVector(2, 256);

  it('is zero for identical and scaled vectors', () => {
    expect(cosineDistance(a, a)).toBeCloseTo(0, 12);
    expect(cosineDistance(a, a.map((x) => x * 7.5))).toBeCloseTo(0, 6);
  });

  it('is symmetric', () => {
    expect(cosineDistance(a, b)).toBe(cosineDistance(b, a));
  });

  it('is 2 for opposite vectors and 1 for orthogonal ones', () => {
    expect(cosineDistance(a, a.map((x) => -x))).toBeCloseTo(2, 6);
    expect(cosineDistance([1, 0, 0], [0, 3, 0])).toBe(1);
  });

  it('stays within [0, 2] and equals 1 − similarity', () => {
    for (let i = 0; i < 50; i++) {
      const x = seededVector(10 + i, 64);
      const y = seededVector(100 + i, 64);
      const d = cosineDistance(x, y);
      expect(d).toBeGreaterThanOrEqual(0);
      expect(d).toBeLessThanOrEqual(2);
      expect(d).toBeCloseTo(1 - cosineSimilarity(x, y), 12);
    }
  });

  it('does not depend on normalisation, which it does itself', () => {
    expect(cosineDistance(l2Normalize(a), l2Normalize(b))).toBeCloseTo(cosineDistance(a, b), 6);
  });

  it('rejects embeddings of different lengths', () => {
    expect(() => cosineDistance([1, 2], [1, 2, 3])).toThrow(/differ in length/);
  });
});

describe('l2Normalize', () => {
  it('gives unit length and keeps a zero vector zero', () => {
    const n = l2Normalize(seededVector(3, 100));
    expect(Math.hypot(...n)).toBeCloseTo(1, 6);
    expect(Array.from(l2Normalize([0, 0]))).toEqual([0, 0]);
  });
});
