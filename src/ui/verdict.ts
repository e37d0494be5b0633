/**
 * Plain-language reading of a distance. The bands are for the shipped models (calibrated on their
 * evaluation photos: augmented copies vs other photos, see public/models/README.md); they are stated
 * on the page, because a number without its scale means little.
 */
export interface VerdictBand {
  /** Upper bound (exclusive) of the band. */
  below: number;
  label: string;
}

export const VERDICT_BANDS: readonly VerdictBand[] = [
  { below: 0.02, label: 'near-identical (a re-encode or an imperceptible change)' },
  { below: 0.15, label: 'similar: the same image with visible edits, or a near-duplicate' },
  { below: 0.4, label: 'related: some shared content or style' },
  { below: Infinity, label: 'different images' },
];

export function verdict(distance: number): string {
  if (!Number.isFinite(distance) || distance < 0) throw new RangeError(`not a distance: ${distance}`);
  return VERDICT_BANDS.find((b) => distance < b.below)!.label;
}

export function describeBands(): string {
  let lower = 0;
  return VERDICT_BANDS.map((b) => {
    const text = b.below === Infinity ? `≥ ${lower}: ${b.label.split(':')[0]}` : `${lower}–${b.below}: ${b.label.split(':')[0]}`;
    lower = b.below;
    return text;
  }).join(' · ');
}
