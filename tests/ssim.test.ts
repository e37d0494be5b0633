import { ssim } from 'ssim.js';
import { describe, expect, it } from 'vitest';
import { meanSsim, ssimFeatures } from '../bench/suite/ssim';
import { ssimMetric } from '../bench/suite/metrics';
import { pixelsToRgba, toModelPixels, type RgbaImage } from '../src/core/preprocess';
import { seededRandom } from '../src/core/random';
import { loadEvaluationPhotos, missingPhotos } from './evaluation-photos';

/** ssim.js itself, the reference (it takes ImageData-shaped input). */
const reference = (a: RgbaImage, b: RgbaImage): number =>
  ssim({ width: a.width, height: a.height, data: new Uint8ClampedArray(a.data) }, { width: b.width, height: b.height, data: new Uint8ClampedArray(b.data) }).mssim;

const noise = (seed: number, width: number, height: number, base?: RgbaImage, amplitude = 255): RgbaImage => {
  const random = seededRandom(seed);
  const data = new Uint8ClampedArray(width * height * 4).map((_, i) =>
    i % 4 === 3 ? 255 : base ? base.data[i] + Math.round((random() * 2 - 1) * amplitude) : Math.floor(random() * 256),
  );
  return { width, height, data };
};

describe("the suite's SSIM split into per-image features and a pair's covariance (bench/suite/ssim.ts)", () => {
  it('returns ssim.js\'s mssim bit for bit on noise, near-copies and a flat image, both argument orders', () => {
    const a = noise(1, 128, 128);
    const pairs: Array<[RgbaImage, RgbaImage]> = [
      [a, noise(2, 128, 128)],
      [a, noise(3, 128, 128, a, 4)],
      [a, a],
      [noise(4, 37, 53), noise(5, 37, 53)],
      [{ width: 16, height: 16, data: new Uint8ClampedArray(16 * 16 * 4).fill(200) }, noise(6, 16, 16)],
    ];
    for (const [x, y] of pairs) {
      expect(meanSsim(ssimFeatures(x), ssimFeatures(y))).toBe(reference(x, y));
      expect(meanSsim(ssimFeatures(y), ssimFeatures(x))).toBe(reference(y, x));
    }
  });

  it('refuses what it does not reproduce: images smaller than the window, or big enough for ssim.js to downsample', () => {
    expect(() => ssimFeatures(noise(1, 10, 40))).toThrow(/at least 11×11/);
    expect(() => ssimFeatures(noise(1, 384, 384))).toThrow(/downsampling/);
    expect(() => meanSsim(ssimFeatures(noise(1, 20, 20)), ssimFeatures(noise(1, 21, 20)))).toThrow(/dimensions/);
  });

  it.skipIf(missingPhotos !== null)(`equals ssim.js on real photos at the suite's 128 px and at full size ${missingPhotos ? `(skipped: ${missingPhotos})` : ''}`, async () => {
    const photos = await loadEvaluationPhotos(6);
    const small = photos.map((p) => pixelsToRgba(toModelPixels(p, { size: 128, background: [0, 0, 0] })));
    for (let i = 0; i + 1 < photos.length; i++) {
      expect(meanSsim(ssimFeatures(small[i]), ssimFeatures(small[i + 1]))).toBe(reference(small[i], small[i + 1]));
      // The suite's metric, as Square calls it: features once, then the distance.
      const [fa, fb] = await ssimMetric.features([toModelPixels(photos[i], { size: 128, background: [0, 0, 0] }), toModelPixels(photos[i + 1], { size: 128, background: [0, 0, 0] })]);
      expect(ssimMetric.distance(fa, fb)).toBe(1 - reference(small[i], small[i + 1]));
      const crop = (p: RgbaImage): RgbaImage => ({ width: 300, height: 200, data: Uint8ClampedArray.from({ length: 300 * 200 * 4 }, (_, j) => p.data[(Math.floor(j / 1200) * p.width + ((j % 1200) >> 2)) * 4 + (j & 3)]) });
      if (photos[i].width >= 300 && photos[i].height >= 200 && photos[i + 1].width >= 300 && photos[i + 1].height >= 200) {
        expect(meanSsim(ssimFeatures(crop(photos[i])), ssimFeatures(crop(photos[i + 1])))).toBe(reference(crop(photos[i]), crop(photos[i + 1])));
      }
    }
  }, 60_000);
});
