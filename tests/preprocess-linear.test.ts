/**
 * The preprocessing as a linear map P (src/core/preprocess-linear.ts): Pᵀ is P's exact adjoint, P is
 * toModelPixels without its 8-bit rounding, linfGain is P's ∞-norm exactly, and the full-size
 * gradient (Pᵀ of a real model's attack-graph gradient) matches finite differences of the model's
 * distance through P. Real photos from ../shared/data/imagenet-sample and the shipped robust model.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { seededRandom } from '../src/core/random';
import { fullSizeSpace, linearPreprocess, MAX_FULL_SIZE_ATTACK_PIXELS, modelView, throughPreprocess } from '../src/core/preprocess-linear';
import { toModelPixels, withRegion, type RgbaImage } from '../src/core/preprocess';
import { createNodeEngine } from '../src/engine/node';
import { loadEvaluationPhotos, missingPhotos } from './evaluation-photos';

const dot = (a: Float32Array, b: Float32Array) => a.reduce((s, v, i) => s + v * b[i], 0);
const uniform = (n: number, random: () => number) => Float32Array.from({ length: n }, () => random() * 2 - 1);

/**
 * An opaque image of width×height with seeded random bytes in [lo, hi]: every bicubic phase gets
 * exercised. In [32, 223] no pass's overshoot (Σ|w| ≤ 1.25 an axis) leaves [0, 255], so Pillow's clips never bite.
 */
function noiseImage(width: number, height: number, seed: number, lo = 0, hi = 255): RgbaImage {
  const random = seededRandom(seed);
  const data = new Uint8Array(width * height * 4).map((_, i) => (i % 4 === 3 ? 255 : lo + Math.floor(random() * (hi - lo + 1))));
  return { width, height, data };
}

// Downscales (both orientations, odd factors), an upscale (image smaller than the model input) and the square case.
const SHAPES: Array<[number, number, number]> = [
  [500, 375, 96],
  [375, 500, 160],
  [333, 250, 96],
  [60, 45, 96],
  [200, 200, 96],
];

describe('P and Pᵀ', () => {
  for (const [w, h, size] of SHAPES) {
    it(`${w}×${h} → ${size}: <P x, y> = <x, Pᵀ y> on random x, y`, () => {
      const map = linearPreprocess(w, h, size);
      const random = seededRandom(w * h + size);
      const { x0, y0, x1, y1 } = map.region;
      for (let trial = 0; trial < 3; trial++) {
        const x = uniform(3 * (x1 - x0) * (y1 - y0), random);
        const y = uniform(3 * size * size, random);
        const left = dot(map.apply(x), y);
        const right = dot(x, map.transpose(y));
        // Both sides are sums of ~10⁴–10⁵ float32 terms of either sign: equal to float precision, relative to the terms' scale.
        const scale = Math.sqrt(x.length * y.length) * 1e-6;
        expect(Math.abs(left - right)).toBeLessThan(scale);
      }
    });

    it(`${w}×${h} → ${size}: P x is toModelPixels without its 8-bit rounding, where Pillow's clips do not bite`, () => {
      const image = noiseImage(w, h, size, 32, 223);
      const { map, clean } = fullSizeSpace(image, { size, background: [1, 1, 1] });
      const float = modelView(map, clean);
      const eightBit = toModelPixels(image, { size, background: [1, 1, 1] }).data;
      // Rounding after the horizontal pass (≤ 0.5/255) goes through the vertical weights (Σ|w| ≤ linfGain), then the last rounding adds 0.5/255.
      const bound = (0.5 * map.linfGain + 0.5) / 255 + 1e-6;
      let worst = 0;
      for (let i = 0; i < float.length; i++) worst = Math.max(worst, Math.abs(float[i] - eightBit[i]));
      expect(worst).toBeLessThanOrEqual(bound);
      expect(worst).toBeGreaterThan(0);
    });

    it(`${w}×${h} → ${size}: linfGain is P's ∞-norm (the largest row Σ|w|), reached by a ±1 pattern`, () => {
      const map = linearPreprocess(w, h, size);
      const plane = size * size;
      // Output j's Σ|w| is the ℓ1 norm of P's row j, which is Pᵀ of the unit vector at j (channel 0 here).
      const rowOf = (j: number) => {
        const unit = new Float32Array(3 * plane);
        unit[j] = 1;
        return map.transpose(unit);
      };
      const l1 = (v: Float32Array) => v.reduce((s, x) => s + Math.abs(x), 0);
      // P is separable: output (yy, o) has Σ|w| = H(o)·V(yy). The first row gives H(o)·V(0), the first column H(0)·V(yy).
      const firstRow = Array.from({ length: size }, (_, o) => l1(rowOf(o)));
      const firstColumn = Array.from({ length: size }, (_, yy) => l1(rowOf(yy * size)));
      expect((Math.max(...firstRow) * Math.max(...firstColumn)) / firstRow[0]).toBeCloseTo(map.linfGain, 5);
      expect(map.linfGain).toBeGreaterThan(1);
      // The ±1 pattern sign(row j) reaches row j's Σ|w| at output j.
      const pattern = rowOf(0).map((v) => Math.sign(v));
      expect(map.apply(pattern)[0]).toBeCloseTo(firstRow[0], 5);
      // 2·size transposes of the whole region: ~20 s for 160 on a loaded 2-core machine.
    }, 120_000);
  }

  it('withRegion puts the region back where it was read from, the rest untouched', () => {
    const image = noiseImage(500, 375, 1);
    const { map, clean } = fullSizeSpace(image, { size: 96, background: [1, 1, 1] });
    const copy = withRegion(image, [1, 1, 1], map.region, clean);
    expect(Buffer.from(copy.data).equals(Buffer.from(image.data))).toBe(true);
  });

  it('refuses a full-size attack above the documented size, with IMAGE_TOO_LARGE', () => {
    const side = Math.ceil(Math.sqrt(MAX_FULL_SIZE_ATTACK_PIXELS)) + 8;
    const big = { width: side, height: side, data: new Uint8Array(0) };
    expect(() => fullSizeSpace(big, { size: 96, background: [1, 1, 1] })).toThrow(expect.objectContaining({ code: 'IMAGE_TOO_LARGE', message: expect.stringContaining(`${side}×${side}`) }));
  });
});

describe.skipIf(missingPhotos !== null)(`the full-size gradient through a real model${missingPhotos ? ` (skipped: ${missingPhotos})` : ''}`, () => {
  const engine = createNodeEngine();
  let model: string;
  let photos: RgbaImage[];
  beforeAll(async () => {
    model = (await engine.index()).default;
    await engine.loadModel(model);
    photos = await loadEvaluationPhotos(2);
  });

  it('Pᵀ of the attack graph’s gradient matches central differences of d(clamp(P x), target)', async () => {
    const input = (await engine.loadModel(model)).manifest.input;
    const [image, other] = photos;
    const target = (await engine.embedPixels(model, [toModelPixels(other, input)]))[0];
    const { map, clean } = fullSizeSpace(image, input);
    // The photo squeezed into [0.1, 0.9]: P x then stays inside [0,1] under the probes, where the clamp is the identity.
    const x = clean.map((v) => 0.1 + 0.8 * v);
    const oracle = throughPreprocess({ gradient: (pixels) => engine.distanceGradient(model, pixels, target) }, map);
    const { grad } = await oracle.gradient(x);
    const f = async (d: Float32Array, t: number) => (await engine.distanceGradient(model, modelView(map, x.map((v, i) => v + t * d[i])), target)).distance;
    const random = seededRandom(7);
    // Directions: the gradient's sign (the L∞ attack's step) and a random ±1 pattern. Steps of 0.1/255 a pixel:
    // at 0.5/255 the network's curvature shows (3 % off), below 0.02/255 float32 noise (measured).
    for (const d of [grad.map((g) => Math.sign(g)), uniform(x.length, random).map((v) => Math.sign(v))]) {
      const h = 0.1 / 255;
      const numeric = ((await f(d, h)) - (await f(d, -h))) / (2 * h);
      const analytic = dot(grad, d);
      console.info(`directional derivative: analytic ${analytic.toExponential(4)}, central difference ${numeric.toExponential(4)}`);
      expect(Math.abs(numeric - analytic)).toBeLessThan(0.02 * Math.abs(analytic) + 1e-4);
    }
  }, 120_000);
});
