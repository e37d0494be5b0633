import { existsSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { execFile } from 'node:child_process';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { PEERS } from '../bench/suite/metrics';
import { SUITE_VERSION } from '../bench/suite/report';
import { runTriplets } from '../bench/suite/tasks';
import { attackSettings, PAPER_DEFAULTS } from '../src/core/attack';
import { cosineDistance } from '../src/core/distance';
import { toModelPixels, type PixelTensor } from '../src/core/preprocess';
import { seededRandom } from '../src/core/random';
import { squareSettings } from '../src/core/square';
import { quantile, summarize } from '../src/core/stats';
import { attackMargin, copyEdit, copyMargin, knnMargin, knnPredict, nearest, seededOrder, taskScore, type TaskScore } from '../src/core/suite';
import { benchmarkImageNames, evaluationImageNames, type TwoAfcModel } from '../src/core/twoafc';
import { deepestCommonHypernym, parseWordNetNouns, SEMANTIC_DEPTHS, SEMANTIC_RULE, semanticTriplets, wnidOffset, type SemanticTriplet } from '../src/core/wordnet';
import { decodeImageFile } from '../src/engine/node';
import { indexModels } from '../src/engine/node-eval';
import { openModel, twoAfcModel } from '../src/engine/node-model';

const FIXTURE = path.resolve(__dirname, 'fixtures/wordnet-3.0-nouns-excerpt.txt');
const DATA_NOUN = '/usr/share/wordnet/data.noun';
const IMAGENET = path.resolve(__dirname, '../../shared/data/imagenet-sample');
const TENCH = '01440764';
const GOLDFISH = '01443537';
const ANALOG_CLOCK = '02708093';
const NAMES = ['n01440764_tench.JPEG', 'n01443537_goldfish.JPEG', 'n02708093_analog_clock.JPEG', 'n03196217_digital_clock.JPEG', 'n04548280_wall_clock.JPEG'];

function photo(seed: number, size = 32): PixelTensor {
  const random = seededRandom(seed);
  return { size, data: Float32Array.from({ length: 3 * size * size }, (_, i) => Math.min(1, Math.max(0, 0.5 + 0.3 * Math.sin(i / (7 + seed)) + 0.2 * (random() - 0.5)))) };
}

function checkDepths(taxonomy: ReturnType<typeof parseWordNetNouns>) {
  const related = deepestCommonHypernym(taxonomy, TENCH, GOLDFISH);
  expect(taxonomy.get(related.offset)!.words).toContain('cyprinid');
  expect(related.depth).toBe(15);
  expect(related.depth).toBeGreaterThanOrEqual(SEMANTIC_DEPTHS.minRelated);
  const unrelated = deepestCommonHypernym(taxonomy, TENCH, ANALOG_CLOCK);
  expect(taxonomy.get(unrelated.offset)!.words).toEqual(['whole', 'unit']);
  expect(unrelated.depth).toBe(3);
  expect(unrelated.depth).toBeLessThanOrEqual(SEMANTIC_DEPTHS.maxUnrelated);
}

/** Triplets keyed by reference and related photo, for comparing sets built in other orders. */
const byKey = (ts: readonly SemanticTriplet[]) => Object.fromEntries(ts.map((t) => [`${t.ref}|${t.related}`, t]));

describe('semantic triplets (WordNet 3.0)', () => {
  const fixture = parseWordNetNouns(readFileSync(FIXTURE, 'utf8'));

  it('parses data.noun lines: words and the @ / @i hypernyms only', () => {
    expect(fixture.get(TENCH)).toEqual({ offset: TENCH, words: ['tench', 'Tinca_tinca'], hypernyms: ['01439121'] });
    expect(fixture.get('00001740')!.hypernyms).toEqual([]);
    expect(wnidOffset('n01440764_tench.JPEG')).toBe(TENCH);
    expect(wnidOffset('daisy_1.jpg')).toBeNull();
  });

  it('tench/goldfish are related (cyprinid, depth 15), tench/analog clock unrelated (whole, depth 3): committed excerpt', () => checkDepths(fixture));

  it.skipIf(!existsSync(DATA_NOUN))(`same depths on the full WordNet (needs ${DATA_NOUN}: install wordnet-base with scripts/setup.sh --all)`, () => {
    checkDepths(parseWordNetNouns(readFileSync(DATA_NOUN, 'utf8')));
  });

  it('builds the same triplets for the same seed, whatever the order of references and candidates; the stated depths hold', () => {
    const a = semanticTriplets(fixture, NAMES, NAMES, 0);
    expect(byKey(semanticTriplets(fixture, [...NAMES].reverse(), [...NAMES].reverse(), 0))).toEqual(byKey(a));
    expect(a).toEqual(semanticTriplets(fixture, NAMES, NAMES, 0));
    // Each reference's triplets do not depend on which other references are taken.
    expect(semanticTriplets(fixture, [NAMES[3]], NAMES, 0)).toEqual(a.filter((t) => t.ref === NAMES[3]));
    const tench = a.filter((t) => t.ref === NAMES[0]);
    expect(tench.map((t) => t.related)).toEqual(['n01443537_goldfish.JPEG']);
    expect(tench[0].unrelated).toMatch(/clock/);
    // Every related photo deep enough, up to perReference of them: each clock has the two other clocks.
    expect(a.filter((t) => t.ref === NAMES[2]).map((t) => t.related).sort()).toEqual([NAMES[3], NAMES[4]]);
    for (const t of a) {
      expect(t.relatedHypernym.depth).toBeGreaterThanOrEqual(SEMANTIC_DEPTHS.minRelated);
      expect(t.unrelatedHypernym.depth).toBeLessThanOrEqual(SEMANTIC_DEPTHS.maxUnrelated);
    }
    // The clocks meet at "clock" (depth 10): related to each other, unrelated to the fish.
    const clock = a.find((t) => t.ref === NAMES[2])!;
    expect(clock.related).toMatch(/clock/);
    expect(clock.unrelated).toMatch(/tench|goldfish/);
    // Another seed may draw other unrelated photos, never break the depths.
    for (const t of semanticTriplets(fixture, NAMES, NAMES, 7)) expect(t.unrelatedHypernym.depth).toBeLessThanOrEqual(3);
  });

  it('takes at most perReference related photos a reference, ranked the same whatever the cap', () => {
    // Each clock has two related photos (the other clocks, both at "clock"): the tie is drawn by seed.
    const one = semanticTriplets(fixture, NAMES, NAMES, 0, { ...SEMANTIC_RULE, perReference: 1 });
    expect(one.filter((t) => t.ref === NAMES[2])).toHaveLength(1);
    const two = semanticTriplets(fixture, NAMES, NAMES, 0, { ...SEMANTIC_RULE, perReference: 2 });
    expect(two.filter((t) => t.ref === NAMES[2])).toHaveLength(2);
    // The first of the two is the one taken alone: the ranking does not depend on the cap.
    expect(two.find((t) => t.ref === NAMES[2])).toEqual(one.find((t) => t.ref === NAMES[2]));
  });

  const dataMissing = [DATA_NOUN, IMAGENET].filter((p) => !existsSync(p));
  it.skipIf(dataMissing.length > 0)(`grows to 260 triplets over the 72 references of the 160 evaluation photos, no training photo in any (needs ${dataMissing.join(' and ') || 'data.noun and imagenet-sample'}: wordnet-base from scripts/setup.sh --all, ../shared/data)`, () => {
    const names = readdirSync(IMAGENET);
    const evaluation = evaluationImageNames(names);
    const training = new Set(benchmarkImageNames(names).filter((n) => !evaluation.includes(n)));
    expect(evaluation).toHaveLength(160);
    expect(training.size).toBe(640);
    const taxonomy = parseWordNetNouns(readFileSync(DATA_NOUN, 'utf8'));
    const triplets = semanticTriplets(taxonomy, evaluation, evaluation, 0);
    expect(triplets.length).toBeGreaterThanOrEqual(250);
    expect(triplets.length).toBe(260);
    expect(new Set(triplets.map((t) => t.ref)).size).toBe(72);
    expect(new Set(triplets.map((t) => `${t.ref}|${t.related}`)).size).toBe(triplets.length);
    for (const t of triplets) {
      for (const name of [t.ref, t.related, t.unrelated]) {
        expect(evaluation).toContain(name);
        expect(training.has(name)).toBe(false);
      }
      expect(t.relatedHypernym.depth).toBeGreaterThanOrEqual(SEMANTIC_RULE.minRelated);
      expect(t.unrelatedHypernym.depth).toBeLessThanOrEqual(SEMANTIC_RULE.maxUnrelated);
    }
    const perRef = new Map<string, SemanticTriplet[]>();
    for (const t of triplets) perRef.set(t.ref, [...(perRef.get(t.ref) ?? []), t]);
    for (const list of perRef.values()) {
      expect(list.length).toBeLessThanOrEqual(SEMANTIC_RULE.perReference);
      // The deepest first: no related photo left out is deeper than one taken.
      expect(list.map((t) => t.relatedHypernym.depth)).toEqual([...list.map((t) => t.relatedHypernym.depth)].sort((x, y) => y - x));
    }
    // Deterministic by seed, whatever the order of the photos; another seed draws other ties and unrelated photos.
    expect(byKey(semanticTriplets(taxonomy, [...evaluation].reverse(), [...evaluation].reverse(), 0))).toEqual(byKey(triplets));
    const other = semanticTriplets(taxonomy, evaluation, evaluation, 1);
    expect(other).toHaveLength(260);
    expect(byKey(other)).not.toEqual(byKey(triplets));
  });
});

describe('suite definitions', () => {
  it('quantile is nearest-rank; summarize gives the order statistics', () => {
    expect(quantile([1, 2, 3, 4], 0.5)).toBe(2);
    expect(quantile([1, 2, 3, 4], 0.9)).toBe(4);
    expect(summarize([3, 1, 2])).toMatchObject({ n: 3, min: 1, median: 2, max: 3, mean: 2 });
  });

  it('k-NN votes the majority of the k nearest, leaving the query out; nearest breaks ties by index', () => {
    const labels = ['a', 'a', 'b', 'b', 'b'];
    expect(knnPredict([0, 0.1, 0.2, 0.3, 0.4], labels, 3, 0)).toBe('b');
    expect(knnPredict([0, 0.1, 0.2, 0.3, 0.4], labels, 1, 0)).toBe('a');
    expect(nearest([0.5, 0.2, 0.2])).toBe(1);
    expect(nearest([0.5, 0.2, 0.2], 1)).toBe(2);
  });

  it('the gallery margins are > 0 exactly when the decision is wrong, and shortlisted-out items count as far', () => {
    const labels = ['a', 'a', 'a', 'b', 'b', 'b'];
    // Query 0 (excluded): its class a at 0.1, 0.2; class b at 0.3, 0.4, 0.5. With k = 3, a needs its 2nd vote before b's 2nd.
    const right = [0, 0.1, 0.2, 0.3, 0.4, 0.5];
    expect(knnPredict(right, labels, 3, 0)).toBe('a');
    expect(knnMargin(right, labels, 'a', 3, 0)).toBeCloseTo(0.2 - 0.4);
    const wrong = [0, 0.1, 0.6, 0.3, 0.4, 0.5];
    expect(knnPredict(wrong, labels, 3, 0)).toBe('b');
    expect(knnMargin(wrong, labels, 'a', 3, 0)).toBeCloseTo(0.6 - 0.4);
    expect(knnMargin([0, 0.1, Infinity, 0.3, 0.4, Infinity], labels, 'a', 3, 0)).toBeGreaterThan(0);
    expect(copyMargin([0.2, 0.5, 0.3], 0)).toBeCloseTo(-0.1);
    expect(copyMargin([0.4, 0.5, 0.3], 0)).toBeCloseTo(0.1);
    expect(copyMargin([0.4, Infinity, Infinity], 0)).toBe(-1e3);
  });

  it('copy edits and task orders are seeded', () => {
    expect(copyEdit(0, 'x.jpg')).toEqual(copyEdit(0, 'x.jpg'));
    expect(copyEdit(0, 'x.jpg')).not.toEqual(copyEdit(1, 'x.jpg'));
    expect(seededOrder(['a', 'b', 'c', 'd'], 0, 'knn')).toEqual(seededOrder(['d', 'c', 'b', 'a'], 0, 'knn'));
  });

  it('an item wrong on clean images counts wrong under attack', () => {
    expect(taskScore([0, 1], [1, 1], false)).toMatchObject({ n: 2, clean: 0.5, attacked_n: 2, robust: 0.5 });
  });

  it('runTriplets: a triplet wrong on clean counts wrong even when no iterate flips it', async () => {
    const ref = photo(1);
    const correct = photo(2);
    const wrong = photo(3);
    const e = (p: PixelTensor) => Float32Array.from(p.data[0] === ref.data[0] ? [1, 0] : p.data[0] === correct.data[0] ? [0, 1] : [1, 0]);
    // d(ref, correct) = 1 > d(ref, wrong) = 0: wrong on clean. The fake gradient says every iterate is right (margin < 0).
    const model: TwoAfcModel = { input: { size: 32, background: [1, 1, 1] }, embed: async (ps) => ps.map(e), distanceGradient: async (p) => ({ distance: 2, grad: new Float32Array(p.length) }) };
    const enc = { id: 'fake', label: 'fake', kind: 'encoder' as const, model, features: async (ps: readonly PixelTensor[]) => ps.map(e), distance: cosineDistance };
    const result = await runTriplets([{ id: 't', ref, correct, wrong }], [enc], [], { seed: 0, attacked: 1, attack: { label: 'PGD-10', byEncoder: { fake: PAPER_DEFAULTS } }, square: squareSettings(PAPER_DEFAULTS.eps, 20), squareEncoders: 0, blackBox: true, log: () => {} });
    expect(result.items.fake).toEqual({ clean: [0], robust: [1] });
    expect(result.scores.fake).toMatchObject({ clean: 0, robust: 0, transfer: false });
  });

  it('runTriplets: Square flips a peer whose margin it can move, and the transfer column is kept apart', async () => {
    // A flat grey reference, equally far (in pixels) from a slightly lighter and a slightly darker image: Square at 8/255 can tip it.
    const flat = (v: number): PixelTensor => ({ size: 16, data: new Float32Array(3 * 16 * 16).fill(v) });
    const meanDistance = { id: 'mean', label: 'mean', kind: 'peer' as const, features: async (ps: readonly PixelTensor[]) => ps.map((p) => p.data.reduce((a, b) => a + b, 0) / p.data.length), distance: (a: number, b: number) => Math.abs(a - b) };
    const item = { id: 't', ref: flat(0.5), correct: flat(0.51), wrong: flat(0.49) };
    const result = await runTriplets([item], [], [meanDistance], { seed: 0, attacked: 1, attack: { label: 'PGD-10', byEncoder: {} }, square: squareSettings(8 / 255, 200), squareEncoders: 0, blackBox: true, log: () => {} });
    expect(result.items.mean.clean).toEqual([0.5]);
    expect(result.scores.mean).toMatchObject({ transfer: false, robust: 0 });
    // No encoder, so no adversarial image to transfer: no transfer figure (it was once a perfect score over none).
    expect(result.transfer.mean).toMatchObject({ transfer: true, attacked_n: 0, robust: null });
  });
});

describe('peers', () => {
  it('every peer gives 0 for identical images (the same tensor and an equal copy), and > 0 for different ones', async () => {
    const a = photo(4, 128);
    const copy = { size: a.size, data: Float32Array.from(a.data) };
    const b = photo(9, 128);
    for (const peer of PEERS) {
      const [fa, fc, fb] = await peer.features([a, copy, b]);
      expect(peer.distance(fa, fa), peer.id).toBe(0);
      expect(peer.distance(fa, fc), peer.id).toBe(0);
      expect(peer.distance(fa, fb), peer.id).toBeGreaterThan(0);
    }
  });
});

describe('the attack on the shipped baseline', () => {
  it("the core PGD through attack.onnx raises the margin d(x, correct) − d(x, wrong) over the clean image's", async () => {
    const { baseline } = await indexModels();
    const opened = await openModel(baseline);
    const model = await twoAfcModel(opened, true);
    const load = async (f: string) => toModelPixels(await decodeImageFile(path.resolve(__dirname, '../public/samples', f)), model.input);
    const [ref, near, far] = await Promise.all(['sunset.jpg', 'sunset-shifted.jpg', 'meadow.jpg'].map(load));
    const [eRef, eNear, eFar] = await model.embed([ref, near, far]);
    const clean = cosineDistance(eRef, eNear) - cosineDistance(eRef, eFar);
    const a = await attackMargin(model, ref.data, eNear, eFar, attackSettings('pgd', 'linf', 4 / 255, 10, 0));
    expect(a.margins).toHaveLength(11);
    expect(Math.max(...a.margins)).toBeGreaterThan(clean + 0.01);
    // The margin from one attack.onnx run matches the embeddings of the best iterate.
    const [eAdv] = await model.embed([{ size: ref.size, data: a.iterates[a.best] }]);
    expect(cosineDistance(eAdv, eNear) - cosineDistance(eAdv, eFar)).toBeCloseTo(a.margins[a.best], 4);
    await opened.engine.unloadModel(opened.ref);
  }, 60_000);
});

describe('npm run bench -- --suite', () => {
  it('writes the JSON the docs describe (tiny run; tasks whose data is absent are reported as skipped)', async () => {
    const { suiteMain } = await import('../bench/suite/main');
    const out = path.join(mkdtempSync(path.join(tmpdir(), 'suite-')), 'suite.json');
    const json = await suiteMain(['--suite', '--quick', '--items', '2', '--attacked', '1', '--attack', 'apgd-4,pgd-3', '--queries', '30', '--out', out]);
    expect(JSON.parse(readFileSync(out, 'utf8'))).toEqual(JSON.parse(JSON.stringify(json)));
    expect(json).toMatchObject({ version: SUITE_VERSION, mode: 'quick', seed: 0, sizes: { items: 2, attacked: 1, square_encoders: 1 }, square: { queries: 30, run_with: 'APGD-4' } });
    expect(json.attacks).toMatchObject([
      { label: 'APGD-4', method: 'apgd', norm: 'linf', steps: 4 },
      { label: 'PGD-3', method: 'pgd', norm: 'linf', steps: 3 },
    ]);
    expect(json.models.map((m) => m.role)).toEqual(['robust', 'baseline']);
    expect(json.metrics.map((m) => m.id).slice(2)).toEqual(['ssim', 'pixelmatch', 'phash']);
    // One report per task and attack, in the order of --attack.
    expect(json.tasks.map((t) => `${t.task} ${t.attack}`)).toEqual(['semantic', 'knn', 'copy', 'distortion'].flatMap((t) => [`${t} APGD-4`, `${t} PGD-3`]));
    for (const t of json.tasks) {
      if (t.skipped) continue;
      for (const m of json.metrics) {
        const s = t.scores![m.id];
        // Square runs in the first attack's pass: there a peer's robust figure is Square's, elsewhere its transfer.
        const firstPass = t.attack === 'APGD-4';
        expect(s).toEqual({ n: 2, clean: expect.any(Number), attacked_n: 1, clean_on_attacked: expect.any(Number), robust: expect.any(Number), transfer: m.kind === 'peer' && !firstPass, ci95: expect.any(Object) });
        // Every figure with its interval, around it.
        for (const figure of ['clean', 'clean_on_attacked', 'robust'] as const) {
          expect(s.ci95![figure]!.low).toBeLessThanOrEqual(s[figure]!);
          expect(s.ci95![figure]!.high).toBeGreaterThanOrEqual(s[figure]!);
        }
        expect(s.robust).toBeLessThanOrEqual(s.clean_on_attacked!);
        if (m.kind === 'peer') expect(t.transfer![m.id]).toMatchObject({ n: 2, attacked_n: 1, transfer: true });
        else if (firstPass) expect(t.square![m.id]).toMatchObject({ n: 2, attacked_n: 1, transfer: false });
        else expect(t.square).toBeUndefined();
      }
    }
    expect(json.table).toContain('clean → APGD-4');
    expect(json.table).toContain('clean → PGD-3');
    // record-measured: one manifest entry per model and attack, naming the method and its iterations (printed, not written).
    const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', path.resolve(__dirname, '../bench/record-measured.ts'), out], { cwd: path.resolve(__dirname, '..') });
    const robust = JSON.parse(stdout.slice(stdout.indexOf('{'), stdout.indexOf('\n}\n') + 2));
    expect(robust.runs.map((r: { method: string; steps: number }) => `${r.method}-${r.steps}`)).toEqual(['apgd-4', 'pgd-3']);
    expect(robust.runs[0].attack).toMatch(/^APGD-4 L-inf 4\/255, first step 8\/255/);
    // Every option that shaped the run, spelled out: --quick's defaults (gallery 100) are not the full form's.
    expect(robust.runs[0].command).toBe(`npm run bench -- --suite --items 2 --attacked 1 --gallery 100 --attack apgd-4,pgd-3 --queries 30 --square-encoders 1 --metrics ${json.metrics.map((m) => m.id).join(',')} --out ${path.relative(path.resolve(__dirname, '..'), out)}`);
    if (existsSync(IMAGENET)) for (const m of json.metrics) expect(json.speed_ms_per_pair[m.id]).toBeGreaterThan(0);
    expect(json.table).toContain('| metric |');
  }, 300_000);

  it('--metrics runs a subset (a candidate model alone) and names what a run has when an id is not in it', async () => {
    const { suiteMain } = await import('../bench/suite/main');
    const index = JSON.parse(readFileSync(path.resolve(__dirname, '../public/models/index.json'), 'utf8'));
    const out = path.join(mkdtempSync(path.join(tmpdir(), 'suite-')), 'suite.json');
    const json = await suiteMain(['--suite', '--quick', '--items', '2', '--attacked', '1', '--attack', 'pgd-2', '--tasks', 'distortion', '--metrics', `${index.default},ssim`, '--out', out]);
    expect(json.models.map((m) => m.id)).toEqual([index.default]);
    expect(json.metrics.map((m) => m.id)).toEqual([index.default, 'ssim']);
    for (const t of json.tasks) if (!t.skipped) expect(Object.keys(t.scores!)).toEqual([index.default, 'ssim']);
    await expect(suiteMain(['--suite', '--quick', '--metrics', 'lpips', '--out', out])).rejects.toThrow(/--metrics: lpips not in this run \(its metrics: .*ssim, pixelmatch, phash\)/);
  }, 120_000);

  it('renders its tables from the JSON alone, merges runs over the same items that split the metrics or the tasks, and sums them up across radii', async () => {
    const { suiteMain } = await import('../bench/suite/main');
    const { mergeSuites, radiiTable, suiteTables } = await import('../bench/suite/report');
    const committed = JSON.parse(readFileSync(path.resolve(__dirname, '../bench/results/suite-full-a9e43012.json'), 'utf8'));
    expect(suiteTables(committed)).toBe(committed.table);
    const dir = mkdtempSync(path.join(tmpdir(), 'suite-'));
    const args = (metrics: string, out: string) => ['--suite', '--quick', '--items', '2', '--attacked', '1', '--attack', 'pgd-2', '--queries', '20', '--tasks', 'semantic,distortion', '--metrics', metrics, '--out', path.join(dir, out)];
    const both = await suiteMain(args('ssim,phash', 'both.json'));
    const ssimRun = await suiteMain(args('ssim', 'ssim.json'));
    const phashRun = await suiteMain(args('phash', 'phash.json'));
    const merged = mergeSuites(ssimRun, phashRun, ['ssim.json', 'phash.json']);
    expect(merged.metrics.map((m) => m.id)).toEqual(['ssim', 'phash']);
    // Each metric's figures do not depend on which others ran beside it (Square is seeded per item and metric).
    expect(merged.tasks.map((t) => t.scores)).toEqual(both.tasks.map((t) => t.scores));
    expect(merged.table).toContain('Merged from ssim.json and phash.json');
    expect(() => mergeSuites(ssimRun, ssimRun, ['a', 'b'])).toThrow(/both scored ssim/);
    expect(() => mergeSuites(ssimRun, { ...phashRun, seed: 1 }, ['a', 'b'])).toThrow(/seed differs/);
    // Semantic items of the one-triplet-a-reference rule (version 2 results) are other items: never mixed with these.
    const oneTripletRule = 'reference vs the photo of the most related class (deepest common WordNet hypernym ≥ 9) and an unrelated one (≤ 3)';
    const olderItems = { ...phashRun, tasks: phashRun.tasks.map((t) => (t.task === 'semantic' ? { ...t, definition: oneTripletRule } : t)) };
    expect(() => mergeSuites(ssimRun, olderItems, ['a', 'b'])).toThrow(/semantic's items differ/);
    expect(() => radiiTable([ssimRun, olderItems], ['a', 'b'])).toThrow(/semantic's items differ/);
    expect(() => mergeSuites(ssimRun, { ...phashRun, version: 2 }, ['a', 'b'])).toThrow(/version differs \(3 and 2\)/);
    // Or the tasks: two processes, one core each.
    const tasksArgs = (tasks: string, out: string) => args('ssim,phash', out).map((x) => (x === 'semantic,distortion' ? tasks : x));
    const bySemantic = await suiteMain(tasksArgs('semantic', 'semantic.json'));
    const byDistortion = await suiteMain(tasksArgs('distortion', 'distortion.json'));
    const byTasks = mergeSuites(bySemantic, byDistortion, ['semantic.json', 'distortion.json']);
    expect(byTasks.tasks.map((t) => `${t.task} ${t.attack}`)).toEqual(both.tasks.map((t) => `${t.task} ${t.attack}`));
    expect(byTasks.tasks.map((t) => t.scores)).toEqual(both.tasks.map((t) => t.scores));
    expect(byTasks.metrics.map((m) => m.id)).toEqual(['ssim', 'phash']);
    expect(() => mergeSuites(byTasks, bySemantic, ['a', 'b'])).toThrow(/both scored ssim, phash on semantic \(PGD-2\)/);
    // The summary across radii takes the metrics from whichever run scored them, and refuses a metric scored twice or other items.
    const summary = radiiTable([ssimRun, phashRun], ['ssim.json', 'phash.json']);
    const pct = (x: number) => (100 * x).toFixed(1);
    // Each figure with its stored 95 % interval.
    const fig = (s: TaskScore, f: 'clean' | 'clean_on_attacked' | 'robust') => `${pct(s[f]!)} (${pct(s.ci95![f]!.low)}–${pct(s.ci95![f]!.high)})`;
    for (const id of ['ssim', 'phash']) {
      const s = both.tasks.find((t) => t.task === 'distortion')!.scores![id];
      const sem = both.tasks[0].scores![id];
      const label = both.metrics.find((m) => m.id === id)!.label;
      expect(summary).toContain(`| ${label} | clean (all items) | ${fig(sem, 'clean')} | ${fig(s, 'clean')} |`);
      expect(summary).toContain(`|  | 4/255: clean → Square ‡ | ${fig(sem, 'clean_on_attacked')} → ${fig(sem, 'robust')} | ${fig(s, 'clean_on_attacked')} → ${fig(s, 'robust')} |`);
    }
    expect(() => radiiTable([both, ssimRun], ['both.json', 'ssim.json'])).toThrow(/ssim is scored on semantic at 4\/255 by both both.json and ssim.json/);
    expect(() => radiiTable([ssimRun, { ...phashRun, seed: 1 }], ['a', 'b'])).toThrow(/b is not over the same items as a/);
    // A merged file is no run: no one command reproduces it, so record-measured wants the run itself.
    const mergedFile = path.join(dir, 'merged.json');
    writeFileSync(mergedFile, JSON.stringify(merged));
    const recorded = promisify(execFile)(process.execPath, ['--import', 'tsx', path.resolve(__dirname, '../bench/record-measured.ts'), mergedFile], { cwd: path.resolve(__dirname, '..') });
    await expect(recorded).rejects.toThrow(/joins ssim\.json and phash\.json: record the run that scored the model/);
  }, 120_000);

  it('--norm l2: each encoder at the paper\'s 3.0 at 224 px scaled to its input (or --eps on all), columns named by norm and radius, peers by transfer alone; merge and resume keep L2 and L∞ apart', async () => {
    const { suiteMain } = await import('../bench/suite/main');
    const { mergeSuites, radiiTable, suiteTables } = await import('../bench/suite/report');
    const index = JSON.parse(readFileSync(path.resolve(__dirname, '../public/models/index.json'), 'utf8'));
    const dir = mkdtempSync(path.join(tmpdir(), 'suite-'));
    const args = (out: string, ...more: string[]) => ['--suite', '--quick', '--items', '2', '--attacked', '1', '--tasks', 'semantic', ...more, '--out', path.join(dir, out)];
    const l2Args = args('l2.json', '--attack', 'apgd-3,pgd-2', '--norm', 'l2', '--square-encoders', '0', '--metrics', `${index.default},${index.baseline},ssim`);
    const l2 = await suiteMain(l2Args);
    expect(l2).toMatchObject({ square: null, sizes: { square_encoders: 0 } });
    expect(l2.attacks.map((a) => [a.label, a.norm, a.eps, a.eps_input_size])).toEqual([['APGD-3 L2', 'l2', 3, 224], ['PGD-2 L2', 'l2', 3, 224]]);
    for (const m of l2.models) {
      // The radius grows with √(pixel count): 3.0 · size / 224 (1.2857 at 96 px, 2.1429 at 160 px).
      const [apgd, pgd] = l2.attacks.map((a) => a.by_model![m.id]);
      expect(apgd.eps).toBeCloseTo((3 * m.input_size) / 224, 12);
      expect(apgd.step_size).toBeCloseTo(2 * apgd.eps, 12);
      expect(pgd.step_size).toBeCloseTo((2.5 * pgd.eps) / 2, 12);
    }
    for (const t of l2.tasks) {
      // No Square in any pass: no encoder's Square figure, and the peer's attacked figure is transfer from the L2 images.
      expect(t.square).toBeUndefined();
      expect(t.scores!.ssim).toMatchObject({ attacked_n: 1, transfer: true });
      for (const id of [index.default, index.baseline]) expect(t.scores![id]).toMatchObject({ attacked_n: 1, transfer: false });
    }
    const robust = l2.models.find((m) => m.id === index.default)!;
    expect(l2.table).toContain('clean → APGD-3 L2 (ε 3·size/224)');
    expect(l2.table).toContain(`, L2 ε ${+((3 * robust.input_size) / 224).toFixed(4)} |`);
    expect(l2.table).toContain(`${index.default} ${+((3 * robust.input_size) / 224).toFixed(4)} at ${robust.input_size} px`);
    expect(l2.table).not.toContain('Square ‡');
    expect(l2.table).not.toContain('Second opinions');
    expect(suiteTables(l2)).toBe(l2.table);
    // Square has no L2 form here: its options are refused, not ignored.
    await expect(suiteMain(args('x.json', '--norm', 'l2', '--queries', '20'))).rejects.toThrow(/--queries: Square is L∞ only/);
    await expect(suiteMain(args('x.json', '--norm', 'l2', '--square-encoders', '1'))).rejects.toThrow(/--square-encoders: Square is L∞ only/);
    // --eps: that radius on every encoder's input, as is.
    const fixed = await suiteMain(args('fixed.json', '--attack', 'pgd-1', '--norm', 'l2', '--eps', '0.75', '--metrics', `${index.default},${index.baseline}`));
    expect(fixed.attacks[0]).toMatchObject({ eps: 0.75, eps_input_size: null, by_model: { [index.default]: { eps: 0.75 }, [index.baseline]: { eps: 0.75 } } });
    expect(fixed.table).toContain('clean → PGD-1 L2 (ε 0.75)');
    // An L∞ run over the same items: one summary table holds both threats, but no merged file mixes them.
    const linf = await suiteMain(args('linf.json', '--attack', 'pgd-2', '--queries', '20', '--metrics', 'ssim'));
    expect(() => mergeSuites(linf, { ...l2, metrics: l2.metrics.filter((m) => m.kind === 'encoder'), tasks: l2.tasks.map((t) => ({ ...t, scores: { [index.default]: t.scores![index.default] } })) }, ['linf.json', 'l2.json'])).toThrow(/norm differs \("linf" and "l2"\)/);
    expect(() => mergeSuites(fixed, { ...l2, metrics: l2.metrics.filter((m) => m.kind === 'peer') }, ['fixed.json', 'l2.json'])).toThrow(/ε differs/);
    const summary = radiiTable([linf, l2], ['linf.json', 'l2.json']);
    expect(summary).toContain('|  | 4/255: clean → Square ‡ |');
    expect(summary).toContain('|  | L2 3·size/224: clean → transfer † (APGD-3 L2) |');
    expect(summary).toContain('|  | L2 3·size/224: clean → APGD-3 L2 / PGD-2 L2 |');
    // A partial L∞ run is not resumed by the L2 command (nor the other way round).
    const partialFile = path.join(dir, 'l2.partial.json');
    writeFileSync(partialFile, JSON.stringify({ suite: 'partial', settings: { ...l2.settings, norm: undefined, eps_input_size: undefined }, seconds: 1, tasks: [l2.tasks[0]] }));
    await expect(suiteMain(l2Args)).rejects.toThrow(/other settings \(norm: undefined there, "l2" now; eps_input_size: undefined there, 224 now\)/);
  }, 240_000);

  it('a stopped run resumes from <out>.partial.json with the same options, and refuses one made with others', async () => {
    const { suiteMain } = await import('../bench/suite/main');
    const out = path.join(mkdtempSync(path.join(tmpdir(), 'suite-')), 'suite.json');
    const partialFile = out.replace(/\.json$/, '.partial.json');
    const args = ['--suite', '--quick', '--items', '2', '--attacked', '1', '--attack', 'pgd-2', '--queries', '20', '--tasks', 'semantic,distortion', '--metrics', 'ssim,phash', '--out', out];
    const whole = await suiteMain(args);
    expect(existsSync(partialFile)).toBe(false);
    // A run stopped after its first report: that report saved (marked by its seconds), the rest not yet run.
    const first = { ...whole.tasks[0], seconds: 12345 };
    writeFileSync(partialFile, JSON.stringify({ suite: 'partial', settings: whole.settings, seconds: 600, tasks: [first] }));
    const resumed = await suiteMain(args);
    expect(resumed.tasks[0]).toEqual(first);
    // The other report was run again, to the same figures (seeded).
    expect(resumed.tasks.slice(1).map((t) => t.scores)).toEqual(whole.tasks.slice(1).map((t) => t.scores));
    expect(resumed.seconds).toBeGreaterThanOrEqual(600);
    expect(existsSync(partialFile)).toBe(false);
    writeFileSync(partialFile, JSON.stringify({ suite: 'partial', settings: { ...whole.settings, seed: 1 }, seconds: 1, tasks: [first] }));
    await expect(suiteMain(args)).rejects.toThrow(/suite\.partial\.json holds reports made with other settings \(seed: 1 there, 0 now\)/);
    // A partial file from before the grown semantic task (no version in its settings) holds other semantic items.
    const { version: _, ...olderSettings } = whole.settings!;
    writeFileSync(partialFile, JSON.stringify({ suite: 'partial', settings: olderSettings, seconds: 1, tasks: [first] }));
    await expect(suiteMain(args)).rejects.toThrow(/other settings \(version: undefined there, 3 now\)/);
    expect(existsSync(partialFile)).toBe(true);
  }, 120_000);
});
