/**
 * Distance at or below which `rclip dedupe` links two images. For the shipped robust model on the
 * 160 evaluation photos (bench/results/distance-bands-rclip-tiny-fare.md) every blurred, JPEG'd,
 * noisy, colour-shifted or warped copy is below 0.09 and over 90 % of augmented copies (p90 0.073) below 0.1, while
 * the closest unrelated photo is at 0.16.
 */
export const DEFAULT_DEDUPE_THRESHOLD = 0.1;
