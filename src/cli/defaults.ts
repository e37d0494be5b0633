/** Distance at or below which `rclip dedupe` links two images; chosen from measurements in docs/benchmark-2afc.md. */
export const DEFAULT_DEDUPE_THRESHOLD = 0.05;
