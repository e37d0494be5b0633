/**
 * APGD against the shipped pair (real onnxruntime-node sessions, real photos from
 * ../shared/data/imagenet-sample): on every photo APGD-100 (the paper's budget) reaches at least the
 * best iterate of PGD-10, on the push-apart objective and on the suite's copy-retrieval margin; the
 * same seed reproduces it exactly. APGD-10 (PGD-10's budget) is logged beside them, not asserted: on
 * the baseline its 2ε first steps overshoot in 10 iterations (measured: 1.46 against PGD-10's 1.73 on
 * one photo), which is what its schedule is built for over 100.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { attackSettings, type AttackSettings } from '../src/core/attack';
import { cosineDistance } from '../src/core/distance';
import type { RgbaImage } from '../src/core/preprocess';
import { attackMargin } from '../src/core/suite';
import { createNodeEngine } from '../src/engine/node';
import { loadEvaluationPhotos, missingPhotos } from './evaluation-photos';

const PHOTOS = 6;
const missing = missingPhotos;
const engine = createNodeEngine();
let models: string[] = [];
let photos: RgbaImage[] = [];

beforeAll(async () => {
  if (missing) return;
  const index = await engine.index();
  models = [index.default, index.baseline];
  for (const m of models) await engine.loadModel(m);
  photos = await loadEvaluationPhotos(PHOTOS);
});

const pgd10 = attackSettings('pgd', 'linf', 4 / 255, 10, 0);
const best = (steps: Array<{ distance: number }>) => Math.max(...steps.map((s) => s.distance));

describe.skipIf(missing !== null)(`APGD on the shipped pair, ${PHOTOS} evaluation photos${missing ? ` (skipped: ${missing})` : ''}`, () => {
  for (const which of ['robust default', 'baseline'] as const) {
    it(`push-apart (${which}): APGD-100 reaches at least PGD-10's best iterate on every photo`, async () => {
      const model = models[which === 'baseline' ? 1 : 0];
      const run = (image: RgbaImage, settings: AttackSettings) => engine.attackDecoded(image, null, { model, objective: 'push-apart', settings });
      const rows: string[] = [];
      const results: Array<{ pgd: number; paper: number }> = [];
      for (const [i, image] of photos.entries()) {
        const pgd = await run(image, pgd10);
        const same = await run(image, attackSettings('apgd', 'linf', 4 / 255, 10, 0));
        const paper = await run(image, attackSettings('apgd', 'linf', 4 / 255, 100, 0));
        rows.push(`photo ${i}: PGD-10 ${best(pgd.steps).toFixed(4)}, APGD-10 ${same.attacked.after.toFixed(4)}, APGD-100 ${paper.attacked.after.toFixed(4)}`);
        expect(same.steps).toHaveLength(11);
        expect(paper.steps).toHaveLength(101);
        results.push({ pgd: best(pgd.steps), paper: paper.attacked.after });
      }
      console.info(`${model} push-apart L∞ 4/255:\n  ${rows.join('\n  ')}`);
      for (const r of results) expect(r.paper).toBeGreaterThanOrEqual(r.pgd);
    }, 600_000);
  }

  it("the copy-retrieval margin (robust default): APGD-100 reaches at least PGD-10's best margin on every photo", async () => {
    const model = models[0];
    const oracleModel = { distanceGradient: (pixels: Float32Array, target: Float32Array) => engine.distanceGradient(model, pixels, target) };
    const rows: string[] = [];
    const results: Array<{ pgd: number; apgd: number }> = [];
    for (const [i, image] of photos.entries()) {
      // Away from the photo itself, towards the next photo: the copy-retrieval attack's shape.
      const other = photos[(i + 1) % photos.length];
      const [pixels, otherPixels] = await Promise.all([engine.pixelsFor(model, image), engine.pixelsFor(model, other)]);
      const [correct, wrong] = await engine.embedPixels(model, [pixels, otherPixels]);
      const pgd = await attackMargin(oracleModel, pixels.data, correct, wrong, pgd10);
      const apgd = await attackMargin(oracleModel, pixels.data, correct, wrong, attackSettings('apgd', 'linf', 4 / 255, 100, 0));
      rows.push(`photo ${i}: clean ${(cosineDistance(correct, correct) - cosineDistance(correct, wrong)).toFixed(4)}, PGD-10 ${pgd.margins[pgd.best].toFixed(4)}, APGD-100 ${apgd.margins[apgd.best].toFixed(4)}`);
      results.push({ pgd: pgd.margins[pgd.best], apgd: apgd.margins[apgd.best] });
    }
    console.info(`${model} margin d(x, own) − d(x, other) L∞ 4/255:\n  ${rows.join('\n  ')}`);
    for (const r of results) expect(r.apgd).toBeGreaterThanOrEqual(r.pgd);
  }, 600_000);

  it('the same seed reproduces APGD exactly (restarts included); another seed does not', async () => {
    const [model] = models;
    const settings = { ...attackSettings('apgd', 'linf', 4 / 255, 12, 5), restarts: 2 };
    const run = (s: AttackSettings) => engine.attackDecoded(photos[0], null, { model, objective: 'push-apart', settings: s });
    const [a, b, c] = [await run(settings), await run(settings), await run({ ...settings, seed: 6 })];
    expect(b.steps).toEqual(a.steps);
    expect(Array.from(b.perturbation)).toEqual(Array.from(a.perturbation));
    expect(b.attacked).toEqual(a.attacked);
    expect(Array.from(c.perturbation)).not.toEqual(Array.from(a.perturbation));
  }, 120_000);
});
