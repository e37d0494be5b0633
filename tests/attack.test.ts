import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { normOf, PAPER_DEFAULTS, pixelGradient, runAttack, validateAttackSettings, type AttackSettings } from '../src/core/attack';
import { seededRandom } from '../src/core/random';
import { cosineDistance } from '../src/core/distance';
import { normalize, type RgbaImage } from '../src/core/preprocess';
import { createNodeEngine, decodeImageFile } from '../src/engine/node';

const samples = path.resolve(import.meta.dirname, '../public/samples');
const engine = createNodeEngine();
let robust: string;
let baseline: string;
let sunset: RgbaImage;
let meadow: RgbaImage;

beforeAll(async () => {
  const index = await engine.index();
  robust = index.default;
  baseline = index.baseline;
  await engine.loadModel(robust);
  await engine.loadModel(baseline);
  sunset = await decodeImageFile(path.join(samples, 'sunset.jpg'));
  meadow = await decodeImageFile(path.join(samples, 'meadow.jpg'));
});

describe('attack.onnx gradient', () => {
  // Central differences of the float32 encoder: at a step of 1e-3 in CLIP-normalised units its
  // round-off is already 1–5 % of these small derivatives (measured), so the step is ≈ 0.7/255 in
  // pixels (1e-2 normalised for a CLIP std). A ReLU6 network is piecewise linear: a step that crosses
  // a kink biases the difference, so each check takes the better of that step and a third of it (a
  // wrong gradient fails both). Errors are relative to max(|derivative|, rms(grad)).
  const pixelStep = 0.7 / 255;
  for (const which of ['robust', 'baseline'] as const) {
    it(`matches central finite differences of the encoder's distance (${which})`, async () => {
      const model = which === 'robust' ? robust : baseline;
      const session = await engine.attackSession(model);
      const input = session.manifest.input;
      const n = 3 * input.size * input.size;
      const random = seededRandom(7);
      const pixels = Float32Array.from({ length: n }, () => 0.2 + 0.6 * random());
      const x = normalize({ size: input.size, data: pixels }, input);
      const [target] = await engine.embedPixels(model, [await engine.pixelsFor(model, meadow)]);
      const { grad } = await session.attackGradient(x.slice(), target);
      const rms = normOf(grad, 'l2') / Math.sqrt(n);
      const distanceAt = async (normalised: Float32Array) => cosineDistance((await session.embed([normalised]))[0], target);
      const h0 = pixelStep / Math.min(...input.std);
      const difference = async (v: Float32Array, h: number) => ((await distanceAt(x.map((p, i) => p + h * v[i]))) - (await distanceAt(x.map((p, i) => p - h * v[i])))) / (2 * h);
      const error = async (v: Float32Array, exact: number) => {
        const scale = Math.max(Math.abs(exact), rms);
        return Math.min(Math.abs((await difference(v, h0)) - exact), Math.abs((await difference(v, h0 / 3)) - exact)) / scale;
      };
      const errors: Record<string, number[]> = { directions: [], coordinates: [] };
      for (let trial = 0; trial < 4; trial++) {
        const v = Float32Array.from({ length: n }, () => random() * 2 - 1);
        const vn = normOf(v, 'l2');
        for (let i = 0; i < n; i++) v[i] /= vn;
        const analytic = grad.reduce((s, gi, i) => s + gi * v[i], 0);
        errors.directions.push(await error(v, analytic));
        const coordinate = Math.floor(random() * n);
        const e = new Float32Array(n);
        e[coordinate] = 1;
        errors.coordinates.push(await error(e, grad[coordinate]));
      }
      console.info(`${model}: relative errors, random directions ${errors.directions.map((e) => e.toExponential(1)).join(', ')}; random coordinates ${errors.coordinates.map((e) => e.toExponential(1)).join(', ')}`);
      expect(Math.max(...errors.directions, ...errors.coordinates)).toBeLessThan(5e-2); // a wrong gradient (sign, chain rule, std) is off by O(1)
    });
  }

  it('pixelGradient applies the chain rule through (p − mean)/std', async () => {
    const session = await engine.attackSession(baseline);
    const input = session.manifest.input;
    const n = 3 * input.size * input.size;
    const random = seededRandom(5);
    const pixels = Float32Array.from({ length: n }, () => 0.2 + 0.6 * random());
    const [target] = await engine.embedPixels(baseline, [await engine.pixelsFor(baseline, meadow)]);
    const g = pixelGradient((await session.attackGradient(normalize({ size: input.size, data: pixels }, input), target)).grad, input.std);
    const distanceAt = async (p: Float32Array) => cosineDistance((await engine.embedPixels(baseline, [{ size: input.size, data: p }]))[0], target);
    const v = Float32Array.from({ length: n }, () => random() * 2 - 1);
    const vn = normOf(v, 'l2');
    for (let i = 0; i < n; i++) v[i] /= vn;
    const step = pixelStep;
    const numeric = ((await distanceAt(pixels.map((p, i) => p + step * v[i]))) - (await distanceAt(pixels.map((p, i) => p - step * v[i])))) / (2 * step);
    const analytic = g.reduce((s, gi, i) => s + gi * v[i], 0);
    const relative = Math.abs(numeric - analytic) / Math.max(Math.abs(analytic), normOf(g, "l2") / Math.sqrt(n));
    console.info(`pixelGradient: relative error ${relative.toExponential(1)}`);
    expect(relative).toBeLessThan(5e-2);
  });
});

describe('PGD and FGSM', () => {
  const run = (model: string, settings: AttackSettings) => engine.attackDecoded(sunset, null, { model, objective: 'push-apart', settings });

  for (const norm of ['linf', 'l2'] as const) {
    it(`keeps every ${norm} iterate within eps (+1e-6) and the [0,1] box`, async () => {
      const session = await engine.attackSession(baseline);
      const input = session.manifest.input;
      const clean = (await engine.pixelsFor(baseline, sunset)).data;
      const [target] = await engine.embedPixels(baseline, [{ size: input.size, data: clean }]);
      const eps = norm === 'linf' ? 4 / 255 : 0.5;
      const settings: AttackSettings = { method: 'pgd', norm, eps, steps: 6, stepSize: norm === 'linf' ? 2 / 255 : 0.2, seed: 3 };
      let iterates = 0;
      await runAttack(clean, 'push-apart', settings, { gradient: (p) => session.pixelGradient(p, target) }, {
        onStep: (s, pixels) => {
          iterates++;
          const delta = pixels!.map((p, i) => p - clean[i]);
          expect(normOf(delta, norm)).toBeLessThanOrEqual(eps + 1e-6);
          expect(s.deltaNorm).toBeLessThanOrEqual(eps + 1e-6);
          for (const p of pixels!) expect(p >= 0 && p <= 1).toBe(true);
        },
      });
      expect(iterates).toBe(7);
    });
  }

  it('PGD raises the objective over FGSM over clean on the baseline (push apart)', async () => {
    const pgd = await run(baseline, PAPER_DEFAULTS);
    const fgsm = await run(baseline, { ...PAPER_DEFAULTS, method: 'fgsm' });
    console.info(`baseline push-apart: clean ${pgd.attacked.clean}, FGSM ${fgsm.attacked.after}, PGD-10 ${pgd.attacked.after}`);
    expect(pgd.attacked.clean).toBeCloseTo(0, 6);
    expect(fgsm.attacked.after).toBeGreaterThan(pgd.attacked.clean);
    expect(pgd.attacked.after).toBeGreaterThan(fgsm.attacked.after);
    expect(pgd.other).toBeNull();
  });

  it('the same seed gives the same result; another seed does not', async () => {
    const a = await run(baseline, { ...PAPER_DEFAULTS, steps: 3, seed: 11 });
    const b = await run(baseline, { ...PAPER_DEFAULTS, steps: 3, seed: 11 });
    const c = await run(baseline, { ...PAPER_DEFAULTS, steps: 3, seed: 12 });
    expect(Array.from(b.perturbation)).toEqual(Array.from(a.perturbation));
    expect(b.steps).toEqual(a.steps);
    expect(Array.from(c.perturbation)).not.toEqual(Array.from(a.perturbation));
  });

  it('measures the adversarial image under the other model too, and pull-together lowers the distance to B', async () => {
    const r = await engine.attackDecoded(sunset, meadow, { model: baseline, otherModel: robust, objective: 'pull-together', settings: { ...PAPER_DEFAULTS, steps: 5 } });
    expect(r.attacked.after).toBeLessThan(r.attacked.clean);
    expect(r.other?.model).toBe(robust);
    expect(r.other!.clean).toBeGreaterThan(0);
    expect(r.adversarialRgba.data.length).toBe(r.adversarial.size * r.adversarial.size * 4);
  });
});

describe('settings validation', () => {
  const n = 3 * 64 * 64;
  const cases: Array<[Partial<AttackSettings>, RegExp]> = [
    [{ eps: 0 }, /eps must be a positive number/],
    [{ eps: -1 }, /eps must be a positive number/],
    [{ eps: Number.NaN }, /eps must be a positive number/],
    [{ eps: 2 }, /larger than the whole pixel box allows for linf/],
    [{ norm: 'l2', eps: 1000 }, /larger than the whole pixel box allows for l2/],
    [{ steps: 0 }, /steps must be a whole number from 1 to 1000/],
    [{ steps: 1e6 }, /steps must be a whole number from 1 to 1000/],
    [{ stepSize: 0 }, /stepSize must be a positive number/],
    [{ norm: 'l1' as never }, /norm must be "linf" or "l2"/],
  ];
  for (const [patch, message] of cases) {
    it(`refuses ${JSON.stringify(patch)}`, () => {
      expect(() => validateAttackSettings({ ...PAPER_DEFAULTS, ...patch }, n)).toThrow(message);
    });
  }

  it('refuses pull-together without a second image', async () => {
    await expect(engine.attackDecoded(sunset, null, { model: baseline, objective: 'pull-together', settings: PAPER_DEFAULTS })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  });
});

describe('Engine.attack (one job lifecycle: an AbortSignal)', () => {
  it('decodes, attacks and matches attackDecoded on the decoded pixels', async () => {
    const request = { model: baseline, objective: 'push-apart' as const, settings: { ...PAPER_DEFAULTS, steps: 2 } };
    const viaEngine = await engine.attack(path.join(samples, 'sunset.jpg'), null, request);
    const direct = await engine.attackDecoded(sunset, null, request);
    expect(viaEngine.attacked).toEqual(direct.attacked);
    expect(Array.from(viaEngine.perturbation)).toEqual(Array.from(direct.perturbation));
  });

  it('an abort between steps ends it with CANCELLED, and the engine keeps working', async () => {
    const controller = new AbortController();
    const steps: number[] = [];
    const request = { model: baseline, objective: 'push-apart' as const, settings: { ...PAPER_DEFAULTS, steps: 10 } };
    const run = engine.attack(path.join(samples, 'sunset.jpg'), null, request, { signal: controller.signal, onStep: (s) => (steps.push(s.step), controller.abort()) });
    await expect(run).rejects.toMatchObject({ code: 'CANCELLED' });
    expect(steps.length).toBeLessThan(10);
    expect((await engine.distance(path.join(samples, 'sunset.jpg'), path.join(samples, 'meadow.jpg'), baseline)).distance).toBeGreaterThan(0);
  });
});

describe('push-from-target (evading a match)', () => {
  it('with the image itself as target it is push-apart; with another image it raises d(x+δ, B) and needs B', async () => {
    const settings = { ...PAPER_DEFAULTS, steps: 3 };
    const self = await engine.attackDecoded(sunset, sunset, { model: baseline, objective: 'push-from-target', settings });
    const apart = await engine.attackDecoded(sunset, null, { model: baseline, objective: 'push-apart', settings });
    expect(self.attacked.after).toBeCloseTo(apart.attacked.after, 6);
    const away = await engine.attackDecoded(sunset, meadow, { model: baseline, objective: 'push-from-target', settings });
    expect(away.attacked.after).toBeGreaterThan(away.attacked.clean);
    await expect(engine.attackDecoded(sunset, null, { model: baseline, objective: 'push-from-target', settings })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  });
});
