/**
 * Errors with stable codes: the UI, the web component and the CLI branch on `code`,
 * never on message text, so messages can improve without breaking callers.
 */
export const ERROR_CODES = [
  'INVALID_ARGUMENT',
  'IMAGE_EMPTY',
  'IMAGE_UNSUPPORTED_FORMAT',
  'IMAGE_DECODE_FAILED',
  'IMAGE_TOO_LARGE',
  'IMAGE_FETCH_FAILED',
  'IMAGE_CROSS_ORIGIN',
  'MODEL_NOT_FOUND',
  'MANIFEST_INVALID',
  'MODEL_INTEGRITY',
  'MODEL_LOAD_FAILED',
  'MODEL_NOT_LOADED',
  'ATTACK_UNAVAILABLE',
  'INFERENCE_FAILED',
  'CANCELLED',
  'WORKER_CRASHED',
  'DEPENDENCY_MISSING',
  'STORE_CORRUPT',
  'STORE_FOREIGN',
  /** A human-judged data set's folder (NIGHTS, BAPPS, TID2013, KADID-10k) is not laid out as its publisher ships it. */
  'DATASET_INVALID',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

export class RclipError extends Error {
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'RclipError';
    this.code = code;
  }
}

/** What crosses a worker boundary: plain data, because Error subclasses lose their fields there. */
export interface SerializedError {
  code: ErrorCode;
  message: string;
}

export function serializeError(err: unknown): SerializedError {
  if (err instanceof RclipError) return { code: err.code, message: err.message };
  const message = err instanceof Error ? err.message : String(err);
  return { code: 'INFERENCE_FAILED', message };
}

export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && (ERROR_CODES as readonly string[]).includes(value);
}

/** Rebuilds an RclipError from anything a worker or an event carried. */
export function toRclipError(err: unknown): RclipError {
  if (err instanceof RclipError) return err;
  if (typeof err === 'object' && err !== null) {
    const { code, message } = err as { code?: unknown; message?: unknown };
    if (isErrorCode(code)) return new RclipError(code, String(message ?? code));
    if (typeof message === 'string') return new RclipError('INFERENCE_FAILED', message);
  }
  return new RclipError('INFERENCE_FAILED', String(err));
}

/** The Node runtime's optional packages (package.json optionalDependencies; the last three back the embedding store), with how to install each. */
const NODE_RUNTIME_PACKAGES: Record<string, string> = {
  'onnxruntime-node': 'ONNXRUNTIME_NODE_INSTALL=skip npm install onnxruntime-node',
  sharp: 'npm install sharp',
  'bmp-ts': 'npm install bmp-ts',
  usearch: 'npm install usearch',
  'parquet-wasm': 'npm install parquet-wasm',
  'apache-arrow': 'npm install apache-arrow',
};

/** An import that failed because one of those packages is not installed, as DEPENDENCY_MISSING; otherwise null. */
export function missingDependency(err: unknown): RclipError | null {
  const { code, message } = (err ?? {}) as { code?: unknown; message?: unknown };
  if (code !== 'ERR_MODULE_NOT_FOUND' && code !== 'MODULE_NOT_FOUND') return null;
  const name = Object.keys(NODE_RUNTIME_PACKAGES).find((p) => String(message).includes(`'${p}'`));
  if (!name) return null;
  return new RclipError(
    'DEPENDENCY_MISSING',
    `rclip needs the npm package "${name}", an optional dependency of rclip-web that is not installed here. Install it: ${NODE_RUNTIME_PACKAGES[name]}`,
    { cause: err },
  );
}
