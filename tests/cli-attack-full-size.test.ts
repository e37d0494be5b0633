/**
 * `rclip attack --size full` as a user runs it (bin/rclip.mjs, the shipped pair, a real photo from
 * ../shared/data/imagenet-sample): the copy has the photo's size, and at L∞ 2/255 (APGD-100, push
 * away from the original) the baseline no longer matches it while the robust model still matches
 * its own white-box copy and the baseline's. "Matches" is `rclip match` against a list holding the
 * original, at each manifest's calibration.dedupeThreshold. Also the attack command's progress and
 * its warning for a large L∞ radius (on the bundled sample).
 */
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import { json, runRclip } from './fixtures/rclip-cli';
import { evaluationPhotoPaths, missingPhotos } from './evaluation-photos';

const root = path.resolve(__dirname, '..');
const models = path.join(root, 'public/models');
const index = JSON.parse(readFileSync(path.join(models, 'index.json'), 'utf8'));
const threshold = (id: string): number => JSON.parse(readFileSync(path.join(models, id, 'manifest.json'), 'utf8')).calibration.dedupeThreshold;
const sunset = path.join(root, 'public/samples/sunset.jpg');

let dir: string;
let cache: string;
const rclip = (...args: string[]) => runRclip(cache, args);

beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'rclip-full-size-'));
  cache = path.join(dir, 'cache');
});

describe.skipIf(missingPhotos !== null)(`rclip attack --size full on a real photo${missingPhotos ? ` (skipped: ${missingPhotos})` : ''}`, () => {
  let photo: string;
  let list: string;
  const copies: Record<string, string> = {};

  beforeAll(async () => {
    [photo] = evaluationPhotoPaths(1);
    list = path.join(dir, 'list');
    mkdirSync(list);
    copyFileSync(photo, path.join(list, path.basename(photo)));
    for (const model of [index.baseline, index.default]) {
      copies[model] = path.join(dir, `apgd-${model}.png`);
      // --size full is the default: not passed, as a user would not.
      const r = await rclip('attack', photo, '--model', model, '--method', 'apgd', '--eps', '2/255', '--out', copies[model], '--json');
      expect(r.code, r.stderr).toBe(0);
      expect(json(r)).toMatchObject({ size: 'full', objective: 'push-apart', settings: { method: 'apgd', steps: 100, eps: 2 / 255 } });
    }
  }, 240_000);

  const matchOf = async (copy: string, model: string) => {
    const r = await rclip('match', copy, '--against', list, '--model', model, '--json');
    expect(r.code, r.stderr).toBe(0);
    const out = json(r);
    expect(out.threshold).toBe(threshold(model));
    return out.results[0] as { nearest: string; distance: number; match: boolean };
  };

  it('writes PNGs of the photo’s own size', async () => {
    const original = await sharp(photo).metadata();
    for (const copy of Object.values(copies)) {
      const meta = await sharp(copy).metadata();
      expect(meta.format).toBe('png');
      expect([meta.width, meta.height]).toEqual([original.width, original.height]);
    }
  });

  it('at L∞ 2/255 the baseline no longer matches its copy; the robust model matches its own copy and the baseline’s', async () => {
    const baselineOnOwn = await matchOf(copies[index.baseline], index.baseline);
    const robustOnOwn = await matchOf(copies[index.default], index.default);
    const robustOnBaselines = await matchOf(copies[index.baseline], index.default);
    console.info(
      `${path.basename(photo)} at L∞ 2/255 (APGD-100, full size): baseline on its copy d = ${baselineOnOwn.distance.toFixed(4)} (threshold ${threshold(index.baseline)}), ` +
        `robust on its copy d = ${robustOnOwn.distance.toFixed(4)}, on the baseline's d = ${robustOnBaselines.distance.toFixed(4)} (threshold ${threshold(index.default)})`,
    );
    expect(baselineOnOwn.match).toBe(false);
    expect(baselineOnOwn.distance).toBeGreaterThan(threshold(index.baseline));
    expect(robustOnOwn.match).toBe(true);
    expect(robustOnBaselines.match).toBe(true);
  });
});

describe('rclip attack: progress, radius warning, --size', () => {
  it('a 10-step attack’s progress ends at 10/10; --eps 0.5 under L∞ warns on stderr, 4/255 does not; --size takes full or model', async () => {
    const out = path.join(dir, 'steps.png');
    const r = await rclip('attack', sunset, '--model', index.default, '--steps', '10', '--out', out);
    expect(r.code, r.stderr).toBe(0);
    const counts = [...r.stderr.matchAll(/attack steps: (\d+)\/(\d+)/g)].map((m) => [Number(m[1]), Number(m[2])]);
    expect(counts.at(-1)).toEqual([10, 10]);
    expect(counts.every(([done, total]) => done <= total && total === 10)).toBe(true);
    expect(r.stderr).not.toContain('warning');

    const loud = await rclip('attack', sunset, '--model', index.default, '--steps', '1', '--eps', '0.5', '--out', out);
    expect(loud.code, loud.stderr).toBe(0);
    expect(loud.stderr).toMatch(/warning: --eps 0\.5 under L∞ lets every pixel move by 127\.5\/255, above 16\/255/);
    // An L2 radius of 0.5 is the L2 default, not a mistake.
    expect((await rclip('attack', sunset, '--model', index.default, '--steps', '1', '--norm', 'l2', '--eps', '0.5', '--out', out)).stderr).not.toContain('warning');

    const bad = await rclip('attack', sunset, '--size', 'half', '--out', out);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--size must be one of full, model');
  }, 120_000);
});
