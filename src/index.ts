// The programmatic API: import { createMetric } from 'rclip-web'.
export { createMetric, Metric } from './client/metric';
export type {
  AttackOptions,
  AttackOutcome,
  AttackSize,
  AttackSettings,
  AttackStep,
  BackendChoice,
  CallOptions,
  DistanceResult,
  EmbedResult,
  FullSizeCopy,
  ImageInput,
  LoadProgress,
  MetricOptions,
  ModelIndex,
  ModelInfo,
} from './client/metric';
export { cosineDistance, cosineSimilarity } from './core/distance';
export { RclipError, type ErrorCode } from './core/errors';
export type { ModelManifest } from './core/manifest';
export { verdict, describeBands, type Calibration, type VerdictBand } from './core/calibration';
export { PAPER_DEFAULTS, PAPER_EVALUATION } from './core/attack';
