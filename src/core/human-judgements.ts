/**
 * Human-judged data sets, as their publishers ship them: NIGHTS and BAPPS (2AFC triplets: which of
 * two images is closer to a reference, with the share of people who chose each) and TID2013 and
 * KADID-10k (distorted images with a mean opinion score). Here: parsing their score files, what
 * clean and attacked mean on each, the summaries (agreement with a Wilson interval; SRCC/PLCC/KRCC
 * with bootstrap intervals), and the published figures printed beside a run. Pure: files come in
 * as text or bytes (src/engine/human-datasets.ts reads the folders).
 */
import { correlationsWithIntervals, wilsonInterval, type Correlation, type CorrelationWithInterval, type Interval } from './agreement-stats';
import { runAttack, type AttackSettings } from './attack';
import { cosineDistance } from './distance';
import { RclipError } from './errors';
import type { PixelTensor } from './preprocess';
import { quantile } from './stats';
import { marginOracle } from './suite';
import type { TwoAfcModel } from './twoafc';

export const HUMAN_DATASETS = ['nights', 'bapps', 'tid2013', 'kadid10k'] as const;
export type HumanDataset = (typeof HUMAN_DATASETS)[number];
export const DATASET_TASK: Record<HumanDataset, '2afc' | 'iqa'> = { nights: '2afc', bapps: '2afc', tid2013: 'iqa', kadid10k: 'iqa' };
export const DATASET_LABEL: Record<HumanDataset, string> = { nights: 'NIGHTS', bapps: 'BAPPS 2AFC', tid2013: 'TID2013', kadid10k: 'KADID-10k' };

const invalid = (message: string): never => {
  throw new RclipError('DATASET_INVALID', message);
};

/** One 2AFC triplet; paths are relative to the data set's folder. */
export interface TwoAfcItem {
  id: string;
  /** NIGHTS: the split; BAPPS: the category (cnn, traditional, …). */
  group: string;
  ref: string;
  p0: string;
  p1: string;
  /** The share of people who judged p1 the closer one, in [0, 1]. */
  p1Share: number;
}

/** One distorted image with its reference; paths relative to the data set's folder. */
export interface IqaItem {
  id: string;
  ref: string;
  distorted: string;
  /** The people's quality score: higher is better on both TID2013 (MOS 0–9) and KADID-10k (1–5). */
  score: number;
}

/** RFC 4180 CSV: quoted fields may hold commas, quotes ("") and line breaks; CRLF or LF. */
export function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      row.push(field);
      field = '';
    } else if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') i++;
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
    } else field += c;
  }
  if (field !== '' || row.length) {
    row.push(field);
    rows.push(row);
  }
  return rows.filter((r) => !(r.length === 1 && r[0].trim() === ''));
}

/** The rows of a CSV file as records keyed by its header, after checking that `required` columns are there. */
function csvRecords(text: string, file: string, required: readonly string[]): Array<Record<string, string>> {
  const [header, ...rows] = parseCsv(text.replace(/^\uFEFF/, ''));
  if (!header) invalid(`${file} is empty; it should start with a header naming the columns ${required.join(', ')}.`);
  const names = header.map((h) => h.trim());
  const missing = required.filter((c) => !names.includes(c));
  if (missing.length) invalid(`${file} has no column${missing.length > 1 ? 's' : ''} ${missing.map((m) => `"${m}"`).join(', ')} (its header: ${names.join(', ')}).`);
  return rows.map((r, i) => {
    if (r.length !== names.length) invalid(`${file} line ${i + 2} has ${r.length} fields; the header has ${names.length}.`);
    return Object.fromEntries(names.map((n, k) => [n, r[k]]));
  });
}

function numberField(value: string, what: string): number {
  const v = Number(value.trim());
  if (value.trim() === '' || !Number.isFinite(v)) invalid(`${what} is "${value}", not a number.`);
  return v;
}

export const NIGHTS_SPLITS = ['train', 'val', 'test', 'test_imagenet', 'test_no_imagenet'] as const;
export type NightsSplit = (typeof NIGHTS_SPLITS)[number];
/** DreamSim and the paper's code keep only triplets with at least 6 unanimous votes ("votes" column). */
export const NIGHTS_MIN_VOTES = 6;

function booleanField(value: string, what: string): boolean {
  const v = value.trim().toLowerCase();
  if (v === 'true' || v === '1') return true;
  if (v === 'false' || v === '0') return false;
  return invalid(`${what} is "${value}"; expected True or False.`);
}

/**
 * NIGHTS' data.csv (columns id, left_vote, right_vote, votes, ref_path, left_path, right_path,
 * prompt, split, is_imagenet, read by name): the triplets of one split with votes ≥ 6, as DreamSim's
 * TwoAFCDataset and the paper's evaluation take them. right_vote is the share of people who chose the
 * right image (p1); test_imagenet / test_no_imagenet are the test split's rows with is_imagenet true / false.
 */
export function nightsItems(csvText: string, split: NightsSplit, file = 'data.csv'): TwoAfcItem[] {
  const imagenetSplit = split === 'test_imagenet' || split === 'test_no_imagenet';
  const required = ['id', 'right_vote', 'votes', 'ref_path', 'left_path', 'right_path', 'split', ...(imagenetSplit ? ['is_imagenet'] : [])];
  const records = csvRecords(csvText, file, required);
  const rowSplit = imagenetSplit ? 'test' : split;
  const items: TwoAfcItem[] = [];
  for (const [i, r] of records.entries()) {
    const where = `${file} line ${i + 2}`;
    if (r.split.trim() !== rowSplit) continue;
    if (numberField(r.votes, `${where}: votes`) < NIGHTS_MIN_VOTES) continue;
    if (imagenetSplit && booleanField(r.is_imagenet, `${where}: is_imagenet`) !== (split === 'test_imagenet')) continue;
    const p1Share = numberField(r.right_vote, `${where}: right_vote`);
    if (p1Share < 0 || p1Share > 1) invalid(`${where}: right_vote is ${p1Share}; it is the share of people who chose the right image, in [0, 1].`);
    for (const c of ['ref_path', 'left_path', 'right_path'] as const) if (r[c].trim() === '') invalid(`${where}: ${c} is empty.`);
    items.push({ id: r.id.trim(), group: split, ref: r.ref_path.trim(), p0: r.left_path.trim(), p1: r.right_path.trim(), p1Share });
  }
  if (items.length === 0) invalid(`${file} has no triplet in split "${split}" with votes ≥ ${NIGHTS_MIN_VOTES} (${records.length} rows in all).`);
  return items;
}

/**
 * The one number in a BAPPS judge file (NumPy .npy, v1–3, a float32 or float64 array of one element):
 * the share of people who judged p1 closer.
 */
export function npyScalar(bytes: Uint8Array, file: string): number {
  const magic = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59];
  if (bytes.length < 10 || magic.some((b, i) => bytes[i] !== b)) invalid(`${file} is not a NumPy .npy file.`);
  const major = bytes[6];
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLength = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  const start = major === 1 ? 10 : 12;
  const header = new TextDecoder().decode(bytes.subarray(start, start + headerLength));
  const descr = /'descr':\s*'([<>|=]?)([fiu])(\d)'/.exec(header);
  const shape = /'shape':\s*\(([^)]*)\)/.exec(header);
  if (!descr || !shape) invalid(`${file}: its .npy header has no descr or shape (${header.trim()}).`);
  const count = shape![1]
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .reduce((a, s) => a * Number(s), 1);
  if (count !== 1) invalid(`${file} holds ${count} values (shape (${shape![1]})); a judge file holds one.`);
  const [, order, kind, size] = descr!;
  if (kind !== 'f' || (size !== '4' && size !== '8')) invalid(`${file} is of dtype ${descr![0].split(':')[1].trim()}; a judge file holds a float32 or float64.`);
  const little = order !== '>';
  const at = start + headerLength;
  if (bytes.length < at + Number(size)) invalid(`${file} is truncated.`);
  const v = size === '4' ? view.getFloat32(at, little) : view.getFloat64(at, little);
  if (!(v >= 0 && v <= 1)) invalid(`${file} holds ${v}; a judge is the share of people who chose p1, in [0, 1].`);
  return v;
}

/** TID2013's mos_with_names.txt: one "MOS name" line per distorted image (e.g. "5.51429 i01_01_1.bmp"). */
export function tidScores(text: string, file = 'mos_with_names.txt'): Array<{ name: string; score: number }> {
  const rows = text
    .split(/\r?\n/)
    .map((line, i) => ({ line: line.trim(), n: i + 1 }))
    .filter((r) => r.line !== '');
  if (rows.length === 0) invalid(`${file} is empty; it should list one "MOS name" line per distorted image.`);
  return rows.map(({ line, n }) => {
    const m = /^(\S+)\s+(\S+)$/.exec(line);
    if (!m) invalid(`${file} line ${n} is "${line}"; expected "MOS name".`);
    return { name: m![2], score: numberField(m![1], `${file} line ${n}: the MOS`) };
  });
}

/** The reference of a TID2013 distorted image: i01_01_1.bmp → I01.BMP (matched case-insensitively by the reader). */
export function tidReferenceName(distorted: string, file = 'mos_with_names.txt'): string {
  const m = /^([iI]\d\d)_\d\d_\d\.bmp$/i.exec(distorted);
  if (!m) invalid(`${file} names "${distorted}", not a TID2013 distorted image (iNN_TT_L.bmp).`);
  return `${m![1].toUpperCase()}.BMP`;
}

/** KADID-10k's dmos.csv (dist_img, ref_img, dmos, var): dmos is the 1–5 opinion score, higher is better. */
export function kadidScores(text: string, file = 'dmos.csv'): Array<{ distorted: string; ref: string; score: number }> {
  const records = csvRecords(text, file, ['dist_img', 'ref_img', 'dmos']);
  if (records.length === 0) invalid(`${file} lists no images.`);
  return records.map((r, i) => ({ distorted: r.dist_img.trim(), ref: r.ref_img.trim(), score: numberField(r.dmos, `${file} line ${i + 2}: dmos`) }));
}

/** How much a model's 2AFC choice agrees with people: d0 < d1 picks p0 (agreeing with 1 − p1Share of them); a tie scores 0.5. */
export function humanAgreement(d0: number, d1: number, p1Share: number): number {
  return d0 < d1 ? 1 - p1Share : d1 < d0 ? p1Share : 0.5;
}

export interface TwoAfcItemResult {
  id: string;
  group: string;
  d0: number;
  d1: number;
  p1Share: number;
  clean: number;
  /** null without an attack. */
  robust: number | null;
}

/**
 * A 2AFC triplet, clean and (with `attack`) with the reference perturbed, as the paper attacks
 * NIGHTS: the attacker moves the reference within the ball to make the model pick the image fewer
 * people picked (the paper's labels are unanimous, so "the other one"). The triplet keeps its clean
 * agreement only if no iterate flips the choice; a flip scores the minority's share. A triplet the
 * model already gets wrong, or with an even vote (every choice scores 0.5), is not attacked.
 */
export async function evaluateTwoAfcItem(
  model: TwoAfcModel,
  item: Pick<TwoAfcItem, 'id' | 'group' | 'p1Share'>,
  refPixels: PixelTensor,
  [eRef, e0, e1]: [Float32Array, Float32Array, Float32Array],
  attack: AttackSettings | null,
): Promise<TwoAfcItemResult> {
  const d0 = cosineDistance(eRef, e0);
  const d1 = cosineDistance(eRef, e1);
  const clean = humanAgreement(d0, d1, item.p1Share);
  const majority = item.p1Share > 0.5 ? 1 : item.p1Share < 0.5 ? 0 : null;
  const picksMajority = majority !== null && (majority === 0 ? d0 < d1 : d1 < d0);
  let robust: number | null = null;
  if (attack) {
    robust = clean;
    if (picksMajority) {
      const [eMajority, eMinority] = majority === 0 ? [e0, e1] : [e1, e0];
      // margin = d(ref, majority) − d(ref, minority): > 0 picks the minority, 0 is a tie.
      const minorityShare = Math.min(item.p1Share, 1 - item.p1Share);
      await runAttack(refPixels.data, 'push-apart', attack, marginOracle(model, eMajority, eMinority), {
        onStep: (s) => void (robust = Math.min(robust!, s.distance > 0 ? minorityShare : s.distance === 0 ? 0.5 : clean)),
      });
    }
  }
  return { id: item.id, group: item.group, d0, d1, p1Share: item.p1Share, clean, robust };
}

export interface IqaItemResult {
  id: string;
  score: number;
  distance: number;
  /** null without an attack. */
  attacked: number | null;
}

/**
 * An IQA pair, clean and (with `attack`) with the distorted image perturbed against the ranking:
 * an image people rate above the run's median score is pushed away from its reference (its distance
 * made as large as the ball allows), one rated at or below it pulled towards it (as small as it
 * allows). That is the perturbation that most scrambles the order people gave, whatever the metric.
 * The attacked distance is APGD's best point (largest or smallest distance reached).
 */
export async function evaluateIqaItem(
  model: TwoAfcModel,
  item: Pick<IqaItem, 'id' | 'score'>,
  distortedPixels: PixelTensor,
  [eRef, eDistorted]: [Float32Array, Float32Array],
  attack: AttackSettings | null,
  median: number,
): Promise<IqaItemResult> {
  const distance = cosineDistance(eRef, eDistorted);
  if (!attack) return { id: item.id, score: item.score, distance, attacked: null };
  const push = item.score > median;
  let extreme = distance;
  await runAttack(distortedPixels.data, push ? 'push-from-target' : 'pull-together', attack, { gradient: (pixels) => model.distanceGradient(pixels, eRef) }, {
    onStep: (s) => void (extreme = push ? Math.max(extreme, s.distance) : Math.min(extreme, s.distance)),
  });
  return { id: item.id, score: item.score, distance, attacked: extreme };
}

/** The median score that splits IQA items into pushed and pulled: the project's one quantile (nearest rank). */
export function medianScore(scores: readonly number[]): number {
  return quantile([...scores].sort((a, b) => a - b), 0.5);
}

export interface AgreementWithInterval {
  value: number;
  interval: Interval;
}

const agreement = (scores: readonly number[]): AgreementWithInterval => {
  const sum = scores.reduce((a, b) => a + b, 0);
  return { value: scores.length ? sum / scores.length : NaN, interval: wilsonInterval(sum, scores.length) };
};

export interface TwoAfcSummary {
  task: '2afc';
  n: number;
  clean: AgreementWithInterval;
  robust: AgreementWithInterval | null;
  /** Per NIGHTS split or BAPPS category. */
  per_group: Record<string, { n: number; clean: AgreementWithInterval; robust: AgreementWithInterval | null }>;
}

export function summarizeTwoAfc(results: readonly TwoAfcItemResult[]): TwoAfcSummary {
  const of = (rs: readonly TwoAfcItemResult[]) => ({
    n: rs.length,
    clean: agreement(rs.map((r) => r.clean)),
    robust: rs.length && rs.every((r) => r.robust !== null) ? agreement(rs.map((r) => r.robust!)) : null,
  });
  const groups = [...new Set(results.map((r) => r.group))].sort();
  return { task: '2afc', ...of(results), per_group: Object.fromEntries(groups.map((g) => [g, of(results.filter((r) => r.group === g))])) };
}

export interface IqaSummary {
  task: 'iqa';
  n: number;
  /** Correlations of −distance with the people's score (so agreeing is positive), each with a bootstrap interval. */
  clean: Record<Correlation, CorrelationWithInterval>;
  robust: Record<Correlation, CorrelationWithInterval> | null;
  median_score: number;
}

export function summarizeIqa(results: readonly IqaItemResult[], seed: number, bootstrapSamples?: number): IqaSummary {
  const scores = results.map((r) => r.score);
  const attacked = results.length && results.every((r) => r.attacked !== null);
  return {
    task: 'iqa',
    n: results.length,
    clean: correlationsWithIntervals(
      results.map((r) => -r.distance),
      scores,
      seed,
      bootstrapSamples,
    ),
    robust: attacked
      ? correlationsWithIntervals(
          results.map((r) => -r.attacked!),
          scores,
          seed,
          bootstrapSamples,
        )
      : null,
    median_score: medianScore(scores),
  };
}

/** A figure published elsewhere, printed beside a run with where it comes from. */
export interface PublishedFigure {
  metric: string;
  /** 2AFC: agreement in %; IQA: SRCC and KRCC (PLCC left out: the published ones follow a fitted logistic map, ours do not). */
  clean: number | { srcc: number; krcc: number };
  linf?: number;
  l2?: number;
  source: string;
}

const CROCE_README =
  'Croce, Schlarmann, Singh, Hein, "Adversarially Robust CLIP Models Induce Better (Robust) Perceptual Metrics" (SaTML 2025), NIGHTS table of its repository\'s README (github.com/fra31/perceptual-metrics @ 962995f): comparison table, and the list of pre-trained models for ViT-B/16';
const PYIQA_FR = 'IQA-PyTorch (pyiqa) full-reference benchmark, tests/FR_benchmark_results.csv @ 0d00073 (its own runs of the published models)';
const PIQ_KADID =
  'PyTorch Image Quality (piq), README.rst @ 040fe9e, Benchmark table, KADID10k column "SRCC / KRCC (piq)" (its own runs of the published metrics; LPIPS with VGG features)';
const KADID_PAPER =
  'Lin, Hosu, Saupe, "KADID-10k: A Large-scale Artificially Distorted IQA Database" (QoMEX 2019), as quoted in the KADID10k "SRCC / KRCC" column of piq\'s README.rst @ 040fe9e (the paper itself not read here)';

/**
 * Every figure here was read in its source (cited per row); none was measured by this project. NIGHTS:
 * 2AFC agreement on the test split, APGD-100 at L∞ 4/255 and L2 3.0 (224 px). TID2013 and KADID-10k:
 * SRCC and KRCC of the whole set, clean (the sources give no attacked figure). No BAPPS figure could be sourced from a primary table here.
 */
export const PUBLISHED_FIGURES: Record<HumanDataset, PublishedFigure[]> = {
  nights: [
    { metric: 'R-CLIP_T (ConvNeXt-B, TeCoA; zero-shot)', clean: 92.3, linf: 81.9, l2: 78.5, source: CROCE_README },
    { metric: 'R-CLIP_T + LoRA (NIGHTS fine-tuned)', clean: 95.0, linf: 87.2, l2: 84.5, source: CROCE_README },
    { metric: 'OpenCLIP ConvNeXt-B (not robust)', clean: 87.2, linf: 0.0, l2: 0.0, source: CROCE_README },
    { metric: 'CLIP ViT-B/16 (not robust; pre-trained models list, vit-b-16)', clean: 85.1, linf: 0.0, source: CROCE_README },
    { metric: 'DreamSim (ensemble; Fu et al. 2023)', clean: 90.8, source: CROCE_README },
    { metric: 'DreamSim + LoRA', clean: 96.2, linf: 0.5, l2: 0.9, source: CROCE_README },
    { metric: 'R-LPIPS (AlexNet; Ghazanfari et al. 2023)', clean: 71.6, linf: 16.2, l2: 26.9, source: CROCE_README },
  ],
  bapps: [],
  tid2013: [
    { metric: 'LPIPS (AlexNet)', clean: { srcc: 0.7445, krcc: 0.5477 }, source: PYIQA_FR },
    { metric: 'DISTS', clean: { srcc: 0.7077, krcc: 0.5212 }, source: PYIQA_FR },
  ],
  kadid10k: [
    { metric: 'LPIPS (VGG)', clean: { srcc: 0.7201, krcc: 0.5313 }, source: PIQ_KADID },
    { metric: 'DISTS', clean: { srcc: 0.8137, krcc: 0.6254 }, source: PIQ_KADID },
    { metric: 'MS-SSIM', clean: { srcc: 0.802, krcc: 0.609 }, source: KADID_PAPER },
    { metric: 'SSIM', clean: { srcc: 0.718, krcc: 0.532 }, source: KADID_PAPER },
    { metric: 'SSIM (piq\'s run)', clean: { srcc: 0.6329, krcc: 0.4571 }, source: PIQ_KADID },
    { metric: 'PSNR', clean: { srcc: 0.6757, krcc: 0.4876 }, source: PIQ_KADID },
  ],
};

const pct = (x: number | null | undefined) => (x === null || x === undefined || Number.isNaN(x) ? '—' : `${(100 * x).toFixed(1)}`);
const pctInterval = (a: AgreementWithInterval | null) => (a === null ? '—' : `${pct(a.value)} [${pct(a.interval.low)}, ${pct(a.interval.high)}]`);
const corr = (c: CorrelationWithInterval | undefined) => (c === undefined || Number.isNaN(c.value) ? '—' : `${c.value.toFixed(3)} [${c.interval.low.toFixed(3)}, ${c.interval.high.toFixed(3)}]`);
const plain = (x: number | undefined, digits: number) => (x === undefined ? '—' : x.toFixed(digits));

/** The threat a run's attack column stands for, in the paper's terms. */
export interface ThreatLabel {
  norm: 'linf' | 'l2';
  /** APGD-100 at the paper's radius for this norm: only then does the run's figure go in the paper's column. */
  paper: boolean;
  /** e.g. "APGD-100 L2 ε=1.286 (the paper's 3.0 at 224 px, scaled to 96 px)" */
  text: string;
}

/**
 * The run's row and the published rows, one Markdown table. 2AFC: agreement in % (95 % Wilson
 * interval); the attack column matching the run's norm is filled for the run, both for the published
 * rows. IQA: SRCC / KRCC / PLCC with 95 % bootstrap intervals, and SRCC under attack.
 */
export function markdownTable(dataset: HumanDataset, modelLabel: string, summary: TwoAfcSummary | IqaSummary, threat: ThreatLabel | null): string {
  const published = PUBLISHED_FIGURES[dataset];
  // Each source once, below the table; rows point to it as [n].
  const sources = [...new Set(published.map((f) => f.source))];
  const cite = (f: PublishedFigure) => `[${sources.indexOf(f.source) + 1}]`;
  const lines: string[] = [];
  if (summary.task === '2afc') {
    lines.push('| metric | n | clean % | L∞ 4/255 % | L2 3.0 (224 px) % | source |', '| --- | ---: | ---: | ---: | ---: | --- |');
    const column = (norm: 'linf' | 'l2', a: AgreementWithInterval | null) => (threat?.paper && threat.norm === norm ? pctInterval(a) : '—');
    const row = (label: string, g: { n: number; clean: AgreementWithInterval; robust: AgreementWithInterval | null }) =>
      `| ${label} | ${g.n} | ${pctInterval(g.clean)} | ${column('linf', g.robust)} | ${column('l2', g.robust)} | measured now |`;
    lines.push(row(`**${modelLabel}** (this run)`, summary));
    const groups = Object.entries(summary.per_group);
    if (groups.length > 1) for (const [group, g] of groups) lines.push(row(`${modelLabel}: ${group}`, g));
    for (const f of published) lines.push(`| ${f.metric} | — | ${plain(f.clean as number, 1)} | ${plain(f.linf, 1)} | ${plain(f.l2, 1)} | ${cite(f)} |`);
  } else {
    lines.push('| metric | n | SRCC | KRCC | PLCC | SRCC under attack | source |', '| --- | ---: | ---: | ---: | ---: | ---: | --- |');
    lines.push(`| **${modelLabel}** (this run) | ${summary.n} | ${corr(summary.clean.srcc)} | ${corr(summary.clean.krcc)} | ${corr(summary.clean.plcc)} | ${corr(summary.robust?.srcc)} | measured now |`);
    for (const f of published) {
      const c = f.clean as { srcc: number; krcc: number };
      lines.push(`| ${f.metric} | — | ${c.srcc.toFixed(3)} | ${c.krcc.toFixed(3)} | — | — | ${cite(f)} |`);
    }
  }
  if (sources.length) lines.push('', ...sources.map((src, i) => `[${i + 1}] ${src}`));
  if (published.length === 0) lines.push('', `No published ${DATASET_LABEL[dataset]} figure could be sourced for this table; only this run's is shown.`);
  if (threat) {
    const robust = summary.task === '2afc' ? `${pctInterval(summary.robust)} %` : `SRCC ${corr(summary.robust?.srcc)}`;
    lines.push('', `Attack: ${threat.text}${threat.paper || summary.task === 'iqa' ? '' : `; not the paper's threat, so outside its columns: ${robust}`}.`);
  }
  return lines.join('\n');
}
