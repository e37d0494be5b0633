import { existsSync } from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { evadePhash, hammingDistance, phash, phashFeatures, phashFeaturesOfPixels, PHASH_MATCH_BITS } from '../src/core/phash';
import { chwToRgba, rgbaToChw } from '../src/core/preprocess';
import { seededRandom } from '../src/core/random';
import { runSquareAttack, squareSettings, squareShare, squareSide, type SquareOracle } from '../src/core/square';
import { evaluationImageNames } from '../src/core/twoafc';
import { decodeImageFile } from '../src/engine/node';
import { folderEntries } from '../src/engine/node-images';

const IMAGENET = path.resolve(__dirname, '../../shared/data/imagenet-sample');
const shape = { channels: 3, height: 8, width: 10 };
const n = shape.channels * shape.height * shape.width;

/** A linear score w·x: its maximum over the ball ∩ box is at clean ± eps by the sign of w, clipped to [0,1]. */
function linear(seed: number) {
  const random = seededRandom(seed);
  const clean = Float32Array.from({ length: n }, () => random());
  const w = Float32Array.from({ length: n }, () => random() * 2 - 1);
  const score = (x: Float32Array) => x.reduce((s, v, i) => s + w[i] * v, 0);
  return { clean, w, score };
}

describe('Square Attack (src/core/square.ts)', () => {
  it("follows the reference's square-size schedule, rescaled to the budget", () => {
    expect(squareShare(0, 10000, 0.8)).toBe(0.8);
    expect(squareShare(10, 10000, 0.8)).toBe(0.8);
    expect(squareShare(11, 10000, 0.8)).toBe(0.4);
    expect(squareShare(500, 10000, 0.8)).toBe(0.8 / 8);
    expect(squareShare(501, 10000, 0.8)).toBe(0.8 / 16);
    expect(squareShare(9999, 10000, 0.8)).toBe(0.8 / 512);
    // Rescaled: query 100 of 1,000 is query 1,000 of 10,000.
    expect(squareShare(100, 1000, 0.8)).toBe(squareShare(1000, 10000, 0.8));
    expect(squareSide(0.8, 224, 224)).toBe(Math.round(Math.sqrt(0.8) * 224));
    expect(squareSide(1e-9, 224, 224)).toBe(1);
    expect(squareSide(1, 50, 300)).toBe(50);
  });

  it('climbs a linear score towards its known maximum, every query inside the ball and the box, within the budget', async () => {
    const { clean, w, score } = linear(1);
    const eps = 0.05;
    const best = clean.map((c, i) => Math.min(1, Math.max(0, c + eps * Math.sign(w[i]))));
    const worst = clean.map((c, i) => Math.min(1, Math.max(0, c - eps * Math.sign(w[i]))));
    let calls = 0;
    let outside = 0;
    const oracle: SquareOracle = (x) => {
      calls++;
      for (let i = 0; i < n; i++) if (Math.abs(x[i] - clean[i]) > eps + 1e-6 || x[i] < 0 || x[i] > 1) outside++;
      return { score: score(x) };
    };
    const r = await runSquareAttack(clean, shape, squareSettings(eps, 400, 3), oracle);
    expect(outside).toBe(0);
    expect(calls).toBe(400);
    expect(r.queries).toBe(400);
    expect(r.trace).toHaveLength(400);
    for (let k = 1; k < r.trace.length; k++) expect(r.trace[k]).toBeGreaterThanOrEqual(r.trace[k - 1]);
    expect(r.score).toBeCloseTo(score(r.adversarial), 4);
    // Square moves whole channel squares, so it cannot set every pixel's sign on its own; it must still get most of the way.
    const gained = (r.score - score(worst)) / (score(best) - score(worst));
    expect(gained).toBeGreaterThan(0.75);
  });

  it('stops at the first point the caller calls a success, and keeps it', async () => {
    const { clean, score } = linear(2);
    const target = score(clean) + 0.3;
    let calls = 0;
    const r = await runSquareAttack(clean, shape, squareSettings(0.05, 1000, 0), (x) => {
      calls++;
      const s = score(x);
      return { score: s, success: s > target };
    });
    expect(r.succeeded).toBe(true);
    expect(r.queries).toBeLessThan(1000);
    expect(calls).toBe(r.queries);
    expect(score(r.adversarial)).toBeGreaterThan(target);
  });

  it('is seeded: the same seed gives the same image, another seed another', async () => {
    const { clean, score } = linear(3);
    const run = (seed: number) => runSquareAttack(clean, shape, squareSettings(0.03, 200, seed), (x) => ({ score: score(x) }));
    const [a, b, c] = await Promise.all([run(7), run(7), run(8)]);
    expect(Array.from(a.adversarial)).toEqual(Array.from(b.adversarial));
    expect(a.trace).toEqual(b.trace);
    expect(Array.from(a.adversarial)).not.toEqual(Array.from(c.adversarial));
  });

  it('is cancelled between queries', async () => {
    const { clean, score } = linear(4);
    let calls = 0;
    const run = runSquareAttack(clean, shape, squareSettings(0.03, 500, 0), (x) => (calls++, { score: score(x) }), {
      checkCancelled: () => {
        if (calls >= 25) throw Object.assign(new Error('cancelled'), { code: 'CANCELLED' });
      },
    });
    await expect(run).rejects.toMatchObject({ code: 'CANCELLED' });
    expect(calls).toBe(25);
  });

  it('refuses settings and shapes it cannot honour, with INVALID_ARGUMENT', async () => {
    const { clean } = linear(5);
    const oracle: SquareOracle = () => ({ score: 0 });
    for (const [settings, s] of [
      [squareSettings(0, 10), shape],
      [squareSettings(2, 10), shape],
      [squareSettings(0.1, 0), shape],
      [squareSettings(0.1, 10.5), shape],
      [squareSettings(0.1, 10, 0, 0), shape],
      [squareSettings(0.1, 10), { ...shape, width: 11 }],
    ] as const) {
      await expect(runSquareAttack(clean, s, settings, oracle)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    }
  });
});

describe('Square Attack on the pHash (src/core/phash.ts evadePhash)', () => {
  it('reads CHW pixels exactly as it reads their 8-bit RGBA', () => {
    const random = seededRandom(9);
    const data = Float32Array.from({ length: 3 * 40 * 30 }, () => random());
    const a = phashFeatures(chwToRgba(data, 40, 30));
    const b = phashFeaturesOfPixels(data, 40, 30);
    expect(b.hash).toBe(a.hash);
    expect(Array.from(b.margins)).toEqual(Array.from(a.margins));
  });

  // Real photos, downscaled to 128 px on the short side so the test stays a few seconds a photo.
  const PHOTOS = 6;
  const QUERIES = 1000;
  it.skipIf(!existsSync(IMAGENET))(
    `raises the Hamming distance to the original on each of ${PHOTOS} photos at 8/255, past ${PHASH_MATCH_BITS} bits on at least 2 (needs ../shared/data/imagenet-sample)`,
    async () => {
      const names = evaluationImageNames(folderEntries(IMAGENET), PHOTOS);
      let evaded = 0;
      const report: string[] = [];
      for (const name of names) {
        const bytes = await sharp(path.join(IMAGENET, name)).resize({ width: 128, height: 128, fit: 'outside' }).png().toBuffer();
        const image = await decodeImageFile(new Uint8Array(bytes));
        const own = phash(image);
        const r = await evadePhash(image, [own], squareSettings(8 / 255, QUERIES, 0));
        expect(r.before.bits).toBe(0);
        expect(r.queries).toBeLessThanOrEqual(QUERIES);
        // The copy as written stays within ε of the upload, in 8-bit levels (8/255 is 8 levels).
        const clean = rgbaToChw(image);
        const adv = rgbaToChw(r.adversarial);
        expect(Math.max(...adv.map((v, i) => Math.abs(v - clean[i])))).toBeLessThanOrEqual(8 / 255 + 1e-6);
        expect(r.after.bits).toBe(hammingDistance(phash(r.adversarial), own));
        expect(r.evaded).toBe(r.after.bits > PHASH_MATCH_BITS);
        expect(r.after.bits).toBeGreaterThan(0);
        if (r.evaded) evaded++;
        report.push(`${name}: ${r.after.bits} bits after ${r.queries} queries`);
      }
      console.log(`pHash evaded by Square at 8/255 on ${evaded} of ${names.length} photos:\n  ${report.join('\n  ')}`);
      // Measured: 3 of 6 (see PHASH_SOFTNESS); pHash is not easy prey at 8/255 for 1,000 queries, but it is prey.
      expect(evaded).toBeGreaterThanOrEqual(2);
    },
    300_000,
  );
});

describe('the pHash evasion job (src/engine/phash-evasion.ts)', () => {
  it('yields to the event loop, so an abort from a timer lands mid-attack; progress comes in steps', async () => {
    const { evadePhashJob } = await import('../src/engine/phash-evasion');
    const random = seededRandom(11);
    const data = new Uint8ClampedArray(96 * 96 * 4).map((_, i) => (i % 4 === 3 ? 255 : Math.floor(random() * 256)));
    const image = { width: 96, height: 96, data };
    const controller = new AbortController();
    const seen: number[] = [];
    setTimeout(() => controller.abort(), 30);
    // An unreachable listed hash (the image's own, and a budget far beyond 30 ms) so only the abort can end it.
    const run = evadePhashJob(image, [phash(image)], squareSettings(1 / 255, 100_000, 0), { signal: controller.signal, onProgress: (p) => seen.push(p.query) });
    await expect(run).rejects.toMatchObject({ code: 'CANCELLED' });
    expect(seen.length).toBeGreaterThan(0);
    expect(seen.every((q) => q % 20 === 0)).toBe(true);
    expect(seen[seen.length - 1]).toBeLessThan(100_000);
  });
});
