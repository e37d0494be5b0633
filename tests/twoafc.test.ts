import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { PAPER_DEFAULTS } from '../src/core/attack';
import { cosineDistance, l2Normalize } from '../src/core/distance';
import { addNoise, affineWarp, colourShift, gaussianBlur } from '../src/core/distortions';
import { gaussianSamples, seededRandom } from '../src/core/random';
import type { PixelTensor } from '../src/core/preprocess';
import {
  attackTriplet,
  benchmarkImageNames,
  evaluationImageNames,
  KINDS,
  makeTriplets,
  runTwoAfc,
  tripletScore,
  tripletSeed,
  type TripletSources,
  type TwoAfcModel,
} from '../src/core/twoafc';

const IMAGENET = path.resolve(__dirname, '../../shared/data/imagenet-sample');

function photo(seed: number, size = 32): PixelTensor {
  const random = seededRandom(seed);
  const data = new Float32Array(3 * size * size);
  // Smooth gradients plus texture, so blur and warps change something.
  for (let c = 0; c < 3; c++)
    for (let y = 0; y < size; y++)
      for (let x = 0; x < size; x++) data[c * size * size + y * size + x] = Math.min(1, Math.max(0, 0.5 + 0.3 * Math.sin((x + seed) / (3 + c)) * Math.cos(y / 4) + 0.1 * (random() - 0.5)));
  return { size, data };
}

/** Sources without files: images are generated, "JPEG" is a deterministic stand-in (these tests are about the benchmark's bookkeeping). */
function syntheticSources(names: string[]): TripletSources {
  return {
    evaluation: names,
    load: async (name) => photo(names.indexOf(name) + 1),
    jpeg: async (p, quality) => addNoise(p, (100 - quality) / 1000, gaussianSamples(p.data.length, seededRandom(quality))),
  };
}

describe('split rule', () => {
  it('keeps jpg/jpeg/png/webp in any case, sorted by UTF-8 bytes', () => {
    const names = ['b.JPG', 'a.png', 'Z.webp', 'notes.txt', 'é.jpeg', 'c.gif', 'A.JPEG', 'z.jpg'];
    // Byte order: upper case before lower case, and 'é' (0xC3 0xA9) after 'z'.
    expect(benchmarkImageNames(names)).toEqual(['A.JPEG', 'Z.webp', 'a.png', 'b.JPG', 'z.jpg', 'é.jpeg']);
  });

  it('takes sorted index i with i % 5 == 4, and --limit takes the first of those', () => {
    const names = Array.from({ length: 23 }, (_, i) => `img${String(i).padStart(2, '0')}.jpg`).reverse();
    expect(evaluationImageNames(names)).toEqual(['img04.jpg', 'img09.jpg', 'img14.jpg', 'img19.jpg']);
    expect(evaluationImageNames(names, 2)).toEqual(['img04.jpg', 'img09.jpg']);
  });

  it.skipIf(!existsSync(IMAGENET))('gives 160 of the 800 imagenet-sample photos (needs ../shared/data/imagenet-sample)', () => {
    const all = readdirSync(IMAGENET);
    expect(benchmarkImageNames(all)).toHaveLength(800);
    const evaluation = evaluationImageNames(all);
    expect(evaluation).toHaveLength(160);
    expect(new Set(evaluation).size).toBe(160);
  });
});

describe('triplets', () => {
  const names = ['a.jpg', 'b.jpg', 'c.jpg', 'd.jpg'];

  it('are the same for the same seed and differ for another', async () => {
    const sources = syntheticSources(names);
    const ref = await sources.load('a.jpg');
    const first = await makeTriplets('a.jpg', ref, 7, sources);
    const again = await makeTriplets('a.jpg', ref, 7, sources);
    const other = await makeTriplets('a.jpg', ref, 8, sources);
    expect(first.map((t) => t.kind)).toEqual([...KINDS]);
    for (let i = 0; i < first.length; i++) {
      expect(again[i].correct).toBe(first[i].correct);
      expect(again[i].p[0].data).toEqual(first[i].p[0].data);
      expect(again[i].p[1].data).toEqual(first[i].p[1].data);
    }
    expect(other.some((t, i) => t.p[t.correct].data.some((v, j) => v !== first[i].p[first[i].correct].data[j]))).toBe(true);
  });

  it('seed each (seed, image, kind) on its own, so order and --limit change nothing', () => {
    const seeds = new Set(names.flatMap((n) => KINDS.map((k) => tripletSeed(0, n, k))));
    expect(seeds.size).toBe(names.length * KINDS.length);
    expect(tripletSeed(0, 'a.jpg', 'blur')).toBe(tripletSeed(0, 'a.jpg', 'blur'));
  });

  it('put the correct copy at p0 or p1 at random, and "augmented" pairs with another photo', async () => {
    const many = Array.from({ length: 30 }, (_, i) => `${i}.png`);
    const sources = syntheticSources(many);
    const corrects = new Set<number>();
    for (const n of many.slice(0, 10)) {
      const triplets = await makeTriplets(n, await sources.load(n), 0, sources);
      triplets.forEach((t) => corrects.add(t.correct));
      const augmented = triplets.find((t) => t.kind === 'augmented')!;
      expect(augmented.other).toBeDefined();
      expect(augmented.other).not.toBe(n);
      expect(augmented.p[1 - augmented.correct].data).toEqual((await sources.load(augmented.other!)).data);
    }
    expect([...corrects].sort()).toEqual([0, 1]);
  });

  it('score 1 when the correct copy is closer, 0.5 on a tie, 0 otherwise', () => {
    expect(tripletScore(0.1, 0.2)).toBe(1);
    expect(tripletScore(0.2, 0.2)).toBe(0.5);
    expect(tripletScore(0.3, 0.2)).toBe(0);
  });
});

describe('distortions', () => {
  const p = photo(3);
  it('leave the image alone at zero strength', () => {
    expect(gaussianBlur(p, 0).data).toEqual(p.data);
    expect(addNoise(p, 0, gaussianSamples(p.data.length, seededRandom(1))).data).toEqual(p.data);
    const same = colourShift(p, { brightness: 1, contrast: 1, saturation: 1, hue: 0 });
    same.data.forEach((v, i) => expect(v).toBeCloseTo(p.data[i], 2));
    affineWarp(p, { dx: 0, dy: 0, scale: 1, degrees: 0, flip: false }).data.forEach((v, i) => expect(v).toBeCloseTo(p.data[i], 5));
  });

  it('grow with strength and stay in [0,1]', () => {
    const change = (q: PixelTensor) => q.data.reduce((s, v, i) => s + Math.abs(v - p.data[i]), 0);
    expect(change(gaussianBlur(p, 2))).toBeGreaterThan(change(gaussianBlur(p, 0.7)));
    const z = gaussianSamples(p.data.length, seededRandom(2));
    expect(change(addNoise(p, 0.2, z))).toBeGreaterThan(change(addNoise(p, 0.05, z)));
    for (const q of [gaussianBlur(p, 2), addNoise(p, 0.5, z), colourShift(p, { brightness: 1.5, contrast: 1.5, saturation: 2, hue: 0.3 })]) {
      expect(Math.min(...q.data)).toBeGreaterThanOrEqual(0);
      expect(Math.max(...q.data)).toBeLessThanOrEqual(1);
    }
  });

  it('flip mirrors columns exactly', () => {
    const f = affineWarp(p, { dx: 0, dy: 0, scale: 1, degrees: 0, flip: true });
    const s = p.size;
    expect(f.data[0 * s + 0]).toBeCloseTo(p.data[s - 1], 5);
    expect(f.data[2 * s * s + 5 * s + 3]).toBeCloseTo(p.data[2 * s * s + 5 * s + (s - 1 - 3)], 5);
  });
});

/** A model whose embedding is the pixels themselves: cosine distance and its exact gradient. */
function identityModel(size: number): TwoAfcModel {
  const embed = (x: Float32Array) => l2Normalize(x);
  return {
    input: { size, background: [1, 1, 1] },
    embed: async (pixels) => pixels.map((p) => embed(p.data)),
    distanceGradient: async (x, target) => {
      let norm = 0;
      let dot = 0;
      for (let i = 0; i < x.length; i++) {
        norm += x[i] * x[i];
        dot += x[i] * target[i];
      }
      norm = Math.sqrt(norm);
      const grad = new Float32Array(x.length);
      for (let i = 0; i < x.length; i++) grad[i] = -(target[i] / norm - (dot * x[i]) / norm ** 3);
      return { distance: cosineDistance(x, target), grad };
    },
  };
}

describe('attack on the reference', () => {
  const size = 8;
  const model = identityModel(size);
  const ref = photo(5, size);
  const shifted = (k: number) => ({ size, data: ref.data.map((v, i) => Math.min(1, Math.max(0, v + (i % 2 ? k : -k)))) });

  it('flips a triplet the ball can cross, not one it cannot', async () => {
    const [close, far] = [0.02, 0.025].map((k) => l2Normalize(shifted(k).data));
    expect(cosineDistance(ref.data, close)).toBeLessThan(cosineDistance(ref.data, far));
    expect(await attackTriplet(model, ref, close, far, { ...PAPER_DEFAULTS, eps: 8 / 255 })).toBe(0);
    const [near, distant] = [0.01, 0.3].map((k) => l2Normalize(shifted(k).data));
    expect(await attackTriplet(model, ref, near, distant, { ...PAPER_DEFAULTS, eps: 1 / 255 })).toBe(1);
  });

  it('reports clean and robust accuracy per kind, robust ≤ clean', async () => {
    const names = ['a.jpg', 'b.jpg', 'c.jpg'];
    const { report, results } = await runTwoAfc({ ...identityModel(32) }, syntheticSources(names), {
      images: names.slice(0, 2),
      seed: 0,
      attack: { ...PAPER_DEFAULTS, steps: 3, stepSize: 2 / 255 },
    });
    expect(report.images).toBe(2);
    expect(report.n).toBe(12);
    expect(Object.keys(report.per_kind)).toEqual([...KINDS]);
    for (const r of results) expect(r.robust!).toBeLessThanOrEqual(r.clean);
    expect(report.robust_accuracy!).toBeLessThanOrEqual(report.clean_accuracy);
    const clean = await runTwoAfc(identityModel(32), syntheticSources(names), { images: names.slice(0, 2), seed: 0, attack: null });
    expect(clean.report.robust_accuracy).toBeNull();
    expect(clean.report.clean_accuracy).toBe(report.clean_accuracy);
  });
});
