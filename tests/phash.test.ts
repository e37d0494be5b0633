import path from 'node:path';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { hammingDistance, phash, PHASH_MATCH_BITS } from '../src/core/phash';
import { decodeImageFile } from '../src/engine/node';

const samples = path.resolve(__dirname, '../public/samples');

describe('DCT pHash', () => {
  it('matches a re-encoded, resized copy and tells two photos apart', async () => {
    const a = await decodeImageFile(path.join(samples, 'sunset.jpg'));
    const small = await sharp(path.join(samples, 'sunset.jpg')).resize({ width: Math.round(a.width / 2) }).jpeg({ quality: 70 }).toBuffer();
    const b = await decodeImageFile(new Uint8Array(small));
    const c = await decodeImageFile(path.join(samples, 'meadow.jpg'));
    expect(phash(a)).toMatch(/^[0-9a-f]{16}$/);
    expect(hammingDistance(phash(a), phash(b))).toBeLessThanOrEqual(PHASH_MATCH_BITS);
    expect(hammingDistance(phash(a), phash(c))).toBeGreaterThan(PHASH_MATCH_BITS);
    expect(hammingDistance(phash(a), phash(a))).toBe(0);
  });
});
