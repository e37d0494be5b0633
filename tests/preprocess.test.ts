import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { compositeToRgb, normalize, shortestSideSize, toModelPixels, type RgbaImage } from '../src/core/preprocess';

interface Case {
  width: number;
  height: number;
  size: number;
  rgb: string;
  expected: string;
}

const fixture: { cases: Case[] } = JSON.parse(readFileSync(new URL('./fixtures/preprocess-pil.json', import.meta.url), 'utf8'));

function rgbToRgba(rgb: Uint8Array, width: number, height: number): RgbaImage {
  const data = new Uint8Array(width * height * 4);
  for (let i = 0; i < width * height; i++) {
    data.set(rgb.subarray(i * 3, i * 3 + 3), i * 4);
    data[i * 4 + 3] = 255;
  }
  return { width, height, data };
}

describe('toModelPixels against torchvision Resize(BICUBIC)+CenterCrop on PIL', () => {
  for (const c of fixture.cases) {
    it(`${c.width}×${c.height} → ${c.size} matches PIL bit for bit`, () => {
      const rgb = new Uint8Array(Buffer.from(c.rgb, 'base64'));
      const expected = new Uint8Array(Buffer.from(c.expected, 'base64'));
      const pixels = toModelPixels(rgbToRgba(rgb, c.width, c.height), { size: c.size, background: [1, 1, 1] });
      const s = c.size;
      let maxDiff = 0;
      for (let y = 0; y < s; y++) {
        for (let x = 0; x < s; x++) {
          for (let ch = 0; ch < 3; ch++) {
            const ours = Math.round(pixels.data[ch * s * s + y * s + x] * 255);
            maxDiff = Math.max(maxDiff, Math.abs(ours - expected[(y * s + x) * 3 + ch]));
          }
        }
      }
      expect(maxDiff).toBe(0);
    });
  }

  it('reads RGB (3 channels, as the Node decode workers get it) to the same floats as opaque RGBA', () => {
    for (const c of fixture.cases) {
      const rgb = new Uint8Array(Buffer.from(c.rgb, 'base64'));
      const spec = { size: c.size, background: [1, 1, 1] as [number, number, number] };
      const fromRgba = toModelPixels(rgbToRgba(rgb, c.width, c.height), spec).data;
      expect(toModelPixels({ width: c.width, height: c.height, data: rgb, channels: 3 }, spec).data).toEqual(fromRgba);
    }
  });
});

describe('preprocessing details', () => {
  it('resizes the shortest side and truncates the other, as torchvision does', () => {
    expect(shortestSideSize(300, 201, 64)).toEqual({ width: 95, height: 64 });
    expect(shortestSideSize(161, 480, 64)).toEqual({ width: 64, height: 190 });
    expect(shortestSideSize(50, 50, 64)).toEqual({ width: 64, height: 64 });
  });

  it('composites transparency on the stated background', () => {
    const img: RgbaImage = { width: 2, height: 1, data: new Uint8Array([255, 0, 0, 0, 0, 0, 255, 128]) };
    const rgb = compositeToRgb(img, [1, 1, 1]);
    expect(Array.from(rgb.subarray(0, 3))).toEqual([255, 255, 255]); // fully transparent → background
    expect(Array.from(rgb.subarray(3, 6))).toEqual([127, 127, 255]); // half transparent blue over white
  });

  it('normalises per channel with the manifest mean and std', () => {
    const pixels = { size: 1, data: new Float32Array([0.5, 0.5, 1]) };
    const out = normalize(pixels, { mean: [0.5, 0.25, 0], std: [0.5, 0.25, 2] });
    expect(Array.from(out)).toEqual([0, 1, 0.5]);
  });

  it('refuses an image with no pixels', () => {
    expect(() => toModelPixels({ width: 0, height: 3, data: new Uint8Array(0) }, { size: 8, background: [1, 1, 1] })).toThrow(/no pixels/);
  });
});
