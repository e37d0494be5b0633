import { describe, expect, it } from 'vitest';
import { numberOption, per255 } from '../src/core/options';

describe('per255', () => {
  it('writes a radius as numberOption reads it back', () => {
    expect(per255(4 / 255)).toBe('4/255');
    expect(per255(0.5 / 255)).toBe('0.5/255');
    for (const eps of [1 / 255, 2 / 255, 4 / 255, 8 / 255, 2.5 / 255]) expect(numberOption('eps', per255(eps), 0)).toBeCloseTo(eps, 12);
  });
});
