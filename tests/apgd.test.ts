/**
 * APGD in the core (src/core/attack.ts) on small analytic objectives whose maximiser over the
 * ε-ball ∩ [0,1] box is known in closed form, its checkpoint schedule and step-halving rule, and
 * settings validation. The real-model comparison with PGD is in tests/apgd-models.test.ts.
 */
import { describe, expect, it } from 'vitest';
import {
  apgdCheckpoints,
  apgdHalves,
  attackSettings,
  normOf,
  runAttack,
  validateAttackSettings,
  type AttackNorm,
  type AttackOracle,
  type AttackSettings,
  type AttackStep,
  type DeviceStep,
  type DeviceSteps,
} from '../src/core/attack';
import { seededRandom } from '../src/core/random';

/** f(x) = −‖x − c‖²: its maximiser over a convex set is the projection of c onto it. */
function quadratic(c: Float32Array): AttackOracle & { calls: number } {
  const oracle = {
    calls: 0,
    gradient: async (x: Float32Array) => {
      oracle.calls++;
      let distance = 0;
      const grad = new Float32Array(x.length);
      for (let i = 0; i < x.length; i++) {
        distance -= (x[i] - c[i]) ** 2;
        grad[i] = -2 * (x[i] - c[i]);
      }
      return { distance, grad };
    },
  };
  return oracle;
}

const n = 48;
const random = seededRandom(99);
const clean = Float32Array.from({ length: n }, () => 0.1 + 0.8 * random());
/** A target outside both balls, some of it beyond the box (below 0 or above 1). */
const target = Float32Array.from(clean, (v, i) => v + (i % 3 === 0 ? 0.5 : -0.2) * (1 + random()));

function linfMaximiser(eps: number): Float32Array {
  return Float32Array.from(clean, (v, i) => Math.min(1, Math.max(0, Math.min(v + eps, Math.max(v - eps, target[i])))));
}

const valueAt = (x: Float32Array) => -x.reduce((s, v, i) => s + (v - target[i]) ** 2, 0);

describe('APGD checkpoints (autopgd_base.py: ⌊0.22n⌋, shrinking by ⌊0.03n⌋ to ⌊0.06n⌋)', () => {
  it('n = 100 gives the paper schedule p = 0.22, 0.41, 0.57, 0.70, 0.80, 0.87, 0.93, 0.99', () => {
    expect(apgdCheckpoints(100)).toEqual([22, 41, 57, 70, 80, 87, 93, 99]);
  });
  it('short runs check at least every iteration after the first interval', () => {
    expect(apgdCheckpoints(10)).toEqual([2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(apgdCheckpoints(1)).toEqual([1]);
  });
  it('n = 1000 keeps the same shares', () => {
    const c = apgdCheckpoints(1000);
    expect(c.slice(0, 3)).toEqual([220, 410, 570]);
    expect(c.every((w, j) => j === 0 || w - c[j - 1] >= 60)).toBe(true);
  });
});

describe('APGD step halving', () => {
  it('(a) halves when at most ρ of the steps since the last checkpoint improved', () => {
    // 4 steps, 3 improved: 3 ≤ 0.75·4 halves; 4 improved does not.
    expect(apgdHalves([0, 1, 2, 1.5, 3], 0.75, true, -Infinity, 3)).toBe(true);
    expect(apgdHalves([0, 1, 2, 2.5, 3], 0.75, true, -Infinity, 3)).toBe(false);
  });
  it('(b) halves when the step was kept at the last checkpoint and the best value did not rise', () => {
    const rising = [0, 1, 2, 3, 4];
    expect(apgdHalves(rising, 0.75, false, 4, 4)).toBe(true);
    expect(apgdHalves(rising, 0.75, true, 4, 4)).toBe(false);
    expect(apgdHalves(rising, 0.75, false, 3.5, 4)).toBe(false);
  });
});

describe('APGD on an analytic objective', () => {
  for (const norm of ['linf', 'l2'] as const) {
    it(`${norm}: every iterate stays in the ball and the box; each iteration costs one gradient`, async () => {
      const eps = norm === 'linf' ? 8 / 255 : 0.3;
      const oracle = quadratic(target);
      const settings = attackSettings('apgd', norm, eps, 30, 4);
      const seen: AttackStep[] = [];
      const result = await runAttack(clean, 'push-apart', settings, oracle, {
        onStep: (s, pixels) => {
          seen.push(s);
          const delta = pixels!.map((p, i) => p - clean[i]);
          expect(normOf(delta, norm)).toBeLessThanOrEqual(eps + 1e-6);
          expect(s.deltaNorm).toBeCloseTo(normOf(delta, norm), 6);
          for (const p of pixels!) expect(p >= 0 && p <= 1).toBe(true);
        },
      });
      expect(oracle.calls).toBe(31);
      expect(seen.map((s) => s.step)).toEqual([...Array(31).keys()]);
      // The result is the best iterate, not the last.
      expect(result.distance).toBe(Math.max(...seen.map((s) => s.distance)));
      expect(result.distance).toBeCloseTo(valueAt(result.adversarial), 5);
    });
  }

  it('linf: reaches the projection of the target onto the ball ∩ box (the known maximiser)', async () => {
    const eps = 8 / 255;
    const result = await runAttack(clean, 'push-apart', attackSettings('apgd', 'linf', eps, 50, 0), quadratic(target));
    const best = linfMaximiser(eps);
    expect(result.distance).toBeCloseTo(valueAt(best), 6);
    for (let i = 0; i < n; i++) expect(result.adversarial[i]).toBeCloseTo(best[i], 5);
  });

  it('l2: reaches clean + eps·(c − clean)/‖c − clean‖ when the box is not in the way', async () => {
    const eps = 0.05;
    const inside = Float32Array.from(clean, (v, i) => v + 0.5 * (target[i] - v));
    const result = await runAttack(clean, 'push-apart', attackSettings('apgd', 'l2', eps, 100, 0), quadratic(inside));
    const d = inside.map((v, i) => v - clean[i]);
    const k = eps / normOf(d, 'l2');
    for (let i = 0; i < n; i++) expect(result.adversarial[i]).toBeCloseTo(clean[i] + k * d[i], 3);
  });

  it('pull-together descends the objective (maximises its negative)', async () => {
    // Descending −‖x − c‖² pushes x away from c: the minimiser is the ball's corner farthest from c.
    const eps = 4 / 255;
    const result = await runAttack(clean, 'pull-together', attackSettings('apgd', 'linf', eps, 20, 0), quadratic(target));
    const farthest = Float32Array.from(clean, (v, i) => Math.min(1, Math.max(0, target[i] > v ? v - eps : v + eps)));
    expect(result.distance).toBeCloseTo(valueAt(farthest), 6);
  });

  it('halves the step where it overshoots: on a narrow bowl it ends far nearer the top than PGD with the same first step', async () => {
    // Maximiser inside the ball: a fixed sign step of 2ε oscillates around it; APGD's halving settles.
    const eps = 16 / 255;
    const centre = Float32Array.from(clean, (v, i) => v + ((i % 5) - 2) * (eps / 5));
    const apgd = await runAttack(clean, 'push-apart', attackSettings('apgd', 'linf', eps, 100, 1), quadratic(centre));
    const pgd = await runAttack(clean, 'push-apart', { method: 'pgd', norm: 'linf', eps, steps: 100, stepSize: 2 * eps, seed: 1 }, quadratic(centre));
    expect(apgd.distance).toBeGreaterThan(-1e-6 * n);
    expect(apgd.distance).toBeGreaterThan(Math.max(...pgd.steps.map((s) => s.distance)));
    // Every restart follows the whole schedule: each run settles as the first does.
    const twice = await runAttack(clean, 'push-apart', { ...attackSettings('apgd', 'linf', eps, 100, 1), restarts: 2 }, quadratic(centre));
    for (const run of [twice.steps.slice(0, 101), twice.steps.slice(101)]) expect(Math.max(...run.map((s) => s.distance))).toBeGreaterThan(-1e-6 * n);
  });

  it('the same seed gives identical results; another seed a different start', async () => {
    const settings = attackSettings('apgd', 'l2', 0.2, 15, 7);
    const a = await runAttack(clean, 'push-apart', settings, quadratic(target));
    const b = await runAttack(clean, 'push-apart', settings, quadratic(target));
    const c = await runAttack(clean, 'push-apart', { ...settings, seed: 8 }, quadratic(target));
    expect(Array.from(b.adversarial)).toEqual(Array.from(a.adversarial));
    expect(b.steps).toEqual(a.steps);
    expect(c.steps[0].distance).not.toBe(a.steps[0].distance);
  });

  it('restarts: the first run is the single run, the result the best over all runs', async () => {
    const settings = attackSettings('apgd', 'linf', 4 / 255, 5, 3);
    const once = await runAttack(clean, 'push-apart', settings, quadratic(target));
    const thrice = await runAttack(clean, 'push-apart', { ...settings, restarts: 3 }, quadratic(target));
    expect(thrice.steps.length).toBe(18);
    expect(thrice.steps.slice(0, 6)).toEqual(once.steps);
    expect(thrice.distance).toBe(Math.max(...thrice.steps.map((s) => s.distance)));
    expect(thrice.distance).toBeGreaterThanOrEqual(once.distance);
  });

  it('L∞ on device steps: the same iterates and result as on the gradient, every iterate disposed', async () => {
    for (const [objective, settings] of [
      ['push-apart', { ...attackSettings('apgd', 'linf', 4 / 255, 100, 3), restarts: 2 }],
      ['pull-together', attackSettings('apgd', 'linf', 8 / 255, 12, 1)],
    ] as const) {
      const device = fakeDevice(target);
      const onDevice = await runAttack(clean, objective, settings, { ...quadratic(target), deviceSteps: device });
      const reference = await runAttack(clean, objective, settings, quadratic(target));
      expect(onDevice.steps.map((s) => s.step)).toEqual(reference.steps.map((s) => s.step));
      for (const [i, s] of onDevice.steps.entries()) {
        expect(s.distance, `step ${i}`).toBeCloseTo(reference.steps[i].distance, 5);
        expect(s.deltaNorm).toBeCloseTo(reference.steps[i].deltaNorm, 6);
      }
      expect(onDevice.distance).toBeCloseTo(reference.distance, 5);
      for (let i = 0; i < n; i++) expect(onDevice.adversarial[i]).toBeCloseTo(reference.adversarial[i], 6);
      // One step per iterate; one move per halving; no iterate outlives the attack, and at most four
      // are held at once (current, previous, best, best of the earlier restarts) besides the proposal.
      expect(device.steps).toBe(onDevice.steps.length);
      expect(device.moves).toBeGreaterThan(0);
      expect(device.live.size).toBe(0);
      expect(device.maxLive).toBeLessThanOrEqual(5);
    }
  });
});

describe('APGD settings', () => {
  const base = attackSettings('apgd', 'linf', 4 / 255);
  it('defaults to 100 iterations, a first step of 2·eps and one run', () => {
    expect(base).toMatchObject({ method: 'apgd', steps: 100, restarts: 1 });
    expect(base.stepSize).toBeCloseTo(8 / 255, 12);
  });
  const cases: Array<[Partial<AttackSettings>, RegExp]> = [
    [{ restarts: 0 }, /restarts must be a whole number from 1 to 20/],
    [{ restarts: 2.5 }, /restarts must be a whole number from 1 to 20/],
    [{ method: 'pgd', restarts: 3 }, /restarts are APGD's/],
    [{ method: 'square' as never }, /method must be one of "fgsm", "pgd", "apgd"/],
  ];
  for (const [patch, message] of cases) {
    it(`refuses ${JSON.stringify(patch)}`, () => expect(() => validateAttackSettings({ ...base, ...patch }, n)).toThrow(message));
  }
  it('runAttack validates before the first gradient', async () => {
    const oracle = quadratic(target);
    await expect(runAttack(clean, 'push-apart', { ...base, norm: 'l1' as AttackNorm }, oracle)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    expect(oracle.calls).toBe(0);
  });
});

/**
 * DeviceSteps in plain JS on the quadratic objective: attack_step.onnx's formulas (in pixel space, as
 * the graph computes them), handles as objects so that use after dispose and leaks show.
 */
function fakeDevice(c: Float32Array) {
  type Handle = { data: Float32Array };
  const make = (data: Float32Array): Handle => {
    const h = { data };
    device.live.add(h);
    device.maxLive = Math.max(device.maxLive, device.live.size);
    return h;
  };
  const read = (h: Handle): Float32Array => {
    if (!device.live.has(h)) throw new Error('a disposed iterate was used');
    return h.data;
  };
  const run = ({ x: xh, previous, eps, alpha, momentum }: DeviceStep<Handle>): Handle => {
    const [x, prev] = [read(xh), read(previous)];
    const p = (y: number, i: number) => Math.min(1, Math.max(0, clean[i] + Math.min(eps, Math.max(-eps, y - clean[i]))));
    return make(Float32Array.from(x, (v, i) => {
      const z = p(v + alpha * Math.sign(-2 * (v - c[i])), i);
      return p(z + (1 - momentum) * (v - z + (v - prev[i])), i);
    }));
  };
  const device: DeviceSteps<Handle> & { live: Set<Handle>; maxLive: number; steps: number; moves: number } = {
    live: new Set<Handle>(),
    maxLive: 0,
    steps: 0,
    moves: 0,
    upload: (pixels: Float32Array) => make(Float32Array.from(pixels)),
    step: async (s: DeviceStep<Handle>) => {
      device.steps++;
      const x = read(s.x);
      return { distance: valueAt(x), deltaNorm: normOf(Float32Array.from(x, (v, i) => v - clean[i]), 'linf'), next: run(s) };
    },
    move: async (s: DeviceStep<Handle>) => {
      device.moves++;
      return run(s);
    },
    download: async (h: Handle) => Float32Array.from(read(h)),
    dispose: (h: Handle) => {
      if (!device.live.delete(h)) throw new Error('an iterate was disposed twice');
    },
  };
  return device;
}
