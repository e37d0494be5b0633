/**
 * `rclip eval --dataset` as users run it (a real process, the shipped models) on folders in the
 * publishers' layouts made from the shared photos; the runner's resumable partial results; and the
 * two real example triplets of ../shared/data/2afc-examples.
 */
import { copyFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { attackSettings } from '../src/core/attack';
import { type IqaItemResult, type IqaSummary, type TwoAfcItemResult } from '../src/core/human-judgements';
import { paperL2Eps } from '../src/core/options';
import { closeDecodePool } from '../src/engine/node-decode-pool';
import { readHumanDataset, runHumanDataset, type RunKey } from '../src/engine/human-datasets';
import { openModel, twoAfcModel } from '../src/engine/node-model';
import { missingPhotos } from './evaluation-photos';
import { makeBapps, makeKadid, makeNights, makeTid2013, NIGHTS_HEADER, npyOf } from './fixtures/human-datasets';
import { json, runRclip } from './fixtures/rclip-cli';

const root = path.resolve(__dirname, '..');
const index = JSON.parse(readFileSync(path.join(root, 'public/models/index.json'), 'utf8'));
const inputSize = (id: string): number => JSON.parse(readFileSync(path.join(root, 'public/models', id, 'manifest.json'), 'utf8')).input.size;
const EXAMPLES = path.resolve(root, '../shared/data/2afc-examples');

let dir: string;
const rclip = (...args: string[]) => runRclip(path.join(dir, 'cache'), args);

beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'rclip-eval-datasets-'));
});
afterAll(() => closeDecodePool());

describe.skipIf(missingPhotos !== null)(`rclip eval --dataset on the publishers' layouts${missingPhotos ? ` (skipped: ${missingPhotos})` : ''}`, () => {
  beforeAll(async () => {
    await makeNights(path.join(dir, 'nights'), 4);
    await makeBapps(path.join(dir, 'bapps'), 2);
    await makeTid2013(path.join(dir, 'tid2013'), 2, 3);
    await makeKadid(path.join(dir, 'kadid10k'), 2, 3);
  }, 60_000);

  it('NIGHTS, APGD-100 at L2: the table with the published rows, the radius scaled to the model and said so; JSON and Markdown files', async () => {
    const out = path.join(dir, 'results/nights-l2.json');
    const r = await rclip('eval', '--dataset', 'nights', path.join(dir, 'nights'), '--attack', 'apgd', '--norm', 'l2', '--limit', '2', '--out', out);
    expect(r.code, r.stderr).toBe(0);
    const size = inputSize(index.default);
    expect(r.stdout).toContain(`NIGHTS at ${path.join(dir, 'nights')}: 2 triplets (the first 2), model ${index.default} (${size} px)`);
    expect(r.stdout).toMatch(new RegExp(`\\| \\*\\*${index.default}\\*\\* \\(this run\\) \\| 2 \\| [0-9.]+ \\[[0-9.]+, [0-9.]+\\] \\| — \\| [0-9.]+ \\[`));
    expect(r.stdout).toContain('| R-CLIP_T (ConvNeXt-B, TeCoA; zero-shot) | — | 92.3 | 81.9 | 78.5 | [1] |');
    expect(r.stdout).toContain('| R-LPIPS (AlexNet; Ghazanfari et al. 2023) | — | 71.6 | 16.2 | 26.9 | [1] |');
    expect(r.stdout).toMatch(/\n\[1\] Croce, Schlarmann, Singh, Hein/);
    expect(r.stdout).toContain(`Attack: APGD-100 L2 ε=${paperL2Eps(size).toFixed(4)} (the paper's 3.0 at 224 px, scaled by √(pixels ratio) = ${size}/224`);
    expect(r.stderr).toMatch(/eval nights .*: 2\/2/);
    const result = JSON.parse(readFileSync(out, 'utf8'));
    expect(result.attack).toMatchObject({ method: 'apgd', norm: 'l2', steps: 100, paper_threat: true });
    expect(result.attack.eps).toBeCloseTo(paperL2Eps(size), 12);
    expect(result.summary.n).toBe(2);
    expect(result.summary.robust.value).toBeLessThanOrEqual(result.summary.clean.value);
    expect(result.results.map((x: { id: string }) => x.id)).toEqual(['0', '1']);
    expect(readFileSync(out.replace(/\.json$/, '.md'), 'utf8')).toContain('| R-CLIP_T (ConvNeXt-B, TeCoA; zero-shot) |');
    expect(existsSync(`${out}.partial`)).toBe(false);
  }, 240_000);

  it('BAPPS: per category, and a note where no published figure could be sourced; a shorter attack stays out of the paper columns', async () => {
    const r = await rclip('eval', '--dataset', 'bapps', path.join(dir, 'bapps'), '--attack', 'apgd', '--steps', '10');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/\| \*\*rclip-mnv2-robust\*\* \(this run\) \| 4 \| [0-9.]+ \[[0-9.]+, [0-9.]+\] \| — \| — \| measured now \|/);
    expect(r.stdout).toMatch(/\| rclip-mnv2-robust: cnn \| 2 \|/);
    expect(r.stdout).toMatch(/\| rclip-mnv2-robust: traditional \| 2 \|/);
    expect(r.stdout).toContain('No published BAPPS 2AFC figure could be sourced');
    expect(r.stdout).toMatch(/Attack: APGD-10 L∞ ε=4\/255; not the paper's threat, so outside its columns: [0-9.]+ \[/);
  }, 120_000);

  it('TID2013 (BMP files, mixed-case names) and KADID-10k: SRCC / KRCC / PLCC with intervals, under attack too, beside the published rows', async () => {
    const tid = await rclip('eval', '--dataset', 'tid2013', path.join(dir, 'tid2013'), '--attack', 'apgd', '--steps', '10', '--json');
    expect(tid.code, tid.stderr).toBe(0);
    const t = json(tid);
    expect(t.summary.n).toBe(6);
    for (const c of ['srcc', 'plcc', 'krcc']) {
      expect(t.summary.clean[c].value).toBeGreaterThanOrEqual(-1);
      expect(t.summary.clean[c].interval.low).toBeLessThanOrEqual(t.summary.clean[c].value);
      expect(Number.isFinite(t.summary.robust[c].value)).toBe(true);
    }
    expect(t.published.map((p: { metric: string }) => p.metric)).toEqual(['LPIPS (AlexNet)', 'DISTS']);
    const text = await rclip('eval', '--dataset', 'tid2013', path.join(dir, 'tid2013'));
    expect(text.stdout).toContain('| LPIPS (AlexNet) | — | 0.745 | 0.548 | — | — | [1] |');
    expect(text.stdout).toContain('[1] IQA-PyTorch (pyiqa) full-reference benchmark');
    const kadid = await rclip('eval', '--dataset', 'kadid10k', path.join(dir, 'kadid10k'), '--attack', 'apgd', '--norm', 'l2', '--steps', '10');
    expect(kadid.code, kadid.stderr).toBe(0);
    expect(kadid.stdout).toMatch(/\| \*\*rclip-mnv2-robust\*\* \(this run\) \| 6 \| -?[0-9.]+ \[/);
    expect(kadid.stdout).toMatch(/\| LPIPS \(VGG\) \| — \| 0\.720 \| 0\.531 \| — \| — \| \[1\] \|/);
    expect(kadid.stdout).toContain(`Attack: APGD-10 L2 ε=${paperL2Eps(inputSize(index.default)).toFixed(4)}`);
  }, 180_000);

  it('a damaged layout exits 1 with DATASET_INVALID naming what is missing; misused options exit 2', async () => {
    const broken = path.join(dir, 'nights-broken');
    cpSync(path.join(dir, 'nights'), broken, { recursive: true });
    writeFileSync(path.join(broken, 'data.csv'), readFileSync(path.join(broken, 'data.csv'), 'utf8').replace(NIGHTS_HEADER, NIGHTS_HEADER.replace('ref_path', 'reference')));
    const r = await rclip('eval', '--dataset', 'nights', broken);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/error \[DATASET_INVALID\]: .*data\.csv has no column "ref_path"/);
    expect((await rclip('eval', '--dataset', 'imagenet', broken)).code).toBe(2);
    expect((await rclip('eval', '--images', broken, '--split', 'val')).code).toBe(2);
    expect((await rclip('eval', '--dataset', 'tid2013', path.join(dir, 'tid2013'), '--split', 'val')).code).toBe(2);
  }, 60_000);

  it('an interrupted run keeps its done items in the partial file, and the same run picks them up; another run refuses it', async () => {
    const opened = await openModel(undefined);
    const model = await twoAfcModel(opened, false);
    const nights = path.join(dir, 'nights');
    const data = readHumanDataset('nights', nights);
    const key: RunKey = { dataset: 'nights', dir: nights, split: null, model: opened.info.id, encoder_sha256: opened.info.manifest.files.encoder.sha256, attack: null, seed: 0 };
    const file = path.join(dir, 'resume.json.partial');
    const whole = await runHumanDataset(model, nights, data, { attack: null, seed: 0 });
    const stop = new Error('interrupted');
    await expect(
      runHumanDataset(model, nights, data, {
        attack: null,
        seed: 0,
        partial: { file, key },
        onItem: (done) => {
          if (done === 2) throw stop;
        },
      }),
    ).rejects.toBe(stop);
    expect(JSON.parse(readFileSync(file, 'utf8')).results).toHaveLength(2);
    const resumed = await runHumanDataset(model, nights, data, { attack: null, seed: 0, partial: { file, key } });
    expect(resumed.resumed).toBe(2);
    expect(resumed.results).toEqual(whole.results);
    expect(resumed.summary).toEqual(whole.summary);
    await expect(runHumanDataset(model, nights, data, { attack: null, seed: 1, partial: { file, key: { ...key, seed: 1 } } })).rejects.toThrow(/are from another run/);
  }, 120_000);

  it('attacks move each item the way its definition says: IQA distances away from people\'s order, 2AFC scores only down', async () => {
    const model = await twoAfcModel(await openModel(undefined), true);
    const attack = attackSettings('apgd', 'linf', 4 / 255, 5);
    const tid = path.join(dir, 'tid2013');
    const iqa = await runHumanDataset(model, tid, readHumanDataset('tid2013', tid), { attack, seed: 0, bootstrapSamples: 50 });
    const median = (iqa.summary as IqaSummary).median_score;
    for (const r of iqa.results as IqaItemResult[]) {
      if (r.score > median) expect(r.attacked!).toBeGreaterThanOrEqual(r.distance);
      else expect(r.attacked!).toBeLessThanOrEqual(r.distance);
    }
    expect((iqa.results as IqaItemResult[]).filter((r) => Math.abs(r.attacked! - r.distance) > 1e-4).length).toBeGreaterThan(0);
    const nights = path.join(dir, 'nights');
    const twoAfc = await runHumanDataset(model, nights, readHumanDataset('nights', nights), { attack, seed: 0 });
    for (const r of twoAfc.results as TwoAfcItemResult[]) expect(r.robust!).toBeLessThanOrEqual(r.clean);
  }, 180_000);
});

describe.skipIf(!existsSync(EXAMPLES))(`the two real example triplets${existsSync(EXAMPLES) ? '' : ` (skipped: ${EXAMPLES} is absent)`}`, () => {
  /** The BAPPS example (humans judged ex_p1 closer) as a one-triplet BAPPS folder; DreamSim's (its model puts img_b_1 closer: 0.2756 vs 0.4453) as a one-row NIGHTS folder. */
  beforeAll(() => {
    const bapps = path.join(dir, 'bapps-example/2afc/val/example');
    for (const [folder, file] of [['ref', 'ex_ref.png'], ['p0', 'ex_p0.png'], ['p1', 'ex_p1.png']]) {
      mkdirSync(path.join(bapps, folder), { recursive: true });
      copyFileSync(path.join(EXAMPLES, 'bapps', file), path.join(bapps, folder, '000000.png'));
    }
    mkdirSync(path.join(bapps, 'judge'), { recursive: true });
    writeFileSync(path.join(bapps, 'judge/000000.npy'), npyOf(1));
    const nights = path.join(dir, 'dreamsim-example');
    mkdirSync(path.join(nights, 'ref/000'), { recursive: true });
    mkdirSync(path.join(nights, 'distort/000'), { recursive: true });
    copyFileSync(path.join(EXAMPLES, 'dreamsim/ref_1.png'), path.join(nights, 'ref/000/000.png'));
    copyFileSync(path.join(EXAMPLES, 'dreamsim/img_a_1.png'), path.join(nights, 'distort/000/000_0.png'));
    copyFileSync(path.join(EXAMPLES, 'dreamsim/img_b_1.png'), path.join(nights, 'distort/000/000_1.png'));
    // right_vote 1 stands for DreamSim's verdict here, not for people's votes.
    writeFileSync(path.join(nights, 'data.csv'), `${NIGHTS_HEADER}\n0,0,1,6,ref/000/000.png,distort/000/000_0.png,distort/000/000_1.png,"dreamsim example",test,False\n`);
  });

  it.each(index.models.map((m: { id: string }) => m.id) as string[])('%s gives a verdict on both (whether it agrees is reported, not required)', async (model) => {
    const verdicts: string[] = [];
    for (const [dataset, folder, who, closer] of [
      ['bapps', 'bapps-example', 'people (LPIPS example)', 'ex_p1'],
      ['nights', 'dreamsim-example', 'DreamSim (0.2756 vs 0.4453)', 'img_b_1'],
    ]) {
      const r = await rclip('eval', '--dataset', dataset, path.join(dir, folder), '--model', model, '--json');
      expect(r.code, r.stderr).toBe(0);
      const out = json(r);
      expect(out.summary.n).toBe(1);
      expect([0, 1]).toContain(out.summary.clean.value);
      verdicts.push(`${dataset} example: ${model} ${out.summary.clean.value === 1 ? 'agrees with' : 'disagrees with'} ${who} that ${closer} is closer`);
    }
    console.log(verdicts.join('\n'));
  }, 60_000);
});
