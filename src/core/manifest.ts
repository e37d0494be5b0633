import { per255 } from './options';
import type { Calibration, VerdictBand } from './calibration';
import { RclipError } from './errors';

export type { Calibration, VerdictBand };

/** The model contract; docs/model-format.md is its prose twin. */
export interface ModelFile {
  path: string;
  sha256: string;
  bytes: number;
}

export interface InputSpec {
  size: number;
  mean: [number, number, number];
  std: [number, number, number];
  resize: 'bicubic';
  crop: 'center';
  background: [number, number, number];
}

export type RobustnessMethod = 'none' | 'FARE' | 'TeCoA';
export type Norm = 'linf' | 'l2';

/**
 * The largest L∞ radius the model holds at: copy retrieval R@1 under the attack stays ≥ `minimum`
 * there and at every smaller measured radius (null: at none of them).
 */
export interface HeldRadius {
  eps: number | null;
  attack: string;
  minimum: number;
  criterion: string;
}

export interface ModelManifest {
  formatVersion: 1;
  id: string;
  name: string;
  description: string;
  architecture: string;
  input: InputSpec;
  embeddingSize: number;
  /** attackStep (optional): attack_step.onnx, one L∞ PGD step with its projection (tools/rclip_tools/stepgraph.py), used on WebGPU. */
  files: { encoder: ModelFile; attack?: ModelFile; attackStep?: ModelFile };
  robustness: {
    method: RobustnessMethod;
    norm: Norm | null;
    eps: number | null;
    measured: Record<string, unknown> | null;
    /** The threat model as measured, not as trained: written by bench/record-measured.ts from the suite. */
    holds?: HeldRadius;
  };
  provenance: Record<string, unknown>;
  licence: string;
  /** How to read this model's distances (verdict bands, dedupe threshold); absent until measured. */
  calibration?: Calibration;
}

export interface ModelIndexEntry {
  id: string;
  path: string;
  name: string;
}

export interface ModelIndex {
  default: string;
  baseline: string;
  models: ModelIndexEntry[];
}

type Json = Record<string, unknown>;

function fail(where: string, field: string, problem: string): never {
  throw new RclipError('MANIFEST_INVALID', `${where}: field "${field}" ${problem}`);
}

function obj(v: unknown, where: string, field: string): Json {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) fail(where, field, 'must be an object');
  return v as Json;
}

function str(o: Json, key: string, where: string, prefix = ''): string {
  const v = o[key];
  if (typeof v !== 'string' || v.length === 0) fail(where, prefix + key, 'must be a non-empty string');
  return v;
}

function positiveInt(o: Json, key: string, where: string, prefix = ''): number {
  const v = o[key];
  if (typeof v !== 'number' || !Number.isInteger(v) || v <= 0) fail(where, prefix + key, 'must be a positive integer');
  return v;
}

function triple(o: Json, key: string, where: string, prefix: string, check: (x: number) => boolean, what: string) {
  const v = o[key];
  if (!Array.isArray(v) || v.length !== 3 || !v.every((x) => typeof x === 'number' && check(x))) {
    fail(where, prefix + key, `must be an array of 3 ${what}`);
  }
  return v as [number, number, number];
}

function oneOf<T extends string>(o: Json, key: string, allowed: readonly T[], where: string, prefix = ''): T {
  const v = o[key];
  if (!allowed.includes(v as T)) fail(where, prefix + key, `must be one of ${allowed.map((a) => JSON.stringify(a)).join(', ')}`);
  return v as T;
}

/** A model-relative file path: no scheme, no absolute path, no "..", so a manifest cannot point elsewhere. */
function relativePath(o: Json, key: string, where: string, prefix: string): string {
  const p = str(o, key, where, prefix);
  if (/^[a-z][a-z0-9+.-]*:/i.test(p) || p.startsWith('/') || p.split('/').includes('..')) {
    fail(where, prefix + key, 'must be a path inside the model folder');
  }
  return p;
}

function modelFile(v: unknown, where: string, field: string): ModelFile {
  const o = obj(v, where, field);
  const prefix = `${field}.`;
  const sha256 = str(o, 'sha256', where, prefix);
  if (!/^[0-9a-f]{64}$/.test(sha256)) fail(where, `${prefix}sha256`, 'must be 64 lower-case hex digits');
  return { path: relativePath(o, 'path', where, prefix), sha256, bytes: positiveInt(o, 'bytes', where, prefix) };
}

const isDistance = (x: unknown): x is number => typeof x === 'number' && x > 0 && x <= 2;

function heldRadius(v: unknown, where: string): HeldRadius {
  const h = obj(v, where, 'robustness.holds');
  if (h.eps !== null && (typeof h.eps !== 'number' || !(h.eps > 0))) fail(where, 'robustness.holds.eps', 'must be a positive number or null');
  if (typeof h.minimum !== 'number' || !(h.minimum > 0 && h.minimum <= 1)) fail(where, 'robustness.holds.minimum', 'must be a number in (0, 1]');
  return { eps: h.eps as number | null, attack: str(h, 'attack', where, 'robustness.holds.'), minimum: h.minimum, criterion: str(h, 'criterion', where, 'robustness.holds.') };
}

/** Bands ordered by strictly increasing upper bounds in (0, 2], the last unbounded (null); a threshold in (0, 2]. */
function calibration(v: unknown, where: string): Calibration {
  const c = obj(v, where, 'calibration');
  const raws = c.bands;
  if (!Array.isArray(raws) || raws.length === 0) fail(where, 'calibration.bands', 'must be a non-empty array');
  let previous = 0;
  const bands: VerdictBand[] = raws.map((raw, i) => {
    const b = obj(raw, where, `calibration.bands[${i}]`);
    const label = str(b, 'label', where, `calibration.bands[${i}].`);
    const last = i === raws.length - 1;
    if (last) {
      if (b.below !== null) fail(where, `calibration.bands[${i}].below`, 'must be null (the last band has no upper bound)');
      return { below: null, label };
    }
    if (!isDistance(b.below) || b.below <= previous) fail(where, `calibration.bands[${i}].below`, `must be a distance in (0, 2] above the previous bound (${previous})`);
    previous = b.below;
    return { below: b.below, label };
  });
  if (!isDistance(c.dedupeThreshold)) fail(where, 'calibration.dedupeThreshold', 'must be a distance in (0, 2]');
  if (c.source !== undefined && typeof c.source !== 'string') fail(where, 'calibration.source', 'must be a string');
  return { bands, dedupeThreshold: c.dedupeThreshold, ...(c.source === undefined ? {} : { source: c.source as string }) };
}

/** Checks every field the runtime relies on; the error names the first bad field. */
export function validateManifest(raw: unknown, where = 'manifest.json'): ModelManifest {
  const m = obj(raw, where, '(root)');
  if (m.formatVersion !== 1) fail(where, 'formatVersion', 'must be 1');
  const input = obj(m.input, where, 'input');
  const size = positiveInt(input, 'size', where, 'input.');
  if (size > 1024) fail(where, 'input.size', 'must be at most 1024');
  const spec: InputSpec = {
    size,
    mean: triple(input, 'mean', where, 'input.', (x) => x >= 0 && x <= 1, 'numbers in [0,1]'),
    std: triple(input, 'std', where, 'input.', (x) => x > 0, 'positive numbers'),
    resize: oneOf(input, 'resize', ['bicubic'] as const, where, 'input.'),
    crop: oneOf(input, 'crop', ['center'] as const, where, 'input.'),
    background: triple(input, 'background', where, 'input.', (x) => x >= 0 && x <= 1, 'numbers in [0,1]'),
  };
  const files = obj(m.files, where, 'files');
  const rob = obj(m.robustness, where, 'robustness');
  const method = oneOf(rob, 'method', ['none', 'FARE', 'TeCoA'] as const, where, 'robustness.');
  const norm = rob.norm === null ? null : oneOf(rob, 'norm', ['linf', 'l2'] as const, where, 'robustness.');
  const eps = rob.eps;
  if (eps !== null && (typeof eps !== 'number' || !(eps > 0))) fail(where, 'robustness.eps', 'must be a positive number or null');
  if (method !== 'none' && (norm === null || eps === null)) {
    fail(where, 'robustness', `of a ${method} model must give its norm and eps`);
  }
  const measured = rob.measured === null || rob.measured === undefined ? null : obj(rob.measured, where, 'robustness.measured');
  const holds = rob.holds === undefined ? undefined : heldRadius(rob.holds, where);
  return {
    formatVersion: 1,
    id: str(m, 'id', where),
    name: str(m, 'name', where),
    description: str(m, 'description', where),
    architecture: str(m, 'architecture', where),
    input: spec,
    embeddingSize: positiveInt(m, 'embeddingSize', where),
    files: {
      encoder: modelFile(files.encoder, where, 'files.encoder'),
      ...(files.attack === undefined ? {} : { attack: modelFile(files.attack, where, 'files.attack') }),
      ...(files.attackStep === undefined ? {} : { attackStep: modelFile(files.attackStep, where, 'files.attackStep') }),
    },
    robustness: { method, norm, eps: eps as number | null, measured, ...(holds ? { holds } : {}) },
    provenance: obj(m.provenance, where, 'provenance'),
    licence: str(m, 'licence', where),
    ...(m.calibration === undefined ? {} : { calibration: calibration(m.calibration, where) }),
  };
}

export function validateModelIndex(raw: unknown, where = 'index.json'): ModelIndex {
  const o = obj(raw, where, '(root)');
  if (!Array.isArray(o.models) || o.models.length === 0) fail(where, 'models', 'must be a non-empty array');
  const models = o.models.map((entry, i) => {
    const e = obj(entry, where, `models[${i}]`);
    const path = relativePath(e, 'path', where, `models[${i}].`);
    if (!path.endsWith('/')) fail(where, `models[${i}].path`, 'must end with "/"');
    return { id: str(e, 'id', where, `models[${i}].`), path, name: str(e, 'name', where, `models[${i}].`) };
  });
  const ids = new Set(models.map((m) => m.id));
  const def = str(o, 'default', where);
  const baseline = str(o, 'baseline', where);
  if (!ids.has(def)) fail(where, 'default', `names "${def}", which is not in models`);
  if (!ids.has(baseline)) fail(where, 'baseline', `names "${baseline}", which is not in models`);
  return { default: def, baseline, models };
}

/**
 * The threat model in one line for people: how the model was trained, and (when measured) the radius
 * it actually holds at, e.g. "FARE, trained at L∞ 4/255; holds copy retrieval under APGD-100 L-inf to 2/255".
 */
export function describeRobustness(r: ModelManifest['robustness']): string {
  if (r.method === 'none') return 'none (not adversarially trained)';
  const norm = r.norm === 'linf' ? 'L∞' : 'L2';
  const trained = `${r.method}, trained at ${norm} ${r.norm === 'linf' ? per255(r.eps!) : r.eps}`;
  if (!r.holds) return trained;
  const held = r.holds.eps === null ? 'at none of the measured radii' : `to ${per255(r.holds.eps)}`;
  return `${trained}; holds copy retrieval (R@1 ≥ ${r.holds.minimum}) under ${r.holds.attack} ${held}`;
}
