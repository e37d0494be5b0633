/** The manifest's calibration: validated like every field, produced from the bench's bands, read by the verdict and dedupe. */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { calibrationFromBands, describeBands, verdict, type Calibration } from '../src/core/calibration';
import { RclipError } from '../src/core/errors';
import { validateManifest } from '../src/core/manifest';

const root = path.resolve(import.meta.dirname, '..');
const models = path.join(root, 'public/models');
const index = JSON.parse(readFileSync(path.join(models, 'index.json'), 'utf8'));
const manifestOf = (id: string) => validateManifest(JSON.parse(readFileSync(path.join(models, id, 'manifest.json'), 'utf8')));
const base = JSON.parse(readFileSync(path.join(models, index.default, 'manifest.json'), 'utf8'));

const calibration: Calibration = {
  bands: [
    { below: 0.01, label: 'near-identical' },
    { below: 0.1, label: 'similar: edited' },
    { below: null, label: 'different: unrelated' },
  ],
  dedupeThreshold: 0.1,
};

function messageOf(raw: unknown): string {
  try {
    validateManifest(raw, 'm/manifest.json');
  } catch (err) {
    expect(err).toBeInstanceOf(RclipError);
    expect((err as RclipError).code).toBe('MANIFEST_INVALID');
    return (err as RclipError).message;
  }
  throw new Error('expected MANIFEST_INVALID');
}

describe('manifest calibration', () => {
  it('is optional, and kept when valid', () => {
    const { calibration: _, ...without } = base;
    expect(validateManifest(without).calibration).toBeUndefined();
    expect(validateManifest({ ...base, calibration }).calibration).toEqual(calibration);
  });

  const broken: Array<[string, unknown, RegExp]> = [
    ['not an object', 'tight', /"calibration" must be an object/],
    ['no bands', { ...calibration, bands: [] }, /"calibration.bands" must be a non-empty array/],
    ['bounds out of order', { ...calibration, bands: [{ below: 0.1, label: 'a' }, { below: 0.05, label: 'b' }, { below: null, label: 'c' }] }, /"calibration.bands\[1\].below" must be a distance/],
    ['a bound above 2', { ...calibration, bands: [{ below: 3, label: 'a' }, { below: null, label: 'c' }] }, /"calibration.bands\[0\].below" must be a distance in \(0, 2\]/],
    ['a bounded last band', { ...calibration, bands: [{ below: 0.1, label: 'a' }, { below: 2, label: 'c' }] }, /"calibration.bands\[1\].below" must be null/],
    ['an empty label', { ...calibration, bands: [{ below: 0.1, label: '' }, { below: null, label: 'c' }] }, /"calibration.bands\[0\].label" must be a non-empty string/],
    ['no dedupe threshold', { bands: calibration.bands }, /"calibration.dedupeThreshold" must be a distance/],
  ];
  for (const [what, value, message] of broken) {
    it(`names the bad field: ${what}`, () => expect(messageOf({ ...base, calibration: value })).toMatch(message));
  }

  it('every shipped model has one, and it is what bench/calibrate.ts derives from its measured bands', () => {
    for (const { id } of index.models) {
      const bands = JSON.parse(readFileSync(path.join(root, `bench/results/distance-bands-${id}.json`), 'utf8'));
      const { source: _, ...measured } = manifestOf(id).calibration!;
      expect(measured).toEqual(calibrationFromBands(bands.rows));
    }
  });

  it('the rule reproduces the bands the page used before they moved into the manifest (on the measured bands of the earlier 64 px robust model: 0.01, 0.1, 0.3; dedupe 0.1)', () => {
    const bands = JSON.parse(readFileSync(path.join(root, 'bench/results/distance-bands-rclip-tiny-fare.json'), 'utf8'));
    const c = calibrationFromBands(bands.rows);
    expect(c.bands.map((b) => b.below)).toEqual([0.01, 0.1, 0.3, null]);
    expect(c.dedupeThreshold).toBe(0.1);
  });
});

describe('verdict', () => {
  it('reads a distance with the given bands', () => {
    expect(verdict(0, calibration)).toBe('near-identical');
    expect(verdict(0.01, calibration)).toBe('similar: edited');
    expect(verdict(1.9, calibration)).toBe('different: unrelated');
    expect(() => verdict(-1, calibration)).toThrow(RangeError);
    expect(describeBands(calibration)).toBe('0–0.01: near-identical · 0.01–0.1: similar · ≥ 0.1: different');
  });
});
