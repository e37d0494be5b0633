/**
 * Is toModelPixels byte-identical to Pillow on real photos? Both get the same decoded pixels (sharp,
 * RGB), so only the resize and crop are compared: PIL + torchvision Resize(BICUBIC) + CenterCrop
 * (/usr/bin/python3 with PIL and torchvision) against ours, fed as RGB and as opaque RGBA (the
 * browser's form). Exits 1 on any differing byte.
 *   npx tsx bench/preprocess-exact.ts [--images DIR] [--sizes 96,160,224]
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import sharp from 'sharp';
import { toModelPixels, type RgbImage } from '../src/core/preprocess';
import { expandImageArgs } from '../src/engine/node-images';

const root = path.resolve(import.meta.dirname, '..');
const { values } = parseArgs({ options: { images: { type: 'string', default: path.resolve(root, '../shared/data/imagenet-sample') }, sizes: { type: 'string', default: '96,160,224' } } });
if (!existsSync(values.images!)) {
  console.error(`bench/preprocess-exact: ${values.images} is absent (the shared photos); nothing checked.`);
  process.exit(1);
}
const files = expandImageArgs([values.images!]);
const sizes = values.sizes!.split(',').map(Number);
const tmp = mkdtempSync(path.join(tmpdir(), 'rclip-exact-'));
const images: RgbImage[] = [];
for (const [i, f] of files.entries()) {
  const { data, info } = await sharp(f).rotate().removeAlpha().raw().toBuffer({ resolveWithObject: true });
  writeFileSync(path.join(tmp, `${i}.rgb`), data);
  images.push({ width: info.width, height: info.height, data, channels: 3 });
}
writeFileSync(path.join(tmp, 'sizes.json'), JSON.stringify(images.map((m) => [m.width, m.height])));
const pil = `
import json, sys
from PIL import Image
from torchvision import transforms
d = sys.argv[1]
for size in map(int, sys.argv[2].split(',')):
    t = transforms.Compose([transforms.Resize(size, interpolation=transforms.InterpolationMode.BICUBIC), transforms.CenterCrop(size)])
    for i, (w, h) in enumerate(json.load(open(f'{d}/sizes.json'))):
        im = Image.frombytes('RGB', (w, h), open(f'{d}/{i}.rgb', 'rb').read())
        open(f'{d}/{i}-{size}.pil', 'wb').write(t(im).tobytes())
`;
execFileSync('/usr/bin/python3', ['-c', pil, tmp, sizes.join(',')], { stdio: 'inherit' });

const toRgba = ({ width, height, data }: RgbImage) => {
  const rgba = new Uint8Array(width * height * 4).fill(255);
  for (let p = 0, q = 0; q < data.length; p += 4, q += 3) rgba.set(data.subarray(q, q + 3), p);
  return { width, height, data: rgba };
};
let failed = false;
for (const size of sizes) {
  let differing = 0;
  for (const [i, img] of images.entries()) {
    const expected = readFileSync(path.join(tmp, `${i}-${size}.pil`));
    const plane = size * size;
    const same = (data: Float32Array) => Array.from(expected).every((v, j) => data[(j % 3) * plane + Math.floor(j / 3)] === Math.fround(v / 255));
    if (!same(toModelPixels(img, { size, background: [1, 1, 1] }).data) || !same(toModelPixels(toRgba(img), { size, background: [1, 1, 1] }).data)) differing++;
  }
  console.log(`${size} px: ${images.length - differing} of ${images.length} photos byte-identical to Pillow (RGB and RGBA input)`);
  failed ||= differing > 0;
}
rmSync(tmp, { recursive: true, force: true });
process.exit(failed ? 1 : 0);
