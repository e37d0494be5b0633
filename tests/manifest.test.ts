import { describe, expect, it } from 'vitest';
import { RclipError } from '../src/core/errors';
import { describeRobustness, validateManifest, validateModelIndex } from '../src/core/manifest';

const good = () => ({
  formatVersion: 1,
  id: 'm',
  name: 'M',
  description: 'a model',
  architecture: 'conv',
  input: { size: 64, mean: [0.48, 0.46, 0.41], std: [0.27, 0.26, 0.28], resize: 'bicubic', crop: 'center', background: [1, 1, 1] },
  embeddingSize: 256,
  files: {
    encoder: { path: 'encoder.onnx', sha256: 'a'.repeat(64), bytes: 10 },
    attack: { path: 'attack.onnx', sha256: 'b'.repeat(64), bytes: 20 },
  },
  robustness: { method: 'FARE', norm: 'linf', eps: 4 / 255, measured: null },
  provenance: { source: 'test' },
  licence: 'MIT',
});

function errorOf(fn: () => unknown): RclipError {
  try {
    fn();
  } catch (err) {
    return err as RclipError;
  }
  throw new Error('expected an error');
}

describe('validateManifest', () => {
  it('accepts a complete manifest and keeps the optional attack file', () => {
    const m = validateManifest(good());
    expect(m.files.attack?.path).toBe('attack.onnx');
    expect(m.input.size).toBe(64);
  });

  it('accepts a manifest without an attack graph', () => {
    const raw = good() as Record<string, any>;
    delete raw.files.attack;
    expect(validateManifest(raw).files.attack).toBeUndefined();
  });

  const broken: Array<[string, (m: Record<string, any>) => void, RegExp]> = [
    ['formatVersion', (m) => (m.formatVersion = 2), /"formatVersion" must be 1/],
    ['id', (m) => delete m.id, /"id" must be a non-empty string/],
    ['input', (m) => delete m.input, /"input" must be an object/],
    ['input.size', (m) => (m.input.size = 0), /"input.size" must be a positive integer/],
    ['input.mean', (m) => (m.input.mean = [0.5, 0.5]), /"input.mean" must be an array of 3/],
    ['input.std', (m) => (m.input.std = [0.2, 0, 0.2]), /"input.std" must be an array of 3 positive/],
    ['input.resize', (m) => (m.input.resize = 'nearest'), /"input.resize" must be one of "bicubic"/],
    ['embeddingSize', (m) => (m.embeddingSize = 1.5), /"embeddingSize" must be a positive integer/],
    ['files.encoder', (m) => delete m.files.encoder, /"files.encoder" must be an object/],
    ['files.encoder.sha256', (m) => (m.files.encoder.sha256 = 'XYZ'), /"files.encoder.sha256" must be 64 lower-case hex/],
    ['files.attack.bytes', (m) => (m.files.attack.bytes = -1), /"files.attack.bytes" must be a positive integer/],
    ['files.encoder.path escaping', (m) => (m.files.encoder.path = '../x.onnx'), /"files.encoder.path" must be a path inside/],
    ['files.encoder.path url', (m) => (m.files.encoder.path = 'https://cdn.example/x.onnx'), /"files.encoder.path" must be a path inside/],
    ['robustness.method', (m) => (m.robustness.method = 'magic'), /"robustness.method" must be one of/],
    ['robustness eps for FARE', (m) => (m.robustness.eps = null), /"robustness" of a FARE model must give its norm and eps/],
    ['licence', (m) => (m.licence = ''), /"licence" must be a non-empty string/],
  ];
  for (const [field, breakIt, message] of broken) {
    it(`names the bad field: ${field}`, () => {
      const raw = good() as Record<string, any>;
      breakIt(raw);
      const err = errorOf(() => validateManifest(raw, 'models/m/manifest.json'));
      expect(err).toBeInstanceOf(RclipError);
      expect(err.code).toBe('MANIFEST_INVALID');
      expect(err.message).toMatch(message);
      expect(err.message).toMatch(/^models\/m\/manifest.json: /);
    });
  }

  it('keeps the measured radius the model holds at, and says it in one line', () => {
    const raw = good() as Record<string, any>;
    raw.robustness.holds = { eps: 2 / 255, attack: 'APGD-100 L-inf', minimum: 0.9, criterion: 'copy R@1' };
    const m = validateManifest(raw);
    expect(m.robustness.holds?.eps).toBe(2 / 255);
    expect(describeRobustness(m.robustness)).toBe('FARE, trained at L∞ 4/255; holds copy retrieval (R@1 ≥ 0.9) under APGD-100 L-inf to 2/255');
    raw.robustness.holds.eps = null;
    expect(describeRobustness(validateManifest(raw).robustness)).toMatch(/at none of the measured radii$/);
    expect(describeRobustness(validateManifest(good()).robustness)).toBe('FARE, trained at L∞ 4/255');
  });

  it('rejects a held radius that is not a radius', () => {
    const raw = good() as Record<string, any>;
    raw.robustness.holds = { eps: -1, attack: 'APGD-100 L-inf', minimum: 0.9, criterion: 'copy R@1' };
    expect(errorOf(() => validateManifest(raw)).message).toMatch(/robustness\.holds\.eps/);
    raw.robustness.holds = { eps: 1 / 255, attack: 'APGD-100 L-inf', minimum: 2, criterion: 'copy R@1' };
    expect(errorOf(() => validateManifest(raw)).message).toMatch(/robustness\.holds\.minimum/);
  });

  it('rejects a non-object', () => {
    expect(errorOf(() => validateManifest([])).message).toMatch(/"\(root\)" must be an object/);
  });
});

describe('validateModelIndex', () => {
  const index = () => ({ default: 'r', baseline: 'b', models: [ { id: 'r', path: 'r/', name: 'R' }, { id: 'b', path: 'b/', name: 'B' } ] });

  it('accepts a good index', () => {
    expect(validateModelIndex(index()).models).toHaveLength(2);
  });

  it('rejects a default that is not listed', () => {
    const raw = { ...index(), default: 'zzz' };
    expect(errorOf(() => validateModelIndex(raw)).message).toMatch(/"default" names "zzz", which is not in models/);
  });

  it('rejects a path without a trailing slash', () => {
    const raw = index();
    raw.models[0].path = 'r';
    expect(errorOf(() => validateModelIndex(raw)).message).toMatch(/"models\[0\].path" must end with "\/"/);
  });
});
