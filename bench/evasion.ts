/**
 * Blocklist evasion on the evaluation photos: every evaluation photo is listed; each one is
 * then "uploaded" and evaded with --attack (default APGD-100; pgd = PGD-10 of step ε/4, the older
 * figures), L∞ push-apart, seed 0, under each encoder, twice: on the model-size input (the copy is the
 * resized, cropped size×size image) and on the photo at its own size through the preprocessing (the
 * ε ball on the full-size pixels; src/core/preprocess-linear.ts), as an evader who uploads a photo
 * would. Each copy is written as an 8-bit PNG and matched again against the whole list. An evasion succeeds against a
 * filter when no listed image matches the copy any more (encoders: distance ≤ the manifest's
 * calibration.dedupeThreshold; pHash: ≤ 10 of 64 bits). The pHash is attacked two ways: directly with
 * Square (score-based, L∞, --queries per photo, seed 0, on the decoded photo; src/core/phash.ts
 * evadePhash), and by transfer (it is given the baseline-crafted copies, model-size and full-size), each its own column.
 *   nice -n 19 npx tsx bench/evasion.ts [--images ../shared/data/imagenet-sample] [--limit 40] [--eps 4,8] [--attack apgd|pgd] [--queries 1000] [--out FILE]
 * Writes bench/results/evasion.json (or --out).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import sharp from 'sharp';
import { attackLabel } from '../src/core/attack';
import { nearestRow, toMatrix } from '../src/core/nearest';
import type { AttackSize } from '../src/engine/attack';
import { markdownTable } from './markdown';
import { attackListOption } from '../src/core/options';
import { evadePhash, hammingDistance, phash, PHASH_MATCH_BITS } from '../src/core/phash';
import { squareSettings, SQUARE_DEFAULTS } from '../src/core/square';
import { evaluationImageNames } from '../src/core/twoafc';
import type { RgbaImage } from '../src/core/preprocess';
import { decodeImageFile } from '../src/engine/node';
import { folderEntries } from '../src/engine/node-images';
import { embedFiles, openModel } from '../src/engine/node-model';

const { values } = parseArgs({ options: { images: { type: 'string' }, limit: { type: 'string' }, eps: { type: 'string' }, queries: { type: 'string' }, out: { type: 'string' }, attack: { type: 'string' } } });
const queries = values.queries ? Number(values.queries) : SQUARE_DEFAULTS.queries;
const dir = values.images ?? path.resolve(import.meta.dirname, '../../shared/data/imagenet-sample');
const names = evaluationImageNames(folderEntries(dir), values.limit ? Number(values.limit) : undefined);
const files = names.map((n) => path.join(dir, n));
const epsList = (values.eps ?? '4,8').split(',').map(Number);
const attacksAt = (eps: number) => attackListOption('attack', values.attack, 'apgd', eps, 0);
if (attacksAt(1 / 255).length !== 1) throw new Error('--attack takes one attack here (apgd, pgd, apgd-50, …): the table has one evasion rate per radius.');

const robust = await openModel(undefined);
const index = await robust.engine.index();
const baseline = await openModel(index.baseline);
const encoders = { robust, baseline };
const lists = {
  robust: toMatrix((await embedFiles(robust, files, { strict: true })).embeddings),
  baseline: toMatrix((await embedFiles(baseline, files, { strict: true })).embeddings),
};
const hashes = await Promise.all(files.map(async (f) => phash(await decodeImageFile(f))));
const threshold = { robust: robust.info.manifest.calibration!.dedupeThreshold, baseline: baseline.info.manifest.calibration!.dedupeThreshold };

async function png(rgba: RgbaImage): Promise<Uint8Array> {
  return new Uint8Array(await sharp(Buffer.from(rgba.data), { raw: { width: rgba.width, height: rgba.height, channels: 4 } }).png().toBuffer());
}

const results: Record<string, unknown> = {};
for (const eps255 of epsList) {
  const eps = eps255 / 255;
  const [settings] = attacksAt(eps);
  const evaded = { robust: 0, baseline: 0, robust_full: 0, baseline_full: 0, phash: 0, phash_full: 0, phashSquare: 0 };
  const seconds = { robust: 0, baseline: 0, robust_full: 0, baseline_full: 0 };
  const cleanMatched = { robust: 0, baseline: 0, phash: 0 };
  const square = { queries: 0, seconds: 0, bits: 0 };
  const t0 = Date.now();
  for (let i = 0; i < files.length; i++) {
    const image = await decodeImageFile(files[i]);
    const baselinePng: Partial<Record<AttackSize, Uint8Array>> = {};
    for (const side of ['robust', 'baseline'] as const) {
      const m = encoders[side];
      const clean = nearestRow((await embedFiles(m, [files[i]], { strict: true })).embeddings[0], lists[side]);
      if (clean.distance <= threshold[side]) cleanMatched[side]++;
      for (const size of ['model', 'full'] as const) {
        const key = size === 'full' ? (`${side}_full` as const) : side;
        const a0 = Date.now();
        const out = await m.engine.attackDecoded(image, null, { model: m.ref, objective: 'push-apart', settings, size });
        seconds[key] += (Date.now() - a0) / 1000;
        const bytes = await png(out.fullSize?.rgba ?? out.adversarialRgba);
        if (side === 'baseline') baselinePng[size] = bytes;
        const [emb] = await m.engine.embedPixels(m.ref, [await m.engine.pixelsFor(m.ref, await decodeImageFile(bytes))]);
        if (nearestRow(emb, lists[side]).distance > threshold[side]) evaded[key]++;
      }
    }
    if (Math.min(...hashes.map((h) => hammingDistance(h, hashes[i]))) <= PHASH_MATCH_BITS) cleanMatched.phash++;
    for (const size of ['model', 'full'] as const) {
      const h = phash(await decodeImageFile(baselinePng[size]!));
      if (Math.min(...hashes.map((x) => hammingDistance(x, h))) > PHASH_MATCH_BITS) evaded[size === 'full' ? 'phash_full' : 'phash']++;
    }
    const s0 = Date.now();
    const attacked = await evadePhash(image, hashes, squareSettings(eps, queries, 0));
    square.seconds += (Date.now() - s0) / 1000;
    square.queries += attacked.queries;
    // Judged on the copy as an upload would carry it: the 8-bit PNG, decoded again.
    const hs = phash(await decodeImageFile(await png(attacked.adversarial)));
    const bits = Math.min(...hashes.map((x) => hammingDistance(x, hs)));
    square.bits += bits;
    if (bits > PHASH_MATCH_BITS) evaded.phashSquare++;
  }
  const n = files.length;
  results[`${eps255}/255`] = {
    n,
    attack: { label: attackLabel(settings), ...settings },
    evasion_rate: {
      robust: evaded.robust / n,
      baseline: evaded.baseline / n,
      robust_full_size: evaded.robust_full / n,
      baseline_full_size: evaded.baseline_full / n,
      phash_square: evaded.phashSquare / n,
      phash_transfer_from_baseline: evaded.phash / n,
      phash_transfer_from_baseline_full_size: evaded.phash_full / n,
    },
    clean_matched: cleanMatched,
    attack_seconds_per_photo: { robust: seconds.robust / n, baseline: seconds.baseline / n, robust_full_size: seconds.robust_full / n, baseline_full_size: seconds.baseline_full / n },
    phash_square: { queries_budget: queries, mean_queries: square.queries / n, mean_bits_to_nearest_listed: square.bits / n, seconds_per_photo: square.seconds / n },
    seconds: (Date.now() - t0) / 1000,
  };
  console.log(JSON.stringify({ eps: `${eps255}/255`, ...(results[`${eps255}/255`] as object) }));
}
const pct = (rate: number, n: number) => `${(100 * rate).toFixed(1)} % (${Math.round(rate * n)}/${n})`;
console.log(
  markdownTable(
    ['ε (L∞)', 'attack', 'copy', 'robust encoder', 'baseline encoder', 'pHash (baseline copy, transfer)', 'attack s / photo (robust, baseline)'],
    Object.entries(results).flatMap(([eps, r]) => {
      const { n, attack, evasion_rate: e, attack_seconds_per_photo: t } = r as { n: number; attack: { label: string }; evasion_rate: Record<string, number>; attack_seconds_per_photo: Record<string, number> };
      return (['model', 'full'] as const).map((size) => {
        const suffix = size === 'full' ? '_full_size' : '';
        return [eps, attack.label, size === 'full' ? 'full size' : 'model size', pct(e[`robust${suffix}`], n), pct(e[`baseline${suffix}`], n), pct(e[`phash_transfer_from_baseline${suffix}`], n), `${t[`robust${suffix}`].toFixed(1)}, ${t[`baseline${suffix}`].toFixed(1)}`];
      });
    }),
  ),
);
const report = {
  date: new Date().toISOString(),
  models: { robust: robust.info.id, baseline: baseline.info.id },
  threshold,
  phash_bits: PHASH_MATCH_BITS,
  phash_square: { queries, seed: 0, p_init: SQUARE_DEFAULTS.pInit, note: 'Square Attack (L∞) on the decoded photo against every listed pHash (src/core/phash.ts evadePhash)' },
  copies: 'evasion_rate robust/baseline: copies at the model input size (the attack on the resized, cropped pixels); *_full_size: copies at the photo\'s own size (the attack through the preprocessing, ε on the full-size pixels)',
  images: dir,
  results,
};
const out = path.resolve(values.out ?? path.join(import.meta.dirname, 'results/evasion.json'));
mkdirSync(path.dirname(out), { recursive: true });
writeFileSync(out, `${JSON.stringify(report, null, 1)}\n`);
console.log(`written: ${path.relative(process.cwd(), out)}`);
