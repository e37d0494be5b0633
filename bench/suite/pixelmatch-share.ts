/**
 * pixelmatch's count of differing pixels (default threshold 0.1, anti-aliasing detection on) as a share of
 * the image, recounted only where the first image changed since the last call with the same second image.
 * Square perturbs one square of a query a call and compares it with the same 12 gallery photos each
 * time; pixelmatch itself looks at every pixel (~1.5 ms a 128×128 pair here). A pixel's verdict reads the
 * two images within REACH pixels of it only (the anti-aliasing test looks at its 3×3 neighbourhood and
 * at the 3×3 siblings of its darkest and brightest neighbours), so pixelmatch run on a crop REACH wider
 * than the changed box gives the same verdicts inside that box grown by REACH. The verdicts are read
 * from pixelmatch's own diff mask: the numbers are pixelmatch's (tests/pixelmatch-share.test.ts).
 */
import pixelmatch from 'pixelmatch';
import type { RgbaImage } from '../../src/core/preprocess';

const OPTIONS = { threshold: 0.1 } as const;
const REACH = 2;
/** Past this share of the image a crop saves little: count the whole image. */
const WHOLE = 0.5;

interface LastCall {
  /** The first image of the last call with this second image, and pixelmatch's verdict per pixel. */
  data: Uint8ClampedArray;
  differs: Uint8Array;
  count: number;
}

const lastCalls = new WeakMap<RgbaImage, LastCall>();

/** pixelmatch's verdicts over a rectangle (x0..x1, y0..y1 inclusive) of a and b: 1 where it counts a difference. */
function verdicts(a: RgbaImage, b: RgbaImage, x0: number, y0: number, x1: number, y1: number): Uint8Array {
  const w = x1 - x0 + 1;
  const h = y1 - y0 + 1;
  const crop = (img: RgbaImage) => {
    if (w === img.width && h === img.height) return img.data;
    const out = new Uint8ClampedArray(w * h * 4);
    for (let y = 0; y < h; y++) out.set(img.data.subarray(((y0 + y) * img.width + x0) * 4, ((y0 + y) * img.width + x1 + 1) * 4), y * w * 4);
    return out;
  };
  const mask = new Uint8ClampedArray(w * h * 4);
  // diffMask: only counted differences are drawn (opaque); anti-aliased and equal pixels stay transparent.
  pixelmatch(crop(a), crop(b), mask, w, h, { ...OPTIONS, diffMask: true });
  const out = new Uint8Array(w * h);
  for (let i = 0; i < out.length; i++) out[i] = mask[4 * i + 3] === 255 ? 1 : 0;
  return out;
}

/** RGBA pixels as 32-bit words, to compare a pixel in one step (copied when the bytes are not 4-aligned). */
const words = (data: Uint8ClampedArray | Uint8Array) => (data.byteOffset % 4 === 0 ? new Uint32Array(data.buffer, data.byteOffset, data.length / 4) : new Uint32Array(Uint8Array.from(data).buffer));

const opaque = (data: Uint8ClampedArray | Uint8Array) => {
  for (let i = 3; i < data.length; i += 4) if (data[i] !== 255) return false;
  return true;
};

/** pixelmatch(a, b) / pixels, recounted where a changed since the last call with this b (both opaque; else counted whole). */
export function pixelmatchShare(a: RgbaImage, b: RgbaImage): number {
  const { width, height } = a;
  if (b.width !== width || b.height !== height) throw new Error(`pixelmatch: image sizes do not match (${width}×${height} and ${b.width}×${b.height})`);
  const n = width * height;
  const last = lastCalls.get(b);
  const whole = () => {
    const data = Uint8ClampedArray.from(a.data);
    if (!opaque(data) || !opaque(b.data)) {
      // Transparent pixels blend against a checkerboard that depends on the position: no crops.
      lastCalls.delete(b);
      return pixelmatch(a.data, b.data, undefined, width, height, OPTIONS) / n;
    }
    const differs = verdicts(a, b, 0, 0, width - 1, height - 1);
    const count = differs.reduce((s, v) => s + v, 0);
    lastCalls.set(b, { data, differs, count });
    return count / n;
  };
  if (!last || last.data.length !== a.data.length) return whole();
  // Rows where a changed, in bands of consecutive rows, each with the columns it changed in: Square's
  // candidate differs from the last one compared in two squares (the rejected one undone, the new one).
  const now = words(a.data);
  const before = words(last.data);
  const bands: Array<[number, number, number, number]> = [];
  for (let y = 0; y < height; y++) {
    let lo = width;
    let hi = -1;
    for (let x = 0, i = y * width; x < width; x++, i++) {
      if (now[i] !== before[i]) {
        if (x < lo) lo = x;
        hi = x;
      }
    }
    if (hi < 0) continue;
    const band = bands.at(-1);
    if (band && band[3] === y - 1) {
      band[0] = Math.min(band[0], lo);
      band[2] = Math.max(band[2], hi);
      band[3] = y;
    } else bands.push([lo, y, hi, y]);
  }
  if (!bands.length) return last.count / n;
  const grow = (v: number, by: number, max: number) => Math.min(Math.max(v + by, 0), max);
  const area = bands.reduce((sum, [x0, y0, x1, y1]) => sum + (x1 - x0 + 1 + 4 * REACH) * (y1 - y0 + 1 + 4 * REACH), 0);
  if (area > WHOLE * n) return whole();
  for (const [x0, y0, x1, y1] of bands) {
    for (let y = y0; y <= y1; y++) for (let i = (y * width + x0) * 4 + 3; i <= (y * width + x1) * 4 + 3; i += 4) if (a.data[i] !== 255) return whole();
  }
  for (const [x0, y0, x1, y1] of bands) {
    // Verdicts that may change: the band's box grown by REACH. pixelmatch runs on that grown by REACH again, so
    // each of them sees its whole neighbourhood (or the image's own edge, which the crop shares). A verdict
    // depends on a and b alone, so boxes that overlap get the same value twice.
    const [tx0, ty0, tx1, ty1] = [grow(x0, -REACH, width - 1), grow(y0, -REACH, height - 1), grow(x1, REACH, width - 1), grow(y1, REACH, height - 1)];
    const [cx0, cy0, cx1, cy1] = [grow(tx0, -REACH, width - 1), grow(ty0, -REACH, height - 1), grow(tx1, REACH, width - 1), grow(ty1, REACH, height - 1)];
    const cw = cx1 - cx0 + 1;
    const fresh = verdicts(a, b, cx0, cy0, cx1, cy1);
    for (let y = ty0; y <= ty1; y++) {
      for (let x = tx0; x <= tx1; x++) {
        const i = y * width + x;
        const v = fresh[(y - cy0) * cw + (x - cx0)];
        last.count += v - last.differs[i];
        last.differs[i] = v;
      }
    }
    for (let y = y0; y <= y1; y++) last.data.set(a.data.subarray((y * width + x0) * 4, (y * width + x1 + 1) * 4), (y * width + x0) * 4);
  }
  return last.count / n;
}
