/**
 * The human-judged data sets' readers (NIGHTS, BAPPS, TID2013, KADID-10k) on folders in their exact
 * layouts, made here from the shared photos; damaged layouts; and the statistics they are scored by.
 */
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { averageRanks, correlationsWithIntervals, kendallTauB, pearson, spearman, wilsonInterval } from '../src/core/agreement-stats';
import { RclipError } from '../src/core/errors';
import { humanAgreement, markdownTable, nightsItems, npyScalar, parseCsv, summarizeTwoAfc, tidReferenceName } from '../src/core/human-judgements';
import { paperL2Eps } from '../src/core/options';
import { seededRandom } from '../src/core/random';
import { readHumanDataset } from '../src/engine/human-datasets';
import { missingPhotos } from './evaluation-photos';
import { makeBapps, makeKadid, makeNights, makeTid2013, NIGHTS_HEADER, npyOf } from './fixtures/human-datasets';

/** Kendall's τ-b by its definition, O(n²): the reference the fast one is checked against. */
function kendallByPairs(x: number[], y: number[]): number {
  let s = 0;
  let tx = 0;
  let ty = 0;
  let pairs = 0;
  for (let i = 0; i < x.length; i++)
    for (let j = i + 1; j < x.length; j++) {
      const a = Math.sign(x[i] - x[j]);
      const b = Math.sign(y[i] - y[j]);
      s += a * b;
      pairs++;
      if (a === 0) tx++;
      if (b === 0) ty++;
    }
  return s / Math.sqrt((pairs - tx) * (pairs - ty));
}

function errorOf(f: () => unknown): RclipError {
  try {
    f();
  } catch (err) {
    expect(err).toBeInstanceOf(RclipError);
    return err as RclipError;
  }
  throw new Error('expected an error');
}

describe('agreement statistics', () => {
  it('ranks ties by their average rank, and Spearman is Pearson on those ranks', () => {
    expect([...averageRanks([10, 20, 20, 5])]).toEqual([2, 3.5, 3.5, 1]);
    expect(spearman([1, 2, 3, 4], [10, 40, 90, 160])).toBeCloseTo(1, 12);
    expect(spearman([1, 2, 3, 4], [4, 3, 2, 1])).toBeCloseTo(-1, 12);
    expect(pearson([1, 2, 3], [2, 4, 7])).toBeCloseTo(0.9933992677987828, 12);
    expect(pearson([1, 1, 1], [1, 2, 3])).toBeNaN();
  });

  it("Kendall's τ-b in O(n log n) equals the pairwise definition, ties in x, y and both included", () => {
    const random = seededRandom(7);
    for (const n of [5, 40, 301]) {
      const x = Array.from({ length: n }, () => Math.floor(random() * 8));
      const y = x.map((v) => Math.floor(v / 2 + random() * 4));
      expect(kendallTauB(x, y)).toBeCloseTo(kendallByPairs(x, y), 12);
    }
    expect(kendallTauB([1, 1, 1], [1, 2, 3])).toBeNaN();
  });

  it("Wilson's interval matches its closed form (8 of 10: 0.490–0.943) and stays in [0, 1]", () => {
    const w = wilsonInterval(8, 10);
    expect(w.low).toBeCloseTo(0.4902, 4);
    expect(w.high).toBeCloseTo(0.9433, 4);
    expect(wilsonInterval(10, 10).high).toBe(1);
    expect(wilsonInterval(0, 10).low).toBe(0);
  });

  it('bootstrap intervals are seeded and hold the point estimate', () => {
    const random = seededRandom(3);
    const x = Array.from({ length: 200 }, () => random());
    const y = x.map((v) => v + 0.3 * random());
    const a = correlationsWithIntervals(x, y, 1, 200);
    expect(correlationsWithIntervals(x, y, 1, 200)).toEqual(a);
    for (const c of [a.srcc, a.plcc, a.krcc]) {
      expect(c.interval.low).toBeLessThanOrEqual(c.value);
      expect(c.interval.high).toBeGreaterThanOrEqual(c.value);
      expect(c.interval.high - c.interval.low).toBeGreaterThan(0);
    }
  });

  it('2AFC agreement is the share of people who chose as the model did; a tie scores 0.5', () => {
    expect(humanAgreement(0.1, 0.2, 0.8)).toBeCloseTo(0.2);
    expect(humanAgreement(0.3, 0.2, 0.8)).toBeCloseTo(0.8);
    expect(humanAgreement(0.2, 0.2, 1)).toBe(0.5);
  });

  it("the paper's L2 radius (3.0 at 224 px) scales with the side, √(pixel ratio)", () => {
    expect(paperL2Eps(224)).toBe(3);
    expect(paperL2Eps(96)).toBeCloseTo(1.2857, 4);
  });
});

describe('score files', () => {
  it('CSV: quoted fields keep commas, quotes and line breaks; CRLF ends rows', () => {
    expect(parseCsv('a,b\r\n"x, y","say ""hi""\nthere"\r\n')).toEqual([
      ['a', 'b'],
      ['x, y', 'say "hi"\nthere'],
    ]);
  });

  it('a .npy judge: float32 or float64, shape (1,) or (); anything else is refused by name', () => {
    expect(npyScalar(npyOf(0.8, '<f8'), 'j.npy')).toBeCloseTo(0.8, 12);
    expect(npyScalar(npyOf(0.2, '<f4', '()'), 'j.npy')).toBeCloseTo(0.2, 6);
    expect(errorOf(() => npyScalar(npyOf(0.5, '<f8', '(2,)'), 'two.npy')).message).toMatch(/two\.npy holds 2 values/);
    expect(errorOf(() => npyScalar(Buffer.from('not numpy at all'), 'text.npy')).code).toBe('DATASET_INVALID');
    expect(errorOf(() => npyScalar(npyOf(1.5), 'big.npy')).message).toMatch(/share of people/);
  });

  it('NIGHTS rows are read by column name, in any order; votes < 6 and other splits are left out', () => {
    const csv = ['split,votes,right_vote,left_vote,id,ref_path,left_path,right_path,is_imagenet', 'test,6,1,0,7,ref/a.png,distort/a_0.png,distort/a_1.png,True', 'test,5,0,1,8,r,l,r2,False', 'val,6,0,1,9,r,l,r2,False'].join('\n');
    expect(nightsItems(csv, 'test')).toEqual([{ id: '7', group: 'test', ref: 'ref/a.png', p0: 'distort/a_0.png', p1: 'distort/a_1.png', p1Share: 1 }]);
    expect(nightsItems(csv, 'test_imagenet')).toHaveLength(1);
    expect(errorOf(() => nightsItems(csv, 'test_no_imagenet')).message).toMatch(/no triplet in split "test_no_imagenet"/);
  });

  it("TID2013's reference is named by the distorted image's prefix", () => {
    expect(tidReferenceName('i01_01_1.bmp')).toBe('I01.BMP');
    expect(tidReferenceName('I25_24_5.BMP')).toBe('I25.BMP');
    expect(errorOf(() => tidReferenceName('photo.png')).code).toBe('DATASET_INVALID');
  });
});

describe.skipIf(missingPhotos !== null)(`readers on folders in the publishers' layouts${missingPhotos ? ` (skipped: ${missingPhotos})` : ''}`, () => {
  let root: string;
  const fresh = (name: string) => {
    const dir = path.join(root, `${name}-${Math.random().toString(36).slice(2)}`);
    cpSync(path.join(root, name), dir, { recursive: true });
    return dir;
  };

  beforeAll(async () => {
    root = mkdtempSync(path.join(tmpdir(), 'rclip-human-'));
    await makeNights(path.join(root, 'nights'), 4);
    await makeBapps(path.join(root, 'bapps'), 2);
    await makeTid2013(path.join(root, 'tid2013'), 2, 3);
    await makeKadid(path.join(root, 'kadid10k'), 2, 3);
  }, 60_000);

  it('NIGHTS: the test split (votes ≥ 6), val, and the is_imagenet halves of test', () => {
    const test = readHumanDataset('nights', path.join(root, 'nights'));
    expect(test.task).toBe('2afc');
    expect(test.items.map((i) => i.id)).toEqual(['0', '1', '2', '3']);
    expect(test.items[1]).toMatchObject({ ref: 'ref/000/001.png', p0: 'distort/000/001_0.png', p1: 'distort/000/001_1.png', p1Share: 1 });
    expect(readHumanDataset('nights', path.join(root, 'nights'), { split: 'val' }).items.map((i) => i.id)).toEqual(['4']);
    expect(readHumanDataset('nights', path.join(root, 'nights'), { split: 'test_imagenet' }).items.map((i) => i.id)).toEqual(['1', '3']);
  });

  it('BAPPS: every category of the split, judges read from .npy (float32 and float64)', () => {
    const data = readHumanDataset('bapps', path.join(root, 'bapps'));
    expect(data.items.map((i) => i.id)).toEqual(['cnn/000000', 'cnn/000001', 'traditional/000000', 'traditional/000001']);
    // Items 0 and 3 were written as float32, the others as float64.
    expect(data.items.map((i) => (i as { p1Share: number }).p1Share)).toEqual([0.8, 0.2, 0.8, 0.2].map((v) => expect.closeTo(v, 6)));
  });

  it('TID2013: names matched ignoring case, as the archive mixes them', () => {
    const data = readHumanDataset('tid2013', path.join(root, 'tid2013'));
    expect(data.task).toBe('iqa');
    expect(data.items).toHaveLength(6);
    expect(data.items[0]).toMatchObject({ id: 'i01_08_1.bmp', ref: path.join('reference_images', 'I01.BMP'), distorted: path.join('distorted_images', 'I01_08_1.BMP') });
  });

  it('KADID-10k: dmos.csv and images/', () => {
    const data = readHumanDataset('kadid10k', path.join(root, 'kadid10k'));
    expect(data.items).toHaveLength(6);
    expect(data.items[0]).toMatchObject({ id: 'I01_01_01.png', ref: path.join('images', 'I01.png'), score: 4.2 });
  });

  describe('a damaged layout is refused with DATASET_INVALID, naming what is missing', () => {
    it('NIGHTS without data.csv', () => {
      const dir = fresh('nights');
      rmSync(path.join(dir, 'data.csv'));
      expect(errorOf(() => readHumanDataset('nights', dir))).toMatchObject({ code: 'DATASET_INVALID', message: expect.stringContaining('data.csv') });
    });

    it('NIGHTS with a column missing', () => {
      const dir = fresh('nights');
      const csv = readFileSync(path.join(dir, 'data.csv'), 'utf8').replace(NIGHTS_HEADER, NIGHTS_HEADER.replace('right_vote', 'rightvote'));
      writeFileSync(path.join(dir, 'data.csv'), csv);
      expect(errorOf(() => readHumanDataset('nights', dir)).message).toMatch(/no column "right_vote"/);
    });

    it('NIGHTS with an image missing', () => {
      const dir = fresh('nights');
      rmSync(path.join(dir, 'distort/000/002_1.png'));
      expect(errorOf(() => readHumanDataset('nights', dir)).message).toMatch(/1 image\(s\).*missing.*distort\/000\/002_1\.png/);
    });

    it('NIGHTS with an empty split', () => {
      expect(errorOf(() => readHumanDataset('nights', path.join(root, 'nights'), { split: 'train' })).message).toMatch(/no triplet in split "train" with votes ≥ 6/);
    });

    it('BAPPS with a judge file missing, or an empty category', () => {
      const dir = fresh('bapps');
      rmSync(path.join(dir, '2afc/val/cnn/judge/000001.npy'));
      expect(errorOf(() => readHumanDataset('bapps', dir)).message).toMatch(/cnn: 1 triplet\(s\) have no file in "judge" \(e\.g\. 000001\)/);
      const empty = fresh('bapps');
      for (const f of ['ref', 'p0', 'p1', 'judge']) rmSync(path.join(empty, '2afc/val/traditional', f), { recursive: true });
      for (const f of ['ref', 'p0', 'p1', 'judge']) cpSync(path.join(root, 'nights/ref/000'), path.join(empty, '2afc/val/traditional', f), { recursive: true, filter: (s) => !s.endsWith('.png') });
      expect(errorOf(() => readHumanDataset('bapps', empty)).message).toMatch(/traditional\/ref" holds no images: the category is empty/);
      expect(errorOf(() => readHumanDataset('bapps', dir, { split: 'train' })).message).toMatch(/2afc\/train" is missing/);
    });

    it('TID2013 with a reference missing', () => {
      const dir = fresh('tid2013');
      rmSync(path.join(dir, 'reference_images/I02.BMP'));
      expect(errorOf(() => readHumanDataset('tid2013', dir)).message).toMatch(/reference_images\/I02\.BMP/);
    });

    it('KADID-10k without its dmos column', () => {
      const dir = fresh('kadid10k');
      writeFileSync(path.join(dir, 'dmos.csv'), readFileSync(path.join(dir, 'dmos.csv'), 'utf8').replace('dmos,var', 'mos,var'));
      expect(errorOf(() => readHumanDataset('kadid10k', dir)).message).toMatch(/no column "dmos"/);
    });
  });
});

describe('the Markdown table', () => {
  it('prints the run beside the published figures, each with its source', () => {
    const summary = summarizeTwoAfc([
      { id: 'a', group: 'test', d0: 0.1, d1: 0.2, p1Share: 0, clean: 1, robust: 0 },
      { id: 'b', group: 'test', d0: 0.3, d1: 0.2, p1Share: 1, clean: 1, robust: 1 },
    ]);
    const table = markdownTable('nights', 'my-model', summary, { norm: 'l2', paper: true, text: 'APGD-100 L2' });
    expect(table).toContain('| **my-model** (this run) | 2 | 100.0 [34.2, 100.0] | — | 50.0 [');
    expect(table).toContain('| R-CLIP_T (ConvNeXt-B, TeCoA; zero-shot) | — | 92.3 | 81.9 | 78.5 | [1] |');
    expect(table).toMatch(/\n\[1\] Croce, Schlarmann, Singh, Hein, .*fra31\/perceptual-metrics @ 962995f/);
    const kadid = markdownTable('kadid10k', 'm', { task: 'iqa', n: 0, clean: {} as never, robust: null, median_score: NaN }, null);
    expect(kadid).toContain('| DISTS | — | 0.814 | 0.625 | — | — | [1] |');
    expect(kadid).toContain('| SSIM | — | 0.718 | 0.532 | — | — | [2] |');
    expect(kadid).toMatch(/\n\[1\] PyTorch Image Quality \(piq\), README.rst @ 040fe9e/);
    expect(kadid).toMatch(/\n\[2\] Lin, Hosu, Saupe, "KADID-10k/);
    expect(kadid).not.toContain('No published');
  });
});
