// Writes the demo's bundled sample images (public/samples/): synthetic scenes drawn here, so the
// repository ships no third-party photos. Run: node tools/make-samples.mjs
import sharp from 'sharp';
import { mkdirSync, writeFileSync } from 'node:fs';

const out = new URL('../public/samples/', import.meta.url);
mkdirSync(out, { recursive: true });

const scene = ({ sky, sun, hills, sunX }) => `
<svg xmlns="http://www.w3.org/2000/svg" width="480" height="360">
  <defs><linearGradient id="s" x1="0" y1="0" x2="0" y2="1"><stop offset="0" stop-color="${sky[0]}"/><stop offset="1" stop-color="${sky[1]}"/></linearGradient></defs>
  <rect width="480" height="360" fill="url(#s)"/>
  <circle cx="${sunX}" cy="120" r="46" fill="${sun}"/>
  <path d="M0 250 Q120 170 240 240 T480 220 V360 H0 Z" fill="${hills[0]}"/>
  <path d="M0 300 Q160 240 300 300 T480 290 V360 H0 Z" fill="${hills[1]}"/>
  ${Array.from({ length: 14 }, (_, i) => `<rect x="${20 + i * 33}" y="${318 - (i % 4) * 9}" width="6" height="${26 + (i % 4) * 9}" fill="#2b1d0e"/>`).join('')}
</svg>`;

const samples = {
  'sunset.jpg': scene({ sky: ['#ff9a5a', '#ffd27a'], sun: '#fff1b8', hills: ['#6b4f8a', '#3a2d52'], sunX: 330 }),
  'sunset-shifted.jpg': scene({ sky: ['#ff9457', '#ffd07a'], sun: '#fff0b0', hills: ['#6a4e88', '#392c50'], sunX: 300 }),
  'meadow.jpg': scene({ sky: ['#7ec8ff', '#e0f4ff'], sun: '#ffffff', hills: ['#5aa84a', '#2f7a2b'], sunX: 110 }),
};
for (const [name, svg] of Object.entries(samples)) {
  const jpeg = await sharp(Buffer.from(svg)).jpeg({ quality: 88 }).toBuffer();
  writeFileSync(new URL(name, out), jpeg);
  console.log(`${name}: ${jpeg.length} bytes`);
}
