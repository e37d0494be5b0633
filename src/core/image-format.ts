import { RclipError } from './errors';

export type RasterFormat = 'jpeg' | 'png' | 'gif' | 'webp' | 'bmp' | 'avif';

/** Decoding a 20000×20000 image takes 1.6 GB of RGBA: refuse before decoding, from the header. */
export const MAX_IMAGE_PIXELS = 40_000_000;
export const MAX_IMAGE_BYTES = 64 * 1024 * 1024;

export interface ImageHeader {
  format: RasterFormat;
  /** From the header when the format states it cheaply; null when it does not (the decoder's size then counts). */
  width: number | null;
  height: number | null;
}

const ascii = (b: Uint8Array, at: number, n: number) => String.fromCharCode(...b.subarray(at, at + n));

function textPrefix(b: Uint8Array): string {
  // Skip a UTF-8 BOM and leading white space so "  <?xml ... <svg" is recognised too.
  let i = b[0] === 0xef && b[1] === 0xbb && b[2] === 0xbf ? 3 : 0;
  while (i < b.length && i < 64 && (b[i] === 0x20 || b[i] === 0x0a || b[i] === 0x0d || b[i] === 0x09)) i++;
  return ascii(b, i, Math.min(512, b.length - i)).toLowerCase();
}

function jpegSize(b: Uint8Array): { width: number; height: number } | null {
  let i = 2;
  while (i + 9 < b.length) {
    if (b[i] !== 0xff) return null;
    const marker = b[i + 1];
    if (marker === 0xd8 || marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7) || marker === 0xff) {
      i += marker === 0xff ? 1 : 2;
      continue;
    }
    const len = (b[i + 2] << 8) | b[i + 3];
    // SOF0..SOF15 except DHT (C4), JPG (C8) and DAC (CC) carry the frame size.
    if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) {
      return { height: (b[i + 5] << 8) | b[i + 6], width: (b[i + 7] << 8) | b[i + 8] };
    }
    i += 2 + len;
  }
  return null;
}

/**
 * Names the format from magic bytes and reads the pixel size from the header where it is cheap.
 * Throws a specific RclipError for empty input, vector formats, PDFs and anything unrecognised.
 */
export function sniffImage(bytes: Uint8Array, name = 'the file'): ImageHeader {
  if (bytes.length === 0) throw new RclipError('IMAGE_EMPTY', `${name} is empty (0 bytes).`);
  if (bytes.length > MAX_IMAGE_BYTES) {
    throw new RclipError('IMAGE_TOO_LARGE', `${name} is ${(bytes.length / 2 ** 20).toFixed(0)} MB; the limit is ${MAX_IMAGE_BYTES / 2 ** 20} MB.`);
  }
  const b = bytes;
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  let header: ImageHeader | null = null;
  if (b.length >= 3 && b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff) {
    const size = jpegSize(b);
    header = { format: 'jpeg', width: size?.width ?? null, height: size?.height ?? null };
  } else if (b.length >= 24 && ascii(b, 1, 3) === 'PNG' && b[0] === 0x89) {
    header = { format: 'png', width: dv.getUint32(16), height: dv.getUint32(20) };
  } else if (b.length >= 10 && ascii(b, 0, 4) === 'GIF8') {
    header = { format: 'gif', width: dv.getUint16(6, true), height: dv.getUint16(8, true) };
  } else if (b.length >= 30 && ascii(b, 0, 4) === 'RIFF' && ascii(b, 8, 4) === 'WEBP') {
    const chunk = ascii(b, 12, 4);
    if (chunk === 'VP8X') header = { format: 'webp', width: 1 + (dv.getUint32(24, true) & 0xffffff), height: 1 + (dv.getUint32(27, true) & 0xffffff) };
    else if (chunk === 'VP8L') {
      const bits = dv.getUint32(21, true);
      header = { format: 'webp', width: 1 + (bits & 0x3fff), height: 1 + ((bits >> 14) & 0x3fff) };
    } else header = { format: 'webp', width: dv.getUint16(26, true) & 0x3fff, height: dv.getUint16(28, true) & 0x3fff };
  } else if (b.length >= 26 && ascii(b, 0, 2) === 'BM') {
    header = { format: 'bmp', width: Math.abs(dv.getInt32(18, true)), height: Math.abs(dv.getInt32(22, true)) };
  } else if (b.length >= 12 && ascii(b, 4, 4) === 'ftyp' && /^avi[fs]$/.test(ascii(b, 8, 4))) {
    header = { format: 'avif', width: null, height: null };
  }
  if (header === null) {
    const text = textPrefix(b);
    if (text.startsWith('%pdf')) {
      throw new RclipError('IMAGE_UNSUPPORTED_FORMAT', `${name} is a PDF document, not an image. Use a JPEG, PNG, WebP, GIF, BMP or AVIF file.`);
    }
    if (text.startsWith('<svg') || (text.startsWith('<?xml') && text.includes('<svg')) || text.includes('<svg')) {
      throw new RclipError('IMAGE_UNSUPPORTED_FORMAT', `${name} is an SVG (vector) image; rasterise it to PNG first. Use a JPEG, PNG, WebP, GIF, BMP or AVIF file.`);
    }
    throw new RclipError('IMAGE_UNSUPPORTED_FORMAT', `${name} is not a recognised image (expected JPEG, PNG, WebP, GIF, BMP or AVIF).`);
  }
  checkPixelCount(header.width, header.height, name);
  return header;
}

/** The one wording for a file whose header names a format its decoder then rejects (browser, Node and the demo page's own decodes). */
export function corruptImageError(name: string, format: RasterFormat, cause: unknown): RclipError {
  return new RclipError('IMAGE_DECODE_FAILED', `${name} looks like a ${format.toUpperCase()} file but could not be decoded: it is corrupt or truncated.`, { cause });
}

export function checkPixelCount(width: number | null, height: number | null, name = 'the image'): void {
  if (width === null || height === null) return;
  if (width === 0 || height === 0) throw new RclipError('IMAGE_DECODE_FAILED', `${name} declares a size of ${width}×${height} pixels.`);
  if (width * height > MAX_IMAGE_PIXELS) {
    throw new RclipError(
      'IMAGE_TOO_LARGE',
      `${name} is ${width}×${height} pixels (${((width * height) / 1e6).toFixed(0)} MP); the limit is ${MAX_IMAGE_PIXELS / 1e6} MP. Downscale it first.`,
    );
  }
}
