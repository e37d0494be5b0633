/**
 * APGD on device steps (attack_step.onnx with x_prev and momentum, iterates kept as ORT tensors: what
 * WebGPU runs) against the JS APGD (attack.onnx's gradient, the step in src/core/attack.ts), on the
 * shipped pair with onnxruntime-node's CPU EP and real photos from ../shared/data/imagenet-sample.
 * The JS APGD is the reference.
 *
 * Measured (this file's log): from the same iterate the graph's step is the JS step to float
 * rounding (same sign of every pixel's gradient, x_next within 6e-8), but the two paths round
 * differently (the graph works on x in float32, the JS on δ, stored as float32), and a last-bit change
 * of the input can flip the sign of a pixel's gradient in these ReLU networks; that pixel then moves
 * by ~2ε and the trajectories part (on the baseline from the 3rd-4th iterate; PGD's device steps
 * part from its JS path the same way). So:
 * - every step of a JS APGD-100 run (iterates 0-21, before the first checkpoint) is retaken on the
 *   device from the JS's own iterates: distance within 1e-6, next iterate within 1e-6 (both models,
 *   both objectives);
 * - whole runs on the robust default's push-apart, APGD-20 (14 checkpoints, halvings, continuing from
 *   the best point), on 6 photos: a run that does not part from the JS one has every iterate's distance
 *   within 1e-5 and the best point's pixels within 1e-5 but for at most 0.1 % of them (a pixel whose
 *   gradient is ~0 can flip on the last step without moving the distance). Whether a run parts depends
 *   on the weights (one earlier default parts on 3 of 6, at iterates 5, 8 and 11; the one
 *   before on none of 3), so at least one must run whole and the parted ones must not all part at
 *   the same iterate: every run goes through the same checkpoints and halvings, so an error in the
 *   device loop (momentum, x_prev, a halving, the jump to the best point) would part every run, and
 *   at one iterate. Deterministic for given weights (seeded starts): a new model can change it. Restarts parted on photo 0, so they are checked iterate by iterate on the
 *   analytic objective (tests/apgd.test.ts) and the random fixture (tests/attack-step-graph.test.ts);
 * - APGD-100 everywhere: the best distance within 5 % + 0.005 of the JS's (a run that has parted is
 *   another run of the same attack, not a broken one; logged).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { attackSettings, runAttack, type AttackObjective } from '../src/core/attack';
import type { RgbaImage } from '../src/core/preprocess';
import { sessionOracle } from '../src/engine/attack';
import { createNodeEngine } from '../src/engine/node';
import { loadEvaluationPhotos, missingPhotos } from './evaluation-photos';

const PHOTOS = 3;
const EPS = 4 / 255;
const missing = missingPhotos;
const device = createNodeEngine({ attackStepGraph: 'always' });
const js = createNodeEngine({ attackStepGraph: 'never' });
let models: string[] = [];
let photos: RgbaImage[] = [];

beforeAll(async () => {
  if (missing) return;
  const index = await device.index();
  models = [index.default, index.baseline];
  for (const m of models) await Promise.all([device.loadModel(m), js.loadModel(m)]);
  photos = await loadEvaluationPhotos(PHOTOS);
});

const maxAbsDiff = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
};
const targetOf = (objective: AttackObjective, i: number) => (objective === 'pull-together' ? photos[(i + 1) % photos.length] : null);

describe.skipIf(missing !== null)(`APGD L∞ 4/255 on device steps = the JS APGD, ${PHOTOS} photos${missing ? ` (skipped: ${missing})` : ''}`, () => {
  it('from the JS APGD-100 iterates, each device step is the JS step (both models, both objectives)', async () => {
    const rows: string[] = [];
    for (const model of models) {
      const session = await device.attackSession(model);
      const steps = (await device.stepSession(model, 'linf'))!;
      expect(steps, `${model} ships attack_step.onnx`).not.toBeNull();
      for (const [i, image] of photos.entries()) {
        for (const objective of ['push-apart', 'pull-together'] as const) {
          const clean = await device.pixelsFor(model, image);
          const target = targetOf(objective, i);
          const [reference] = await device.embedPixels(model, [target ? await device.pixelsFor(model, target) : clean]);
          const oracle = sessionOracle(session, (task) => task(), clean.data, reference, steps);
          const iterates: Float32Array[] = [];
          const run = await runAttack(clean.data, objective, attackSettings('apgd', 'linf', EPS, 100, i), { gradient: oracle.gradient }, { onStep: (_, x) => iterates.push(Float32Array.from(x!)) });
          const onDevice = oracle.deviceSteps!;
          let [distanceDiff, pixelDiff] = [0, 0];
          // Iterates 0-21: the step size is still 2ε (the first checkpoint is at 22).
          for (let k = 0; k <= 21; k++) {
            const [x, previous] = [onDevice.upload(iterates[k]), onDevice.upload(iterates[Math.max(k - 1, 0)])];
            const out = await onDevice.step({ x, previous, eps: EPS, alpha: (objective === 'pull-together' ? -2 : 2) * EPS, momentum: k === 0 ? 1 : 0.75 });
            distanceDiff = Math.max(distanceDiff, Math.abs(out.distance - run.steps[k].distance));
            pixelDiff = Math.max(pixelDiff, maxAbsDiff(await onDevice.download(out.next), iterates[k + 1]));
            for (const t of [x, previous, out.next]) onDevice.dispose(t);
          }
          rows.push(`${model} photo ${i} ${objective}: max |Δd| ${distanceDiff.toExponential(1)}, max |Δx_next| ${pixelDiff.toExponential(1)}`);
          expect(distanceDiff, rows.at(-1)).toBeLessThan(1e-6);
          expect(pixelDiff, rows.at(-1)).toBeLessThan(1e-6);
        }
      }
    }
    console.info(`one device step from the JS APGD's iterates 0-21:\n  ${rows.join('\n  ')}`);
  }, 600_000);

  it('robust default, push-apart, APGD-20: every iterate and the best point, on the runs that do not part', async () => {
    const model = models[0];
    const rows: string[] = [];
    const partedAt: number[] = [];
    for (const [i, image] of (await loadEvaluationPhotos(6)).entries()) {
      const request = { model, objective: 'push-apart' as const, settings: attackSettings('apgd', 'linf', EPS, 20, i) };
      const a = await device.attackDecoded(image, null, request);
      const b = await js.attackDecoded(image, null, request);
      expect(a.steps.map((s) => s.step)).toEqual(b.steps.map((s) => s.step));
      const parted = a.steps.findIndex((s, k) => Math.abs(s.distance - b.steps[k].distance) > 1e-5);
      partedAt.push(parted);
      const distanceDiff = Math.max(...a.steps.map((s, k) => Math.abs(s.distance - b.steps[k].distance)));
      const normDiff = Math.max(...a.steps.map((s, k) => Math.abs(s.deltaNorm - b.steps[k].deltaNorm)));
      // A pixel whose gradient is ~0 at the best point may have taken the other sign on its last step
      // (it moves the distance by ~|g|·2ε, nothing): count the pixels that differ rather than bound them all.
      const apart = a.adversarial.data.filter((v, p) => Math.abs(v - b.adversarial.data[p]) > 1e-5).length;
      rows.push(`photo ${i}: best ${a.attacked.after.toFixed(6)} vs ${b.attacked.after.toFixed(6)}; parted at iterate ${parted < 0 ? 'never' : parted}; max |Δd| ${distanceDiff.toExponential(1)}, |Δ‖δ‖∞| ${normDiff.toExponential(1)}, pixels > 1e-5 apart ${apart} of ${a.adversarial.data.length}`);
      expect(parted, rows.at(-1)).not.toBe(0); // the same random start
      if (parted >= 0) continue;
      expect(normDiff, rows.at(-1)).toBeLessThan(1e-6);
      expect(apart, rows.at(-1)).toBeLessThanOrEqual(a.adversarial.data.length / 1000);
    }
    console.info(`${model} push-apart APGD-20, device vs JS:\n  ${rows.join('\n  ')}`);
    expect(partedAt.filter((k) => k < 0).length, rows.join('\n')).toBeGreaterThanOrEqual(1);
    const parted = partedAt.filter((k) => k >= 0);
    expect(parted.length < 2 || new Set(parted).size > 1, `every parted run parts at the same iterate: ${rows.join('\n')}`).toBe(true);
  }, 600_000);

  it('APGD-100 (both models, both objectives): the best distance within 5 % + 0.005 of the JS APGD', async () => {
    const rows: string[] = [];
    for (const model of models) {
      for (const [i, image] of photos.entries()) {
        for (const objective of ['push-apart', 'pull-together'] as const) {
          const request = { model, objective, settings: attackSettings('apgd', 'linf', EPS, 100, i) };
          const a = await device.attackDecoded(image, targetOf(objective, i), request);
          const b = await js.attackDecoded(image, targetOf(objective, i), request);
          expect(a.steps).toHaveLength(101);
          const parted = a.steps.findIndex((s, k) => Math.abs(s.distance - b.steps[k].distance) > 1e-5);
          rows.push(`${model} photo ${i} ${objective}: best ${a.attacked.after.toFixed(5)} vs JS ${b.attacked.after.toFixed(5)}; parted at iterate ${parted < 0 ? 'never' : parted}`);
          expect(Math.abs(a.attacked.after - b.attacked.after), rows.at(-1)).toBeLessThanOrEqual(0.05 * b.attacked.after + 0.005);
        }
      }
    }
    console.info(`APGD-100, device vs JS:\n  ${rows.join('\n  ')}`);
  }, 600_000);
});
