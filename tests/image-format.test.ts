import { describe, expect, it } from 'vitest';
import sharp, { type Sharp } from 'sharp';
import { RclipError } from '../src/core/errors';
import { MAX_IMAGE_PIXELS, sniffImage } from '../src/core/image-format';

const text = (s: string) => new TextEncoder().encode(s);

function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    return (err as RclipError).code;
  }
  return 'no error';
}

describe('sniffImage', () => {
  it('reads format and size from real encoder output', async () => {
    const raw = { raw: { width: 33, height: 17, channels: 3 as const } };
    const pixels = Buffer.alloc(33 * 17 * 3, 120);
    for (const [format, encode] of [
      ['jpeg', (s: Sharp) => s.jpeg()],
      ['png', (s: Sharp) => s.png()],
      ['webp', (s: Sharp) => s.webp()],
      ['webp', (s: Sharp) => s.webp({ lossless: true })],
      ['gif', (s: Sharp) => s.gif()],
    ] as const) {
      const bytes = new Uint8Array(await encode(sharp(pixels, raw)).toBuffer());
      expect(sniffImage(bytes), format).toEqual({ format, width: 33, height: 17 });
    }
  });

  it('gives specific errors for empty, SVG, PDF and unknown input', () => {
    expect(codeOf(() => sniffImage(new Uint8Array(0)))).toBe('IMAGE_EMPTY');
    expect(() => sniffImage(text('<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg"/>'))).toThrow(/SVG/);
    expect(() => sniffImage(text('%PDF-1.7\n...'))).toThrow(/PDF document/);
    expect(() => sniffImage(text('hello, not an image'))).toThrow(/not a recognised image/);
    expect(codeOf(() => sniffImage(text('%PDF-1.4')))).toBe('IMAGE_UNSUPPORTED_FORMAT');
  });

  it('refuses a 20000×20000 PNG from its header, before any decoding', () => {
    const header = new Uint8Array(33);
    header.set([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, 0x49, 0x48, 0x44, 0x52]);
    new DataView(header.buffer).setUint32(16, 20000);
    new DataView(header.buffer).setUint32(20, 20000);
    expect(codeOf(() => sniffImage(header))).toBe('IMAGE_TOO_LARGE');
    expect(() => sniffImage(header)).toThrow(/20000×20000 pixels \(400 MP\); the limit is 40 MP/);
    expect(20000 * 20000).toBeGreaterThan(MAX_IMAGE_PIXELS);
  });
});
