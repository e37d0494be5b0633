/**
 * `rclip match` and `rclip attack` as users run them (bin/rclip.mjs, the shipped models, real files).
 * Model-agnostic: thresholds come from each manifest, and assertions are relations between the robust
 * model and the baseline, not one model's figures.
 */
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, utimesSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import { json, runRclip } from './fixtures/rclip-cli';

const root = path.resolve(__dirname, '..');
const models = path.join(root, 'public/models');
const index = JSON.parse(readFileSync(path.join(models, 'index.json'), 'utf8'));
const manifest = (id: string) => JSON.parse(readFileSync(path.join(models, id, 'manifest.json'), 'utf8'));
const sunset = path.join(root, 'public/samples/sunset.jpg');
const meadow = path.join(root, 'public/samples/meadow.jpg');

let dir: string;
let cache: string;

const rclip = (...args: string[]) => runRclip(cache, args);

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'rclip-apps-'));
  cache = path.join(dir, 'cache');
  mkdirSync(path.join(dir, 'list'));
  copyFileSync(sunset, path.join(dir, 'list', 'sunset.jpg'));
  copyFileSync(meadow, path.join(dir, 'list', 'meadow.jpg'));
  // The query: a half-size re-encode of a listed photo (what dedupe's calibrated threshold is for).
  const width = (await sharp(meadow).metadata()).width ?? 256;
  await sharp(meadow).resize({ width: Math.round(width / 2) }).jpeg({ quality: 80 }).toFile(path.join(dir, 'meadow-small.jpg'));
});

describe('rclip match', () => {
  it('finds the listed image a re-encoded copy comes from, at each model’s calibrated threshold', async () => {
    for (const model of [index.default, index.baseline]) {
      const r = await rclip('match', path.join(dir, 'meadow-small.jpg'), '--against', path.join(dir, 'list'), '--model', model, '--json');
      expect(r.code, r.stderr).toBe(0);
      const out = json(r);
      expect(out.threshold).toBe(manifest(model).calibration.dedupeThreshold);
      expect(out.listed).toBe(2);
      expect(path.basename(out.results[0].nearest)).toBe('meadow.jpg');
      expect(out.results[0].match).toBe(true);
      expect(out.results[0].distance).toBeLessThanOrEqual(out.threshold);
    }
  });

  it('keeps the folder in a store and embeds only the file that was touched or added', async () => {
    const list = path.join(dir, 'list');
    const q = path.join(dir, 'meadow-small.jpg');
    const first = json(await rclip('match', q, '--against', list, '--json'));
    const second = json(await rclip('match', q, '--against', list, '--json'));
    expect(second.store.embedded_now).toBe(0);
    expect(second.results).toEqual(first.results);
    const later = new Date(Date.now() + 5000);
    utimesSync(path.join(list, 'sunset.jpg'), later, later);
    expect(json(await rclip('match', q, '--against', list, '--json')).store.embedded_now).toBe(1);
    copyFileSync(q, path.join(list, 'copy.jpg'));
    const grown = json(await rclip('match', q, '--against', list, '--json'));
    expect(grown.store.embedded_now).toBe(1);
    expect(grown.listed).toBe(3);
    expect(path.basename(grown.results[0].nearest)).toBe('copy.jpg');
    expect(grown.results[0].distance).toBeLessThan(1e-5);
  });

  it('--threshold 0 matches nothing but the identical file; usage errors exit 2', async () => {
    const list = path.join(dir, 'list-exact');
    mkdirSync(list);
    copyFileSync(meadow, path.join(list, 'meadow.jpg'));
    const r = json(await rclip('match', meadow, path.join(dir, 'meadow-small.jpg'), '--against', list, '--threshold', '0.0000001', '--json'));
    expect(r.results.map((x: { match: boolean }) => x.match)).toEqual([true, false]);
    expect((await rclip('match', meadow)).code).toBe(2);
    expect((await rclip('match', meadow, '--against', meadow)).code).toBe(2);
    expect((await rclip('match', '--help')).stdout).toContain('Usage: rclip match');
  });
});

describe('rclip attack --method apgd', () => {
  it('reaches at least PGD-10 on the robust default with 2 restarts of 10 iterations, and reports the settings', async () => {
    const run = async (...extra: string[]) => json(await rclip('attack', sunset, '--model', index.default, '--out', path.join(dir, `m-${extra.join('')}.png`), ...extra, '--json'));
    const pgd = await run('--steps', '10');
    const apgd = await run('--method', 'apgd', '--steps', '10', '--restarts', '2');
    expect(apgd.settings).toMatchObject({ method: 'apgd', steps: 10, restarts: 2 });
    expect(apgd.settings.stepSize).toBeCloseTo(8 / 255, 12);
    expect(apgd.attacked.after).toBeGreaterThanOrEqual(pgd.attacked.after);
  }, 120_000);
});

describe('rclip attack', () => {
  const attacked: Record<string, { out: string; written: number; after: number; size: number }> = {};

  beforeAll(async () => {
    for (const model of [index.default, index.baseline]) {
      const out = path.join(dir, `adv-${model}.png`);
      const r = await rclip('attack', sunset, '--model', model, '--eps', '4/255', '--steps', '10', '--size', 'model', '--out', out, '--json');
      expect(r.code, r.stderr).toBe(0);
      const o = json(r);
      attacked[model] = { out, written: o.attacked.written, after: o.attacked.after, size: o.width };
    }
  }, 240_000);

  it('with --size model, writes a lossless PNG at the model’s input size, and says so', async () => {
    for (const model of [index.default, index.baseline]) {
      const meta = await sharp(attacked[model].out).metadata();
      expect(meta.format).toBe('png');
      expect(meta.width).toBe(manifest(model).input.size);
      expect(meta.height).toBe(manifest(model).input.size);
    }
    const r = await rclip('attack', sunset, '--model', index.baseline, '--steps', '1', '--size', 'model', '--out', path.join(dir, 'x.png'));
    expect(r.stdout).toMatch(/PNG \(lossless\).*input size/);
    expect((await rclip('attack', '--help')).stdout).toContain("MODEL'S INPUT SIZE");
  });

  it('a pushed copy moves further under the baseline than under the robust model', () => {
    expect(attacked[index.baseline].written).toBeGreaterThan(attacked[index.default].written);
    expect(attacked[index.default].written).toBeGreaterThan(0);
  });

  it('the PNG reloads to the same distance, within the 8-bit rounding', async () => {
    for (const model of [index.default, index.baseline]) {
      const d = json(await rclip('distance', attacked[model].out, sunset, '--model', model, '--json')).distance;
      // The file re-read by another process gives exactly what the command reported for it...
      expect(Math.abs(d - attacked[model].written)).toBeLessThan(1e-5);
      // ...and that differs from the float attack's by the rounding of each pixel to 1/255 (≤ 1/510 per pixel).
      expect(Math.abs(d - attacked[model].after)).toBeLessThan(0.01 + 0.05 * attacked[model].after);
    }
  });

  it('pull brings the copy closer to the target, push with --target moves it away from it; bad --out and --objective pull without --target exit 2', async () => {
    const r = json(await rclip('attack', sunset, '--target', meadow, '--model', index.baseline, '--out', path.join(dir, 'pull.png'), '--json'));
    expect(r.objective).toBe('pull-together');
    expect(r.attacked.written).toBeLessThan(r.attacked.clean);
    const away = json(await rclip('attack', sunset, '--target', meadow, '--objective', 'push', '--model', index.baseline, '--steps', '3', '--out', path.join(dir, 'away.png'), '--json'));
    expect(away.objective).toBe('push-from-target');
    expect(away.attacked.written).toBeGreaterThan(away.attacked.clean);
    expect((await rclip('attack', sunset, '--out', path.join(dir, 'x.jpg'))).code).toBe(2);
    const method = await rclip('attack', sunset, '--method', 'cw', '--out', path.join(dir, 'x.png'));
    expect(method.code).toBe(2);
    expect(method.stderr).toContain('--method must be one of fgsm, pgd, apgd');
    expect((await rclip('attack', sunset, '--method', 'apgd', '--restarts', '0', '--out', path.join(dir, 'x.png'))).stderr).toContain('--restarts must be a whole number ≥ 1');
    expect((await rclip('attack', sunset, '--objective', 'pull', '--out', path.join(dir, 'x.png'))).code).toBe(2);
  });
});

describe('rclip attack --method square', () => {
  it('pushes the copy away through the embeddings alone within its query budget, and refuses PGD-only options', async () => {
    const out = path.join(dir, 'square.png');
    const r = await rclip('attack', sunset, '--method', 'square', '--queries', '60', '--model', index.baseline, '--out', out, '--json');
    expect(r.code, r.stderr).toBe(0);
    const o = json(r);
    expect(o).toMatchObject({ method: 'square', queries: 60, objective: 'push-apart', settings: { queries: 60, eps: 4 / 255 } });
    expect(o.attacked.clean).toBeLessThan(1e-4);
    expect(o.attacked.after).toBeGreaterThan(0.01);
    // The PNG as written, re-read by another process, is what the command reported for it.
    const d = json(await rclip('distance', out, sunset, '--model', index.baseline, '--json')).distance;
    expect(Math.abs(d - o.attacked.written)).toBeLessThan(1e-5);
    expect((await rclip('attack', '--help')).stdout).toContain('--method');
    expect((await rclip('attack', sunset, '--method', 'square', '--norm', 'l2', '--out', path.join(dir, 'x.png'))).code).toBe(2);
    expect((await rclip('attack', sunset, '--method', 'square', '--steps', '5', '--out', path.join(dir, 'x.png'))).code).toBe(2);
    expect((await rclip('attack', sunset, '--queries', '5', '--out', path.join(dir, 'x.png'))).code).toBe(2);
    expect((await rclip('attack', sunset, '--method', 'nope', '--out', path.join(dir, 'x.png'))).code).toBe(2);
  }, 120_000);
});
