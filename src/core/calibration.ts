/**
 * A model's calibration: how to read its distances. Every model spreads distances differently, so the
 * verdict bands and the dedupe threshold live in the manifest (`calibration`), measured by the bench
 * (bench/distance-bands.ts) with `calibrationFromBands`, never as constants tuned to one model.
 */
import type { Summary } from './stats';

export interface VerdictBand {
  /** Upper bound (exclusive) of the band; null for the last band, which has none. */
  below: number | null;
  /** "short name: explanation"; the page shows the part before the colon as the verdict. */
  label: string;
}

export interface Calibration {
  /** Ordered by upper bound; the last one's `below` is null. */
  bands: VerdictBand[];
  /** Distance at or below which `rclip dedupe` links two images. */
  dedupeThreshold: number;
  /** How the figures were obtained (command, data). */
  source?: string;
}

/** The wording of the four bands; only their bounds are measured per model. */
export const BAND_LABELS = [
  'near-identical (a re-encode or an imperceptible change)',
  'similar: the same image with visible edits, or a near-duplicate',
  'related: a heavily edited copy, or shared content',
  'different: unrelated images',
] as const;

export function verdict(distance: number, calibration: Calibration): string {
  if (!Number.isFinite(distance) || distance < 0) throw new RangeError(`not a distance: ${distance}`);
  return calibration.bands.find((b) => b.below === null || distance < b.below)!.label;
}

/** One line stating the scale, e.g. "0–0.01: near-identical … · ≥ 0.3: different". */
export function describeBands(calibration: Calibration): string {
  let lower = 0;
  return calibration.bands
    .map((b) => {
      const name = b.label.split(':')[0];
      const text = b.below === null ? `≥ ${lower}: ${name}` : `${lower}–${b.below}: ${name}`;
      lower = b.below ?? lower;
      return text;
    })
    .join(' · ');
}

/** One row of bench/results/distance-bands-<model>.json: a kind of copy and where its distances fall. */
export interface BandRow extends Omit<Summary, 'mean'> {
  copy: string;
}

/** The distance-bands row of every pair of different evaluation photos (bench/distance-bands.ts). */
export const UNRELATED_PAIRS = 'unrelated pairs (all pairs of the evaluation photos)';

/** The smallest of 1, 2, 5 × 10^k at or above x (niceUp), the largest at or below (niceDown). */
const NICE = [1, 2, 5];
function niceUp(x: number): number {
  const k = Math.floor(Math.log10(x));
  for (const e of [k, k + 1]) for (const m of NICE) if (m * 10 ** e >= x * (1 - 1e-12)) return Number((m * 10 ** e).toPrecision(1));
  return x;
}
function niceDown(x: number): number {
  const k = Math.floor(Math.log10(x));
  for (const e of [k, k - 1]) for (const m of [...NICE].reverse()) if (m * 10 ** e <= x * (1 + 1e-12)) return Number((m * 10 ** e).toPrecision(1));
  return x;
}
function floorOneDigit(x: number): number {
  const p = 10 ** Math.floor(Math.log10(x));
  return Number((Math.floor(x / p) * p).toPrecision(1));
}

/**
 * The rule that set the shipped bands, applied to a model's distance bands (bench/distance-bands.ts):
 *  - near-identical below the largest mild blur/JPEG/noise distance, rounded up to 1, 2 or 5 × 10^k,
 *    but at most half the "similar" bound (rounded down): a model whose mild copies already fall as
 *    far as other photos (a non-robust one: re-encodes move it a lot) must not call them identical;
 *  - similar below the larger of the largest strong distortion and the augmented copies' p90, rounded
 *    up the same way, but never above the closest pair of different evaluation photos (all pairs, rounded
 *    down): that bound is also the dedupe threshold, so no unrelated pair of the evaluation photos is
 *    linked (160 "another photo" pairs alone put it at 0.2 for a model that linked 283 of the 800
 *    sample photos at 0.2);
 *  - related below the unrelated photos' p10, rounded down to one digit; different above.
 */
export function calibrationFromBands(rows: readonly BandRow[], source?: string): Calibration {
  const row = (copy: string) => {
    const r = rows.find((x) => x.copy === copy);
    if (!r) throw new Error(`distance bands have no "${copy}" row`);
    return r;
  };
  const mild = Math.max(...['blur, mild', 'jpeg, mild', 'noise, mild'].map((c) => row(c).max));
  const strong = Math.max(...rows.filter((r) => r.copy.endsWith(', strong')).map((r) => r.max), row('augmented copy').p90);
  const other = row('another photo');
  // Older band files have no all-pairs row: their bound is the 160 "another photo" pairs' minimum.
  const closestUnrelated = Math.min(other.min, rows.find((x) => x.copy === UNRELATED_PAIRS)?.min ?? Infinity);
  const similar = Math.min(niceUp(strong), niceDown(closestUnrelated));
  const nearIdentical = Math.min(niceUp(mild), niceDown(similar / 2));
  const related = Math.max(floorOneDigit(other.p10), similar);
  return {
    bands: [
      { below: nearIdentical, label: BAND_LABELS[0] },
      { below: similar, label: BAND_LABELS[1] },
      { below: related, label: BAND_LABELS[2] },
      { below: null, label: BAND_LABELS[3] },
    ],
    dedupeThreshold: similar,
    ...(source ? { source } : {}),
  };
}
