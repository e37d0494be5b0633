/**
 * Engine.compare: one pair under several models (the page's robust + baseline) decodes each image
 * once and preprocesses it once per distinct model input, and gives the same distances as one
 * distance() call per model.
 */
import path from 'node:path';
import * as ortWeb from 'onnxruntime-web';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import type { RgbaImage } from '../src/core/preprocess';
import { testPattern } from './fixtures/pattern';
import { DiskModelSource } from '../src/engine/disk-source';
import { Engine } from '../src/engine/engine';

const preprocessed: number[] = [];
vi.mock('../src/core/preprocess', async (importOriginal) => {
  const real = await importOriginal<typeof import('../src/core/preprocess')>();
  return {
    ...real,
    toModelPixels: (...args: Parameters<typeof real.toModelPixels>) => {
      preprocessed.push(args[1].size);
      return real.toModelPixels(...args);
    },
  };
});

const MODELS = path.resolve(__dirname, '../public/models');

const pattern = (seed: number) => testPattern(seed, 90, 70);

describe('Engine.compare (several models, one pair)', () => {
  const decoded: RgbaImage[] = [];
  let engine: Engine<RgbaImage>;
  let ids: string[];

  beforeAll(async () => {
    ortWeb.env.wasm.numThreads = 1;
    engine = new Engine<RgbaImage>({
      ort: ortWeb,
      source: new DiskModelSource(MODELS),
      chooseBackend: async () => ({ ep: 'wasm', reason: 'test', adapter: null, threads: 1 }),
      decode: async (img) => {
        decoded.push(img);
        return img;
      },
    });
    const index = await engine.index();
    ids = [index.default, index.baseline];
    for (const id of ids) await engine.loadModel(id);
  });

  it('decodes each image once, whatever the number of models, and preprocesses once per distinct input', async () => {
    const a = pattern(1);
    const b = pattern(2);
    decoded.length = 0;
    preprocessed.length = 0;
    const out = await engine.compare(a, b, ids);
    expect(decoded).toHaveLength(2);
    expect(decoded.filter((d) => d === a)).toHaveLength(1);
    expect(decoded.filter((d) => d === b)).toHaveLength(1);
    const inputs = await Promise.all(ids.map(async (id) => (await engine.loadModel(id)).manifest.input));
    const distinct = new Set(inputs.map((i) => `${i.size}|${i.background.join(',')}`)).size;
    expect(preprocessed).toHaveLength(2 * distinct);
    expect(out.results.map((r) => r.model)).toEqual(ids);
    expect(out.timings.decodeMs).toBeGreaterThanOrEqual(0);
    expect(out.timings.totalMs).toBeGreaterThanOrEqual(out.timings.inferenceMs);

    // The same numbers as one distance() per model (which decodes the pair again each time).
    decoded.length = 0;
    for (const [i, id] of ids.entries()) {
      const one = await engine.distance(a, b, id);
      expect(out.results[i].distance).toBeCloseTo(one.distance, 6);
      expect(out.results[i].similarity).toBeCloseTo(1 - one.distance, 6);
      expect(out.results[i].ep).toBe(one.ep);
    }
    expect(decoded).toHaveLength(2 * ids.length);
  });

  it('refuses an empty model list and an unloaded model', async () => {
    await expect(engine.compare(pattern(1), pattern(2), [])).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(engine.compare(pattern(1), pattern(2), ['nope'])).rejects.toMatchObject({ code: 'MODEL_NOT_LOADED' });
  });

  it('is cancellable like distance()', async () => {
    const aborted = new AbortController();
    aborted.abort();
    await expect(engine.compare(pattern(1), pattern(2), ids, { signal: aborted.signal })).rejects.toMatchObject({ code: 'CANCELLED' });
  });
});
