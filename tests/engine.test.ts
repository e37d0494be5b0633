import { existsSync, mkdtempSync, copyFileSync, mkdirSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as ortWeb from 'onnxruntime-web';
import { beforeAll, describe, expect, it } from 'vitest';
import type { RgbaImage } from '../src/core/preprocess';
import { DiskModelSource } from '../src/engine/disk-source';
import { Engine } from '../src/engine/engine';

const MODELS = path.resolve(__dirname, '../public/models');

function pattern(seed: number, width = 80, height = 60): RgbaImage {
  const data = new Uint8Array(width * height * 4);
  let s = seed;
  for (let i = 0; i < width * height; i++) {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    const x = i % width;
    data[i * 4] = (x * 3 + seed * 40) & 255;
    data[i * 4 + 1] = (Math.floor(i / width) * 4) & 255;
    data[i * 4 + 2] = s >>> 24;
    data[i * 4 + 3] = 255;
  }
  return { width, height, data };
}

function wasmEngine(base = MODELS) {
  ortWeb.env.wasm.numThreads = 1;
  return new Engine<RgbaImage>({
    ort: ortWeb,
    source: new DiskModelSource(base),
    chooseBackend: async () => ({ ep: 'wasm', reason: 'test', adapter: null, threads: 1 }),
    decode: async (img) => img,
  });
}

describe('engine on onnxruntime-web (wasm) in Node, with the shipped models', () => {
  let engine: Engine<RgbaImage>;
  let robust: string;

  beforeAll(async () => {
    engine = wasmEngine();
    robust = (await engine.index()).default;
    await engine.loadModel(robust);
  });

  it('loads the default model on wasm and reports it', async () => {
    const info = await engine.loadModel(robust);
    expect(info.ep).toBe('wasm');
    expect(info.fallbackReason).toBeNull();
    expect(info.manifest.id).toBe(robust);
  });

  it('embeds to unit length with the manifest size, deterministically', async () => {
    const a = await engine.embed(pattern(1), robust);
    const again = await engine.embed(pattern(1), robust);
    expect(a.embedding.length).toBe((await engine.loadModel(robust)).manifest.embeddingSize);
    expect(Math.hypot(...a.embedding)).toBeCloseTo(1, 5);
    expect(Array.from(again.embedding)).toEqual(Array.from(a.embedding));
  });

  it('gives distance 0 to itself, and a positive symmetric distance between different images', async () => {
    const same = await engine.distance(pattern(2), pattern(2), robust);
    expect(same.distance).toBeCloseTo(0, 5);
    const ab = await engine.distance(pattern(2), pattern(3), robust);
    const ba = await engine.distance(pattern(3), pattern(2), robust);
    expect(ab.distance).toBeGreaterThan(1e-4);
    expect(ab.distance).toBeCloseTo(ba.distance, 6);
    expect(ab.similarity).toBeCloseTo(1 - ab.distance, 12);
  });

  it('batches: a batch of embeddings equals one-by-one embeddings', async () => {
    const pixels = await Promise.all([4, 5, 6].map((s) => engine.pixelsFor(robust, pattern(s))));
    const batch = await engine.embedPixels(robust, pixels);
    const single = await engine.embedPixels(robust, [pixels[1]]);
    for (let i = 0; i < single[0].length; i++) expect(batch[1][i]).toBeCloseTo(single[0][i], 5);
  });

  it('cancels a queued job with CANCELLED and keeps working', async () => {
    const aborted = new AbortController();
    aborted.abort();
    await expect(engine.embed(pattern(7), robust, { signal: aborted.signal })).rejects.toMatchObject({ code: 'CANCELLED' });
    await expect(engine.embed(pattern(7), robust)).resolves.toBeTruthy();
  });

  it('refuses an unknown model id with MODEL_NOT_FOUND', async () => {
    await expect(engine.loadModel('no-such-model')).rejects.toMatchObject({ code: 'MODEL_NOT_FOUND' });
  });

  it('unloads and loads again (sessions released, a new one works)', async () => {
    const local = wasmEngine();
    const id = (await local.index()).baseline;
    await local.loadModel(id);
    const first = await local.embed(pattern(8), id);
    await local.unloadModel(id);
    await expect(local.embed(pattern(8), id)).rejects.toMatchObject({ code: 'MODEL_NOT_LOADED' });
    await local.loadModel(id);
    expect(Array.from((await local.embed(pattern(8), id)).embedding)).toEqual(Array.from(first.embedding));
  });
});

describe('model integrity', () => {
  const folder = mkdtempSync(path.join(tmpdir(), 'rclip-tampered-'));

  beforeAll(() => {
    const index = JSON.parse(readFileSync(path.join(MODELS, 'index.json'), 'utf8'));
    const id: string = index.default;
    mkdirSync(path.join(folder, id));
    for (const f of ['manifest.json', 'encoder.onnx']) copyFileSync(path.join(MODELS, id, f), path.join(folder, id, f));
    writeFileSync(path.join(folder, 'index.json'), JSON.stringify(index));
    // Flip one byte in the middle of the weights: same size, different hash.
    const enc = readFileSync(path.join(folder, id, 'encoder.onnx'));
    enc[enc.length >> 1] ^= 0xff;
    writeFileSync(path.join(folder, id, 'encoder.onnx'), enc);
  });

  it('refuses a model whose bytes do not match the manifest sha256, before creating a session', async () => {
    const engine = wasmEngine(folder);
    const err = await engine.loadModel((await engine.index()).default).catch((e) => e);
    expect(err.code).toBe('MODEL_INTEGRITY');
    expect(err.message).toMatch(/does not match its sha256/);
  });

  it('says which folder is missing', async () => {
    const engine = wasmEngine(path.join(folder, 'nowhere'));
    await expect(engine.index()).rejects.toMatchObject({ code: 'MODEL_NOT_FOUND', message: expect.stringMatching(/index.json does not exist/) });
  });

  it('refuses to attack a model that ships no attack.onnx, and still embeds with it', async () => {
    const noAttack = mkdtempSync(path.join(tmpdir(), 'rclip-no-attack-'));
    const index = JSON.parse(readFileSync(path.join(MODELS, 'index.json'), 'utf8'));
    const id: string = index.default;
    mkdirSync(path.join(noAttack, id));
    copyFileSync(path.join(MODELS, id, 'encoder.onnx'), path.join(noAttack, id, 'encoder.onnx'));
    const manifest = JSON.parse(readFileSync(path.join(MODELS, id, 'manifest.json'), 'utf8'));
    delete manifest.files.attack;
    writeFileSync(path.join(noAttack, id, 'manifest.json'), JSON.stringify(manifest));
    writeFileSync(path.join(noAttack, 'index.json'), JSON.stringify(index));
    const engine = wasmEngine(noAttack);
    await engine.loadModel(id);
    await expect(engine.attackSession(id)).rejects.toMatchObject({ code: 'ATTACK_UNAVAILABLE', message: expect.stringMatching(/ships no attack graph/) });
    expect((await engine.embed(pattern(1), id)).embedding.length).toBe(manifest.embeddingSize);
  });

  it('has the models it tests', () => {
    expect(existsSync(path.join(MODELS, 'index.json'))).toBe(true);
  });
});
