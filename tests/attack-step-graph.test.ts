/**
 * attack_step.onnx (tools/rclip_tools/stepgraph.py): the L∞ attack (PGD, FGSM, APGD) through the step
 * graph, where the projection and APGD's momentum run in the graph, gives the same iterates as
 * attack.onnx + the JS projection. Run on
 * onnxruntime-web's wasm in Node with attackStepGraph 'always' (the browser uses it on WebGPU; the
 * readbacks per step are counted in e2e/attack-step.spec.ts). Fixture: a random 16 px ConvEncoder.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import * as ortWeb from 'onnxruntime-web';
import { beforeAll, describe, expect, it } from 'vitest';
import { attackSettings, PAPER_DEFAULTS, type AttackSettings } from '../src/core/attack';
import type { RgbaImage } from '../src/core/preprocess';
import { testPattern } from './fixtures/pattern';
import { DiskModelSource } from '../src/engine/disk-source';
import { Engine } from '../src/engine/engine';
import { validateManifest } from '../src/core/manifest';
import { ModelSession } from '../src/engine/session';

const FIXTURE = path.resolve(__dirname, '../e2e/fixtures/models');

const pattern = (seed: number) => testPattern(seed, 24, 20);

function engineWith(attackStepGraph: 'always' | 'never') {
  ortWeb.env.wasm.numThreads = 1;
  return new Engine<RgbaImage>({
    ort: ortWeb,
    source: new DiskModelSource(FIXTURE),
    chooseBackend: async () => ({ ep: 'wasm', reason: 'test', adapter: null, threads: 1 }),
    decode: async (img) => img,
    attackStepGraph,
  });
}

describe('the L∞ attack through attack_step.onnx', () => {
  const id = 'step-fixture';
  const graph = engineWith('always');
  const js = engineWith('never');

  beforeAll(async () => {
    await graph.loadModel(id);
    await js.loadModel(id);
  });

  it('is used when asked, and only for L∞', async () => {
    expect(await graph.stepSession(id, 'linf')).not.toBeNull();
    expect(await graph.stepSession(id, 'l2')).toBeNull();
    expect(await js.stepSession(id, 'linf')).toBeNull();
  });

  const cases: Array<[string, 'push-apart' | 'pull-together', Partial<AttackSettings>]> = [
    ['PGD push-apart', 'push-apart', {}],
    ['PGD pull-together', 'pull-together', { steps: 6, seed: 3 }],
    ['FGSM push-apart', 'push-apart', { method: 'fgsm' }],
  ];
  for (const [name, objective, overrides] of cases) {
    it(`${name}: the same steps and adversarial image as the JS projection`, async () => {
      const request = { model: id, objective, settings: { ...PAPER_DEFAULTS, ...overrides } };
      const target = objective === 'pull-together' ? pattern(5) : null;
      const a = await graph.attack(pattern(1), target, request);
      const b = await js.attack(pattern(1), target, request);
      expect(a.steps.map((s) => s.step)).toEqual(b.steps.map((s) => s.step));
      for (const [i, s] of a.steps.entries()) {
        expect(s.distance).toBeCloseTo(b.steps[i].distance, 5);
        expect(s.deltaNorm).toBeCloseTo(b.steps[i].deltaNorm, 6);
        expect(s.deltaNorm).toBeLessThanOrEqual(request.settings.eps + 1e-6);
      }
      let maxDiff = 0;
      for (let i = 0; i < a.adversarial.data.length; i++) maxDiff = Math.max(maxDiff, Math.abs(a.adversarial.data[i] - b.adversarial.data[i]));
      expect(maxDiff).toBeLessThan(1e-5);
      expect(a.attacked.after).toBeCloseTo(b.attacked.after, 5);
    });
  }

  it('APGD runs on the step graph too: the same iterates and best point as the JS APGD', async () => {
    const request = { model: id, objective: 'push-apart' as const, settings: { ...attackSettings('apgd', 'linf', 4 / 255, 8, 2), restarts: 2 } };
    const a = await graph.attack(pattern(3), null, request);
    const b = await js.attack(pattern(3), null, request);
    expect(a.steps.map((s) => s.step)).toEqual(b.steps.map((s) => s.step));
    for (const [i, s] of a.steps.entries()) {
      expect(s.distance, `step ${i}`).toBeCloseTo(b.steps[i].distance, 5);
      expect(s.deltaNorm).toBeCloseTo(b.steps[i].deltaNorm, 6);
    }
    let maxDiff = 0;
    for (let i = 0; i < a.adversarial.data.length; i++) maxDiff = Math.max(maxDiff, Math.abs(a.adversarial.data[i] - b.adversarial.data[i]));
    expect(maxDiff).toBeLessThan(1e-5);
    expect(a.attacked.after).toBeCloseTo(b.attacked.after, 5);
  });

  it('refuses a step graph without APGD\'s inputs (x_prev, momentum), naming the command that rebuilds it', async () => {
    const folder = path.join(FIXTURE, id);
    const encoder = new Uint8Array(readFileSync(path.join(folder, 'encoder.onnx')));
    const manifest = validateManifest(JSON.parse(readFileSync(path.join(folder, 'manifest.json'), 'utf8')));
    const session = await ModelSession.create(ortWeb, { manifest, folder: `${id}/`, encoder, attack: null }, { ep: 'wasm' });
    // Any graph whose inputs are not the step graph's stands in for one built before APGD used it.
    await expect(session.attachStepGraph(encoder)).rejects.toMatchObject({ code: 'MODEL_LOAD_FAILED', message: expect.stringMatching(/rclip_tools\.stepgraph/) });
    expect(session.hasStepGraph).toBe(false);
    await session.release();
  });

  it('stops on abort between steps with CANCELLED', async () => {
    const controller = new AbortController();
    const request = { model: id, objective: 'push-apart' as const, settings: { ...PAPER_DEFAULTS, steps: 50 } };
    const run = graph.attack(pattern(2), null, request, { signal: controller.signal, onStep: (s) => s.step === 2 && controller.abort() });
    await expect(run).rejects.toMatchObject({ code: 'CANCELLED' });
  });
});
