// Writes the demo's bundled sample images (public/samples/). Run: node tools/make-samples.mjs
//
// Photos (the page's sample buttons): public-domain / CC0 photos shipped by Debian's python3-skimage
// (scikit-image's data directory), fetched with `apt-get download` and unpacked with `dpkg-deb -x`,
// checked against the sha256 recorded below, resized and written as small JPEGs. Licence and author of
// each photo: public/samples/CREDITS.md (from the docstrings in skimage/data/_fetchers.py; Debian's
// copyright file covers the package as a whole, BSD-3-Clause).
//
// Drawings (sunset.jpg, sunset-shifted.jpg, meadow.jpg): synthetic scenes drawn here. Unit, CLI and
// some e2e tests measure them, so they stay and are reproduced byte for byte.
import sharp from 'sharp';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

const out = new URL('../public/samples/', import.meta.url);
mkdirSync(out, { recursive: true });

// ---- drawings --------------------------------------------------------------------------------

const scene = ({ sky, sun, hills, sunX }) => `
<svg xmlns="http://www.w3.org/2000/svg" width="480" height="360">
  <defs><linearGradient id="s" x1="0" y1="0" x2="0" y2="1"><stop offset="0" stop-color="${sky[0]}"/><stop offset="1" stop-color="${sky[1]}"/></linearGradient></defs>
  <rect width="480" height="360" fill="url(#s)"/>
  <circle cx="${sunX}" cy="120" r="46" fill="${sun}"/>
  <path d="M0 250 Q120 170 240 240 T480 220 V360 H0 Z" fill="${hills[0]}"/>
  <path d="M0 300 Q160 240 300 300 T480 290 V360 H0 Z" fill="${hills[1]}"/>
  ${Array.from({ length: 14 }, (_, i) => `<rect x="${20 + i * 33}" y="${318 - (i % 4) * 9}" width="6" height="${26 + (i % 4) * 9}" fill="#2b1d0e"/>`).join('')}
</svg>`;

const drawings = {
  'sunset.jpg': scene({ sky: ['#ff9a5a', '#ffd27a'], sun: '#fff1b8', hills: ['#6b4f8a', '#3a2d52'], sunX: 330 }),
  'sunset-shifted.jpg': scene({ sky: ['#ff9457', '#ffd07a'], sun: '#fff0b0', hills: ['#6a4e88', '#392c50'], sunX: 300 }),
  'meadow.jpg': scene({ sky: ['#7ec8ff', '#e0f4ff'], sun: '#ffffff', hills: ['#5aa84a', '#2f7a2b'], sunX: 110 }),
};
for (const [name, svg] of Object.entries(drawings)) {
  const jpeg = await sharp(Buffer.from(svg)).jpeg({ quality: 88 }).toBuffer();
  writeFileSync(new URL(name, out), jpeg);
  console.log(`${name}: ${jpeg.length} bytes (drawing)`);
}

// ---- photos ----------------------------------------------------------------------------------

const PACKAGE = 'python3-skimage=0.19.3-8';
const DATA_DIR = 'usr/lib/python3/dist-packages/skimage/data';
/** Source file in the package, its sha256 (so another package version cannot slip in), and how each sample is cut from it. */
const PHOTOS = [
  { name: 'cat.jpg', source: 'chelsea.png', sha256: '596aa1e7cb875eb79f437e310381d26b338a81c2da23439704a73c4651e8c4bb' },
  // A near-duplicate: the same photo cropped 24 px on the left and 8 px on top, a touch brighter.
  { name: 'cat-cropped.jpg', source: 'chelsea.png', sha256: '596aa1e7cb875eb79f437e310381d26b338a81c2da23439704a73c4651e8c4bb', crop: { left: 24, top: 8, width: 427, height: 292 }, brightness: 1.06 },
  { name: 'coffee.jpg', source: 'coffee.png', sha256: 'cc02f8ca188b167c775a7101b5d767d1e71792cf762c33d6fa15a4599b5a8de7' },
  { name: 'rocket.jpg', source: 'rocket.jpg', sha256: 'c2dd0de7c538df8d111e479619b129464d0269d0ae5fd18ca91d33a7fdfea95c' },
];
/** Wide enough for a 128 px thumbnail at 2× and the 64–224 px model inputs; small enough to commit. */
const WIDTH = 320;

const work = mkdtempSync(path.join(tmpdir(), 'rclip-samples-'));
try {
  execFileSync('apt-get', ['download', PACKAGE], { cwd: work, stdio: 'inherit' });
  const deb = readdirSync(work).find((f) => f.endsWith('.deb'));
  if (!deb) throw new Error(`apt-get download ${PACKAGE} wrote no .deb into ${work}`);
  execFileSync('dpkg-deb', ['-x', path.join(work, deb), path.join(work, 'root')]);
  for (const photo of PHOTOS) {
    const bytes = readFileSync(path.join(work, 'root', DATA_DIR, photo.source));
    const sha = createHash('sha256').update(bytes).digest('hex');
    if (sha !== photo.sha256) throw new Error(`${photo.source} in ${deb} has sha256 ${sha}, expected ${photo.sha256}: not the photo CREDITS.md describes`);
    let image = sharp(bytes);
    if (photo.crop) image = image.extract(photo.crop);
    if (photo.brightness) image = image.modulate({ brightness: photo.brightness });
    const jpeg = await image.resize({ width: WIDTH }).jpeg({ quality: 85, mozjpeg: true }).toBuffer();
    writeFileSync(new URL(photo.name, out), jpeg);
    console.log(`${photo.name}: ${jpeg.length} bytes (from ${deb}: ${photo.source})`);
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}
