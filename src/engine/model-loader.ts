import { RclipError } from '../core/errors';
import { validateManifest, validateModelIndex, type ModelFile, type ModelIndex, type ModelManifest } from '../core/manifest';

/**
 * Model loading progress, in the manner of transformers.js's ProgressInfo: `status` says what happened,
 * `loaded`/`total` count the current file's bytes, `overall` every file this load reads.
 */
export interface LoadProgress {
  /** 'progress': bytes of `file` arrived; 'done': `file` is in and verified; 'ready': all of the model's files are. */
  status: 'progress' | 'done' | 'ready';
  model: string;
  /** The file ('encoder.onnx', …); for 'ready', the last one read. */
  file: string;
  loaded: number;
  total: number;
  /** Bytes of all the files this load reads (sizes from the manifest) and how many of them are in. */
  overall: { loaded: number; total: number };
  /** Where the bytes came from: the network or the verified local cache. */
  from: 'network' | 'cache' | 'disk';
}

/**
 * Where model files live. Paths are relative to the models base (the folder holding index.json).
 * The browser reads over fetch with Cache Storage, the CLI from disk; the checks are the same.
 */
export interface ModelSource {
  readonly description: string;
  readJson(path: string): Promise<unknown>;
  /**
   * Returns bytes that passed `verify`. A source with a cache verifies cached bytes too and falls back
   * to the origin when they fail, so a corrupt cache entry heals instead of locking a model out.
   */
  readBytes(path: string, file: ModelFile, options: ReadBytesOptions): Promise<Uint8Array>;
}

export interface ReadBytesOptions {
  verify: (bytes: Uint8Array) => Promise<void>;
  onProgress?: (p: Pick<LoadProgress, 'loaded' | 'total' | 'from'>) => void;
}

export interface VerifiedModel {
  manifest: ModelManifest;
  /** Folder of the model relative to the source's base, ending with "/" (or "" for the base itself). */
  folder: string;
  encoder: Uint8Array;
  attack: Uint8Array | null;
  /** attack_step.onnx, when asked for (withAttackStep) and the manifest lists it. */
  attackStep?: Uint8Array | null;
}

export async function sha256Hex(bytes: Uint8Array): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', bytes as Uint8Array<ArrayBuffer>);
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, '0')).join('');
}

/** Throws MODEL_INTEGRITY unless the bytes are exactly the ones the manifest names. */
export async function verifyFile(bytes: Uint8Array, file: ModelFile, modelId: string): Promise<void> {
  if (bytes.byteLength !== file.bytes) {
    throw new RclipError('MODEL_INTEGRITY', `Model "${modelId}": ${file.path} is ${bytes.byteLength} bytes, the manifest says ${file.bytes}. The file is truncated or was replaced; it was not loaded.`);
  }
  const actual = await sha256Hex(bytes);
  if (actual !== file.sha256) {
    throw new RclipError('MODEL_INTEGRITY', `Model "${modelId}": ${file.path} does not match its sha256 in the manifest (expected ${file.sha256.slice(0, 12)}…, got ${actual.slice(0, 12)}…). The file was modified or corrupted; it was not loaded.`);
  }
}

export async function loadModelIndex(source: ModelSource): Promise<ModelIndex> {
  const raw = await source.readJson('index.json');
  return validateModelIndex(raw, `${source.description}index.json`);
}

/** The folder of a model id, as index.json lists it. */
export function modelFolder(index: ModelIndex, id: string): string {
  const entry = index.models.find((m) => m.id === id);
  if (!entry) {
    throw new RclipError('MODEL_NOT_FOUND', `Unknown model "${id}". Known models: ${index.models.map((m) => m.id).join(', ')}.`);
  }
  return entry.path;
}

export async function readManifest(source: ModelSource, folder: string): Promise<ModelManifest> {
  const raw = await source.readJson(`${folder}manifest.json`);
  return validateManifest(raw, `${source.description}${folder}manifest.json`);
}

/**
 * Reads a model folder: manifest validated, every file checked against its size and sha256 before
 * any session sees it, because an ONNX file is code the runtime will execute.
 */
export async function loadVerifiedModel(
  source: ModelSource,
  folder: string,
  options: { withAttack?: boolean; withAttackStep?: boolean; onProgress?: (p: LoadProgress) => void } = {},
): Promise<VerifiedModel> {
  const manifest = await readManifest(source, folder);
  const attackFile = options.withAttack ? manifest.files.attack : undefined;
  const stepFile = options.withAttackStep ? manifest.files.attackStep : undefined;
  const overall = { loaded: 0, total: manifest.files.encoder.bytes + (attackFile?.bytes ?? 0) + (stepFile?.bytes ?? 0) };
  let last: Pick<LoadProgress, 'file' | 'from'> = { file: manifest.files.encoder.path, from: 'disk' };
  const emit = (status: LoadProgress['status'], file: string, p: Pick<LoadProgress, 'loaded' | 'total' | 'from'>, before: number) => {
    last = { file, from: p.from };
    options.onProgress?.({ status, model: manifest.id, file, ...p, overall: { loaded: before + p.loaded, total: overall.total } });
  };
  const read = async (file: ModelFile) => {
    const before = overall.loaded;
    let from: LoadProgress['from'] = 'disk';
    const bytes = await source.readBytes(`${folder}${file.path}`, file, {
      verify: (b) => verifyFile(b, file, manifest.id),
      onProgress: (p) => {
        from = p.from;
        emit('progress', file.path, p, before);
      },
    });
    overall.loaded = before + file.bytes;
    emit('done', file.path, { loaded: file.bytes, total: file.bytes, from }, before);
    return bytes;
  };
  const encoder = await read(manifest.files.encoder);
  const attack = attackFile ? await read(attackFile) : null;
  const attackStep = stepFile ? await read(stepFile) : null;
  options.onProgress?.({ status: 'ready', model: manifest.id, ...last, loaded: overall.total, total: overall.total, overall: { ...overall } });
  return { manifest, folder, encoder, attack, ...(options.withAttackStep ? { attackStep } : {}) };
}
