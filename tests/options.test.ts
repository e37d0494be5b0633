import { describe, expect, it } from 'vitest';
import { attackFromOptions, attackListOption, evaluationEps, methodSettings, numberOption, per255 } from '../src/core/options';

describe('per255', () => {
  it('writes a radius as numberOption reads it back', () => {
    expect(per255(4 / 255)).toBe('4/255');
    expect(per255(0.5 / 255)).toBe('0.5/255');
    for (const eps of [1 / 255, 2 / 255, 4 / 255, 8 / 255, 2.5 / 255]) expect(numberOption('eps', per255(eps), 0)).toBeCloseTo(eps, 12);
  });
});

describe('attack options', () => {
  it('--attack lists: METHOD or METHOD-STEPS, each with its step rule', () => {
    const [apgd, pgd, fgsm] = attackListOption('attack', 'apgd, pgd-20,fgsm', 'apgd', 4 / 255, 3);
    expect(apgd).toMatchObject({ method: 'apgd', steps: 100, seed: 3, restarts: 1 });
    expect(apgd.stepSize).toBeCloseTo(8 / 255, 12);
    expect(pgd).toMatchObject({ method: 'pgd', steps: 20 });
    expect(pgd.stepSize).toBeCloseTo((2.5 * 4) / 255 / 20, 12);
    expect(fgsm).toMatchObject({ method: 'fgsm', steps: 1 });
    expect(attackListOption('attack', undefined, 'apgd,pgd', 2 / 255, 0).map((a) => `${a.method}-${a.steps}`)).toEqual(['apgd-100', 'pgd-10']);
  });
  it('--attack lists in L2 (the bench\'s --norm): each entry in that norm, with its step rule at the radius given', () => {
    const [apgd, pgd] = attackListOption('attack', 'apgd,pgd', 'apgd', 1.5, 0, 'l2');
    expect(apgd).toMatchObject({ method: 'apgd', norm: 'l2', eps: 1.5, stepSize: 3, steps: 100 });
    expect(pgd).toMatchObject({ method: 'pgd', norm: 'l2', eps: 1.5, steps: 10 });
    expect(pgd.stepSize).toBeCloseTo(0.375, 12);
    expect(() => attackListOption('attack', 'apgd-l2', 'apgd', 1.5, 0, 'l2')).toThrow(/the norm is --norm/);
  });
  it("evaluationEps: --eps as given; else L∞ 4/255, or L2 the paper's 3.0 at 224 px scaled by the input size / 224", () => {
    expect(evaluationEps('linf', undefined, 96)).toBeCloseTo(4 / 255, 12);
    expect(evaluationEps('linf', undefined, 160)).toBeCloseTo(4 / 255, 12);
    expect(evaluationEps('l2', undefined, 224)).toBe(3);
    expect(evaluationEps('l2', undefined, 96)).toBeCloseTo(1.2857, 4);
    expect(evaluationEps('l2', undefined, 160)).toBeCloseTo(2.1429, 4);
    expect(evaluationEps('l2', 0.75, 160)).toBe(0.75);
    expect(evaluationEps('linf', 2 / 255, 96)).toBe(2 / 255);
  });
  it('refuses unknown methods, zero iterations and repeats', () => {
    expect(() => attackListOption('attack', 'square', 'apgd', 4 / 255, 0)).toThrow(/--attack takes a comma-separated list of fgsm, pgd, apgd/);
    expect(() => attackListOption('attack', 'apgd-0', 'apgd', 4 / 255, 0)).toThrow(/apgd-0/);
    expect(() => attackListOption('attack', 'pgd,pgd-10', 'apgd', 4 / 255, 0)).toThrow(/lists an attack twice/);
  });
  it('methodSettings: APGD-100 by default, --restarts for apgd only', () => {
    expect(methodSettings('apgd', {})).toMatchObject({ method: 'apgd', norm: 'linf', steps: 100, restarts: 1 });
    expect(methodSettings('apgd', { restarts: '4', norm: 'l2' })).toMatchObject({ restarts: 4, eps: 0.5, norm: 'l2' });
    expect(() => methodSettings('pgd', { restarts: '2' })).toThrow(/--restarts only means something with apgd/);
    expect(attackFromOptions({ attack: 'apgd' })).toMatchObject({ method: 'apgd', steps: 100 });
    expect(() => attackFromOptions({ restarts: '2' })).toThrow(/only mean/);
  });
});
