import pixelmatch from 'pixelmatch';
import { describe, expect, it } from 'vitest';
import { pixelmatchMetric } from '../bench/suite/metrics';
import { pixelmatchShare } from '../bench/suite/pixelmatch-share';
import { pixelsToRgba, toModelPixels, type RgbaImage } from '../src/core/preprocess';
import { seededRandom } from '../src/core/random';
import { loadEvaluationPhotos, missingPhotos } from './evaluation-photos';

const reference = (a: RgbaImage, b: RgbaImage) => pixelmatch(a.data, b.data, undefined, a.width, a.height, { threshold: 0.1 }) / (a.width * a.height);

/** Square's moves: a square of ±amplitude per channel somewhere (edges and corners included), on a copy. */
function perturbSquare(img: RgbaImage, random: () => number, amplitude: number): RgbaImage {
  const data = Uint8ClampedArray.from(img.data);
  const side = 1 + Math.floor(random() * 24);
  const x0 = Math.floor(random() * (img.width - side + 1));
  const y0 = Math.floor(random() * (img.height - side + 1));
  const shift = [0, 1, 2].map(() => (random() < 0.5 ? -amplitude : amplitude));
  for (let y = y0; y < y0 + side; y++) for (let x = x0; x < x0 + side; x++) for (let c = 0; c < 3; c++) data[(y * img.width + x) * 4 + c] += shift[c];
  return { width: img.width, height: img.height, data };
}

/** Square's walk: each candidate is the best point so far plus one square, kept when `keep` says so. */
function walk(start: RgbaImage, others: RgbaImage[], steps: number, seed: number, amplitude: number) {
  const random = seededRandom(seed);
  let best = start;
  for (let s = 0; s < steps; s++) {
    const candidate = perturbSquare(best, random, amplitude);
    for (const o of others) expect(pixelmatchShare(candidate, o)).toBe(reference(candidate, o));
    if (random() < 0.3) best = candidate;
  }
}

const noise = (seed: number, size: number, alpha = 255): RgbaImage => {
  const random = seededRandom(seed);
  return { width: size, height: size, data: new Uint8ClampedArray(size * size * 4).map((_, i) => (i % 4 === 3 ? alpha : Math.floor(random() * 256))) };
};

describe("pixelmatch's share of differing pixels, recounted where the query changed (bench/suite/pixelmatch-share.ts)", () => {
  it('equals pixelmatch at every step of a Square-like walk on noise, against two images at once', () => {
    const a = noise(1, 48);
    walk(a, [noise(2, 48), perturbSquare(a, seededRandom(3), 30)], 300, 4, 40);
  });

  it('equals pixelmatch when the query jumps between unrelated images, and on images with transparency (counted whole)', () => {
    const b = noise(5, 32);
    for (const a of [noise(6, 32), noise(7, 32), noise(6, 32), b]) expect(pixelmatchShare(a, b)).toBe(reference(a, b));
    const t = noise(8, 32, 128);
    walk(noise(9, 32, 200), [t], 50, 10, 20);
    expect(() => pixelmatchShare(noise(1, 32), noise(1, 33))).toThrow(/sizes do not match/);
  });

  it.skipIf(missingPhotos !== null)(`equals pixelmatch on a Square-like walk over real photos at the suite's 128 px, small steps as at 2/255 and 8/255 ${missingPhotos ? `(skipped: ${missingPhotos})` : ''}`, async () => {
    const photos = (await loadEvaluationPhotos(4)).map((p) => pixelsToRgba(toModelPixels(p, { size: 128, background: [0, 0, 0] })));
    walk(photos[0], [photos[1], photos[2], perturbSquare(photos[0], seededRandom(1), 3)], 150, 2, 2);
    walk(photos[3], [photos[0], photos[1]], 150, 3, 8);
    // The suite's metric is this function.
    const [fa, fb] = await pixelmatchMetric.features([toModelPixels(photos[0], { size: 128, background: [0, 0, 0] }), toModelPixels(photos[1], { size: 128, background: [0, 0, 0] })]);
    expect(pixelmatchMetric.distance(fa, fb)).toBe(reference(fa, fb));
  }, 120_000);
});
