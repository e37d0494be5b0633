/** Near-duplicate image files made from real photos (what `rclip dedupe` is for), with sharp. */
import path from 'node:path';
import sharp from 'sharp';

/** The edits, mild to visible: half-size re-encode, a low-quality JPEG, a 90 % centre crop, brighter. */
export const NEAR_DUPLICATE_KINDS = ['half', 'jpeg40', 'crop90', 'bright'] as const;
export type NearDuplicateKind = (typeof NEAR_DUPLICATE_KINDS)[number];

/** Writes `kind` of `source` to `outDir` as `<name>.<kind>.jpg` and returns its path. */
export async function writeNearDuplicate(source: string, outDir: string, kind: NearDuplicateKind): Promise<string> {
  const out = path.join(outDir, `${path.parse(source).name}.${kind}.jpg`);
  const image = sharp(source).rotate();
  const { width = 256, height = 256 } = await image.metadata();
  if (kind === 'half') await image.resize({ width: Math.max(16, Math.round(width / 2)) }).jpeg({ quality: 80 }).toFile(out);
  else if (kind === 'jpeg40') await image.jpeg({ quality: 40 }).toFile(out);
  else if (kind === 'crop90') await image.extract({ left: Math.round(width * 0.05), top: Math.round(height * 0.05), width: Math.round(width * 0.9), height: Math.round(height * 0.9) }).jpeg({ quality: 90 }).toFile(out);
  else await image.modulate({ brightness: 1.15 }).jpeg({ quality: 90 }).toFile(out);
  return out;
}
