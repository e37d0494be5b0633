/**
 * Plain-language reading of a distance. The bands are for the shipped robust model, set from where
 * its distances fall on the 160 evaluation photos (bench/distance-bands.ts, results in
 * bench/results/distance-bands-rclip-tiny-fare.md): mild blur/JPEG/noise stay under 0.01, strong
 * distortions under 0.09, augmented copies (crop-zoom, flip, colour) have p90 0.073 and max 0.15,
 * other photos start at 0.16 (p10 0.36). They are stated on the page, because a number without its
 * scale means little; other models need their own bands.
 */
export interface VerdictBand {
  /** Upper bound (exclusive) of the band. */
  below: number;
  label: string;
}

export const VERDICT_BANDS: readonly VerdictBand[] = [
  { below: 0.01, label: 'near-identical (a re-encode or an imperceptible change)' },
  { below: 0.1, label: 'similar: the same image with visible edits, or a near-duplicate' },
  { below: 0.3, label: 'related: a heavily edited copy, or shared content' },
  { below: Infinity, label: 'different: unrelated images' },
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
