/**
 * Bad files in bulk, as users run rclip (bin/rclip.mjs, the shipped default model): a folder of real
 * photos (../shared/data/imagenet-sample) with corrupt, truncated, empty and mislabelled files among
 * them. Every readable file is embedded, every unreadable one is reported with its code (JSON and
 * stderr) and the exit status is 3; --strict stops at the first one with exit 1.
 */
import { copyFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import { createNodeEngine } from '../src/engine/node';
import { json, runRclip, type Run } from './fixtures/rclip-cli';

const root = path.resolve(__dirname, '..');
const photos = path.resolve(root, '../shared/data/imagenet-sample');
const haveData = existsSync(photos);
const index = JSON.parse(readFileSync(path.join(root, 'public/models/index.json'), 'utf8'));

let dir: string;

const rclip = (...args: string[]) => runRclip(path.join(dir, 'cache'), args);

/** The bad files and the code each must be reported with. */
const BAD: Record<string, string> = {
  'b-empty.jpg': 'IMAGE_EMPTY',
  'c-notes.jpg': 'IMAGE_UNSUPPORTED_FORMAT',
  'd-corrupt.jpg': 'IMAGE_DECODE_FAILED',
  'e-truncated.jpg': 'IMAGE_DECODE_FAILED',
  'f-truncated.png': 'IMAGE_DECODE_FAILED',
};
/** Readable files: photos as they are, and a PNG under a .jpg name (decoding goes by content, not by name). */
let good: string[];
let folder: string;

describe.skipIf(!haveData)('folder commands with unreadable files among good ones (needs ../shared/data/imagenet-sample)', () => {
  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'rclip-bad-'));
    folder = path.join(dir, 'mixed');
    mkdirSync(folder);
    const sources = readdirSync(photos).sort().slice(0, 5).map((n) => path.join(photos, n));
    sources.forEach((src, i) => copyFileSync(src, path.join(folder, `a-photo${i}.jpg`)));
    await sharp(sources[0]).png().toFile(path.join(folder, 'g-png-named.jpg'));
    const photo = readFileSync(sources[1]);
    writeFileSync(path.join(folder, 'b-empty.jpg'), Buffer.alloc(0));
    writeFileSync(path.join(folder, 'c-notes.jpg'), 'these are my notes, not a picture\n');
    writeFileSync(path.join(folder, 'd-corrupt.jpg'), Buffer.concat([photo.subarray(0, 4), Buffer.alloc(4000, 0x5a)]));
    writeFileSync(path.join(folder, 'e-truncated.jpg'), photo.subarray(0, photo.length >> 1));
    const png = await sharp(sources[2]).png().toBuffer();
    writeFileSync(path.join(folder, 'f-truncated.png'), png.subarray(0, png.length >> 1));
    good = ['a-photo0.jpg', 'a-photo1.jpg', 'a-photo2.jpg', 'a-photo3.jpg', 'a-photo4.jpg', 'g-png-named.jpg'].map((n) => path.join(folder, n));
  });

  /** Each skipped file on one stderr line of its own, naming its code and its path once. */
  const expectSkipLines = (stderr: string, skipped: Array<{ file: string; code: string }>) => {
    for (const s of skipped) {
      const lines = stderr.split('\n').filter((l) => l.includes(s.file));
      expect(lines, s.file).toHaveLength(1);
      expect(lines[0]).toContain(`skipped [${s.code}]`);
      expect(lines[0].split(s.file)).toHaveLength(2);
    }
  };

  const expectSkipped = (r: Run, skipped: Array<{ file: string; code: string; message: string }>) => {
    expect(Object.fromEntries(skipped.map((s) => [path.basename(s.file), s.code]))).toEqual(BAD);
    for (const s of skipped) expect(s.message.length).toBeGreaterThan(10);
    expectSkipLines(r.stderr, skipped);
    expect(r.stderr).toContain(`${Object.keys(BAD).length} file(s) could not be read and were skipped`);
  };

  it('rclip embed: every good file embedded (equal to embedding it alone), every bad one reported with its code, exit 3', async () => {
    const out = path.join(dir, 'mixed.jsonl');
    const r = await rclip('embed', folder, '--out', out, '--json');
    expect(r.code, r.stderr).toBe(3);
    const summary = json(r);
    expect(summary.images).toBe(good.length);
    expectSkipped(r, summary.skipped);
    const rows = readFileSync(out, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(rows.map((row) => row.file)).toEqual(good);
    const engine = createNodeEngine();
    await engine.loadModel(index.default);
    for (const row of rows) {
      const alone = (await engine.embed(row.file, index.default)).embedding;
      expect(Math.max(...row.embedding.map((v: number, i: number) => Math.abs(v - alone[i])))).toBeLessThan(1e-6);
    }
  });

  it('rclip embed --strict stops at the first unreadable file with exit 1 and writes nothing', async () => {
    const out = path.join(dir, 'strict.npy');
    const r = await rclip('embed', folder, '--out', out, '--strict', '--json');
    expect(r.code, r.stderr).toBe(1);
    expect(json(r).error.code).toBe('IMAGE_EMPTY');
    expect(existsSync(out)).toBe(false);
  });

  it('rclip dedupe groups the good files and reports the bad ones, exit 3', async () => {
    const r = await rclip('dedupe', folder, '--json');
    expect(r.code, r.stderr).toBe(3);
    const out = json(r);
    expect(out.images).toBe(good.length);
    expectSkipped(r, out.skipped);
    // The PNG is a lossless copy of photo 0: the one group.
    expect(out.groups.map((g: { files: string[] }) => g.files.map((f) => path.basename(f)).sort())).toEqual([['a-photo0.jpg', 'g-png-named.jpg']]);
  });

  it('rclip match: unreadable listed files and queries are reported, the rest matched, also from the store (the unreadable files not tried again)', async () => {
    const queries = [path.join(folder, 'a-photo3.jpg'), path.join(folder, 'c-notes.jpg')];
    for (const again of [false, true]) {
      const r = await rclip('match', ...queries, '--against', folder, '--json');
      expect(r.code, r.stderr).toBe(3);
      const out = json(r);
      // The store keeps unreadable files as error rows, reused like the good ones while they do not change.
      if (again) expect(out.store.embedded_now).toBe(0);
      expect(out.listed).toBe(good.length);
      expect(out.results).toEqual([expect.objectContaining({ file: queries[0], nearest: queries[0], match: true })]);
      // The listed folder's five, then the bad query.
      expect(out.skipped.map((s: { file: string; code: string }) => [path.basename(s.file), s.code])).toEqual([...Object.entries(BAD), ['c-notes.jpg', 'IMAGE_UNSUPPORTED_FORMAT']]);
    }
  });

  it('rclip match counts over the readable queries only: 1 of 1 readable, the missing and the text file skipped', async () => {
    const queries = [path.join(folder, 'a-photo3.jpg'), path.join(dir, 'missing.jpg'), path.join(dir, 'query-notes.jpg')];
    writeFileSync(queries[2], 'a shopping list, not a picture\n');
    const r = await rclip('match', ...queries, '--against', folder);
    expect(r.code, r.stderr).toBe(3);
    expect(r.stdout.split('\n')[0]).toMatch(/^1 of 1 readable image\(s\) match a listed image at distance ≤ [\d.]+ \(2 unreadable queries skipped; 5 unreadable listed file\(s\) left out\)\.$/);
    expect(r.stdout).not.toContain('of 3');
    expectSkipLines(r.stderr, [
      { file: queries[1], code: 'IMAGE_FETCH_FAILED' },
      { file: queries[2], code: 'IMAGE_UNSUPPORTED_FORMAT' },
    ]);
  });

  it('rclip embed --store follows the folder rules (exit 3, "skipped" listed), keeps bad files out until they change, and dedupe reuses it', async () => {
    const own = path.join(dir, 'store-folder');
    cpSync(folder, own, { recursive: true, preserveTimestamps: true });
    const store = path.join(dir, 'bad-store');
    const files = readdirSync(own).length;
    const bad = Object.keys(BAD).length;
    const first = await rclip('embed', own, '--store', store, '--json');
    expect(first.code, first.stderr).toBe(3);
    expect(json(first)).toMatchObject({ images: good.length, embedded_now: files, rows: files });
    expectSkipped(first, json(first).skipped);

    // Nothing changed: nothing embedded, no rows appended, the same files reported, by embed and by dedupe through the store.
    const again = await rclip('embed', own, '--store', store, '--json');
    expect(again.code, again.stderr).toBe(3);
    expect(json(again)).toMatchObject({ images: good.length, embedded_now: 0, rows: files });
    expect(json(again).skipped).toEqual(json(first).skipped);
    expectSkipped(again, json(again).skipped);
    const dedupe = await rclip('dedupe', own, '--store', store, '--json');
    expect(dedupe.code, dedupe.stderr).toBe(3);
    expect(json(dedupe).store.embedded_now).toBe(0);
    expectSkipped(dedupe, json(dedupe).skipped);
    const text = await rclip('dedupe', own, '--store', store);
    expect(text.stdout).toContain(': 0 embedded now');
    // --strict stops at a bad file whose error row is still current, as at a fresh one.
    const strict = await rclip('embed', own, '--store', store, '--strict', '--json');
    expect(strict.code).toBe(1);
    expect(json(strict).error.code).toBe(BAD['b-empty.jpg']);

    // A bad file fixed (replaced by a photo: new size and mtime) is tried again, and only it.
    copyFileSync(good[1], path.join(own, 'c-notes.jpg'));
    const fixed = await rclip('embed', own, '--store', store, '--json');
    expect(fixed.code, fixed.stderr).toBe(3);
    expect(json(fixed)).toMatchObject({ images: good.length + 1, embedded_now: 1, rows: files + 1 });
    expect(json(fixed).skipped.map((s: { file: string }) => path.basename(s.file))).toEqual(Object.keys(BAD).filter((n) => n !== 'c-notes.jpg'));
    expect(json(fixed).skipped).toHaveLength(bad - 1);
  });

  it('rclip eval leaves an unreadable evaluation image out of the split, exit 3; --strict exits 1', async () => {
    const evalDir = path.join(dir, 'eval');
    mkdirSync(evalDir);
    // 15 files: sorted indices 4, 9 and 14 are the evaluation split; 9 is truncated.
    const sources = readdirSync(photos).sort().slice(10, 25).map((n) => path.join(photos, n));
    sources.forEach((src, i) => copyFileSync(src, path.join(evalDir, `img${String(i).padStart(2, '0')}.jpg`)));
    const bytes = readFileSync(sources[9]);
    writeFileSync(path.join(evalDir, 'img09.jpg'), bytes.subarray(0, bytes.length >> 1));
    const r = await rclip('eval', '--images', evalDir, '--json');
    expect(r.code, r.stderr).toBe(3);
    const out = json(r);
    expect(out.images).toBe(2);
    expect(out.skipped).toEqual([expect.objectContaining({ file: path.join(evalDir, 'img09.jpg'), code: 'IMAGE_DECODE_FAILED' })]);
    expectSkipLines(r.stderr, out.skipped);
    const strict = await rclip('eval', '--images', evalDir, '--strict');
    expect(strict.code).toBe(1);
    expect(strict.stderr).toContain('IMAGE_DECODE_FAILED');
  });
});
