/**
 * How far is our preprocessing from open_clip's (PIL decode + torchvision Resize(BICUBIC) + CenterCrop)
 * on real photos? The resampler is bit-exact on raw pixels (tests/preprocess.test.ts); what remains
 * is the decoder (sharp/libvips here, PIL's libjpeg there). Prints a table and writes JSON.
 *   npx tsx bench/preprocess-vs-pil.ts [--images DIR] [--n 8]
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync, existsSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import * as ort from 'onnxruntime-node';
import { cosineDistance } from '../src/core/distance';
import { toModelPixels, type PixelTensor } from '../src/core/preprocess';
import { DiskModelSource } from '../src/engine/disk-source';
import { Engine } from '../src/engine/engine';

const args = process.argv.slice(2);
const opt = (name: string, fallback: string) => (args.includes(name) ? args[args.indexOf(name) + 1] : fallback);
const root = path.resolve(import.meta.dirname, '..');
const imagesDir = path.resolve(opt('--images', path.join(root, '../shared/data/imagenet-sample')));
const n = Number(opt('--n', '8'));
if (!existsSync(imagesDir)) {
  console.error(`skipped: ${imagesDir} is absent (needs ../shared/data).`);
  process.exit(0);
}
const files = readdirSync(imagesDir).filter((f) => /\.(jpe?g|png)$/i.test(f)).sort().slice(0, n).map((f) => path.join(imagesDir, f));
const sizes = [64, 224];

const pilScript = `
import sys, pathlib
from PIL import Image
from torchvision import transforms
out = pathlib.Path(sys.argv[1])
for size in map(int, sys.argv[2].split(',')):
    t = transforms.Compose([transforms.Resize(size, interpolation=transforms.InterpolationMode.BICUBIC), transforms.CenterCrop(size)])
    for i, f in enumerate(sys.argv[3:]):
        (out / f'{size}-{i}.rgb').write_bytes(t(Image.open(f).convert('RGB')).tobytes())
`;
const tmp = mkdtempSync(path.join(tmpdir(), 'rclip-pil-'));
execFileSync('/usr/bin/python3', ['-c', pilScript, tmp, sizes.join(','), ...files], { stdio: 'inherit' });

const engine = new Engine<PixelTensor>({
  ort,
  source: new DiskModelSource(path.join(root, 'public/models')),
  chooseBackend: async () => ({ ep: 'cpu', reason: 'Node', adapter: null, threads: 1 }),
  decode: async () => {
    throw new Error('unused');
  },
});
const model = (await engine.index()).default;
const { manifest } = await engine.loadModel(model);

function hwcToPixels(rgb: Uint8Array, size: number): PixelTensor {
  const data = new Float32Array(3 * size * size);
  for (let i = 0; i < size * size; i++) for (let c = 0; c < 3; c++) data[c * size * size + i] = rgb[i * 3 + c] / 255;
  return { size, data };
}

const rows: Array<Record<string, number | string>> = [];
for (const size of sizes) {
  for (const [i, file] of files.entries()) {
    const { data, info } = await sharp(readFileSync(file)).rotate().ensureAlpha().raw().toBuffer({ resolveWithObject: true });
    const ours = toModelPixels({ width: info.width, height: info.height, data }, { size, background: [1, 1, 1] });
    const pil = hwcToPixels(new Uint8Array(readFileSync(path.join(tmp, `${size}-${i}.rgb`))), size);
    let maxDiff = 0;
    let sumDiff = 0;
    let differing = 0;
    for (let k = 0; k < ours.data.length; k++) {
      const d = Math.round(Math.abs(ours.data[k] - pil.data[k]) * 255);
      maxDiff = Math.max(maxDiff, d);
      sumDiff += d;
      if (d > 0) differing++;
    }
    const row: Record<string, number | string> = {
      file: path.basename(file),
      size,
      maxAbsLevels: maxDiff,
      meanAbsLevels: +(sumDiff / ours.data.length).toFixed(4),
      differingFraction: +(differing / ours.data.length).toFixed(4),
    };
    if (size === manifest.input.size) {
      const [a, b] = await engine.embedPixels(model, [ours, pil]);
      row.embeddingDistance = +cosineDistance(a, b).toExponential(2);
    }
    rows.push(row);
  }
}
console.table(rows);
mkdirSync(path.join(root, 'bench/results'), { recursive: true });
const out = path.join(root, 'bench/results/preprocess-vs-pil.json');
writeFileSync(out, JSON.stringify({ date: new Date().toISOString(), model, decoder: `sharp ${sharp.versions.sharp} (libvips ${sharp.versions.vips})`, reference: 'PIL + torchvision Resize(BICUBIC) + CenterCrop', rows }, null, 2) + '\n');
console.log(`wrote ${path.relative(root, out)}`);
