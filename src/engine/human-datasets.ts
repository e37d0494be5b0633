/**
 * The human-judged data sets on disk (NIGHTS, BAPPS 2AFC, TID2013, KADID-10k), read as their
 * publishers lay them out, and the runner `rclip eval --dataset` and any bench share: every item
 * scored clean and, with an attack, attacked (definitions in src/core/human-judgements.ts), with
 * progress and resumable partial results. Nothing is guessed: a missing file, column or folder is a
 * DATASET_INVALID error that names it.
 */
import { existsSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { AttackSettings } from '../core/attack';
import { RclipError } from '../core/errors';
import {
  evaluateIqaItem,
  evaluateTwoAfcItem,
  kadidScores,
  medianScore,
  nightsItems,
  npyScalar,
  summarizeIqa,
  summarizeTwoAfc,
  tidReferenceName,
  tidScores,
  type HumanDataset,
  type IqaItem,
  type IqaItemResult,
  type IqaSummary,
  type NightsSplit,
  type TwoAfcItem,
  type TwoAfcItemResult,
  type TwoAfcSummary,
} from '../core/human-judgements';
import type { PixelTensor } from '../core/preprocess';
import { hashSeed } from '../core/random';
import type { TwoAfcModel } from '../core/twoafc';
import { decodePool } from './node-decode-pool';

const invalid = (message: string): never => {
  throw new RclipError('DATASET_INVALID', message);
};

export type DatasetItems = { task: '2afc'; items: TwoAfcItem[] } | { task: 'iqa'; items: IqaItem[] };

export interface DatasetOptions {
  /** NIGHTS: train, val, test (default), test_imagenet, test_no_imagenet. BAPPS: val (default) or train. */
  split?: string;
}

function requireFile(file: string, what: string): string {
  if (!existsSync(file) || !statSync(file).isFile()) invalid(`${what} "${file}" is missing.`);
  return file;
}

function requireFolder(dir: string, what: string): string {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) invalid(`${what} "${dir}" is missing.`);
  return dir;
}

/** Fails naming the first few files a score file lists that are not in the folder. */
function requireListed(root: string, relativePaths: Iterable<string>, listedIn: string): void {
  const missing = [...new Set(relativePaths)].filter((p) => !existsSync(path.join(root, p)));
  if (missing.length) invalid(`${missing.length} image(s) that ${listedIn} lists are missing from "${root}", e.g. ${missing.slice(0, 3).map((m) => `"${m}"`).join(', ')}.`);
}

export const BAPPS_SPLITS = ['val', 'train'] as const;
const BAPPS_FOLDERS = ['ref', 'p0', 'p1', 'judge'] as const;

/** BAPPS: DIR/2afc/<split>/<category>/{ref,p0,p1,judge}, matched by file name (000123.png … 000123.npy). */
function bappsItems(dir: string, split: string): TwoAfcItem[] {
  if (!(BAPPS_SPLITS as readonly string[]).includes(split)) throw new RclipError('INVALID_ARGUMENT', `--split for bapps is one of ${BAPPS_SPLITS.join(', ')} (got "${split}").`);
  const splitDir = requireFolder(path.join(dir, '2afc', split), 'The BAPPS 2AFC split folder');
  const categories = readdirSync(splitDir)
    .filter((c) => statSync(path.join(splitDir, c)).isDirectory())
    .sort();
  if (categories.length === 0) invalid(`"${splitDir}" holds no category folders (cnn, traditional, …).`);
  const items: TwoAfcItem[] = [];
  for (const category of categories) {
    const stems: Record<string, Map<string, string>> = {};
    for (const folder of BAPPS_FOLDERS) {
      const d = requireFolder(path.join(splitDir, category, folder), `BAPPS ${split}/${category} needs a "${folder}" folder:`);
      const extension = folder === 'judge' ? /\.npy$/ : /\.(png|jpe?g|bmp|ppm)$/i;
      stems[folder] = new Map(
        readdirSync(d)
          .filter((f) => extension.test(f))
          .map((f) => [f.replace(/\.[^.]+$/, ''), f]),
      );
    }
    const names = [...stems.ref.keys()].sort();
    if (names.length === 0) invalid(`"${path.join(splitDir, category, 'ref')}" holds no images: the category is empty.`);
    for (const folder of BAPPS_FOLDERS) {
      const missing = names.filter((n) => !stems[folder].has(n));
      const extra = [...stems[folder].keys()].filter((n) => !stems.ref.has(n));
      if (missing.length || extra.length) {
        invalid(
          `BAPPS ${split}/${category}: ${missing.length ? `${missing.length} triplet(s) have no file in "${folder}" (e.g. ${missing[0]})` : `"${folder}" has ${extra.length} file(s) with no reference (e.g. ${extra[0]})`}; every triplet needs ref, p0, p1 and judge files of the same name.`,
        );
      }
    }
    for (const n of names) {
      const judge = path.join(splitDir, category, 'judge', stems.judge.get(n)!);
      const rel = (folder: string) => path.join('2afc', split, category, folder, stems[folder].get(n)!);
      items.push({ id: `${category}/${n}`, group: category, ref: rel('ref'), p0: rel('p0'), p1: rel('p1'), p1Share: npyScalar(readFileSync(judge), judge) });
    }
  }
  return items;
}

/** A folder's file names by their lower-case form: TID2013's archive mixes cases (i01_01_1.bmp, I01_11_1.BMP, I01.BMP). */
function caseInsensitiveNames(dir: string): Map<string, string> {
  return new Map(readdirSync(dir).map((f) => [f.toLowerCase(), f]));
}

function tid2013Items(dir: string): IqaItem[] {
  const scoreFile = requireFile(path.join(dir, 'mos_with_names.txt'), 'TID2013\'s score file');
  const refDir = requireFolder(path.join(dir, 'reference_images'), 'TID2013\'s folder');
  const distDir = requireFolder(path.join(dir, 'distorted_images'), 'TID2013\'s folder');
  const refs = caseInsensitiveNames(refDir);
  const dists = caseInsensitiveNames(distDir);
  const missing: string[] = [];
  const items = tidScores(readFileSync(scoreFile, 'utf8'), scoreFile).map(({ name, score }) => {
    const ref = refs.get(tidReferenceName(name, scoreFile).toLowerCase());
    const distorted = dists.get(name.toLowerCase());
    if (!ref) missing.push(`reference_images/${tidReferenceName(name, scoreFile)}`);
    if (!distorted) missing.push(`distorted_images/${name}`);
    return { id: name, ref: path.join('reference_images', ref ?? ''), distorted: path.join('distorted_images', distorted ?? ''), score };
  });
  const unique = [...new Set(missing)];
  if (unique.length) invalid(`${unique.length} image(s) that ${scoreFile} lists are missing from "${dir}" (matched ignoring case), e.g. ${unique.slice(0, 3).map((m) => `"${m}"`).join(', ')}.`);
  return items;
}

function kadidItems(dir: string): IqaItem[] {
  const scoreFile = requireFile(path.join(dir, 'dmos.csv'), 'KADID-10k\'s score file');
  requireFolder(path.join(dir, 'images'), 'KADID-10k\'s folder');
  const items = kadidScores(readFileSync(scoreFile, 'utf8'), scoreFile).map((r) => ({ id: r.distorted, ref: path.join('images', r.ref), distorted: path.join('images', r.distorted), score: r.score }));
  requireListed(dir, items.flatMap((i) => [i.ref, i.distorted]), scoreFile);
  return items;
}

/** The items of a data set folder, checked against its layout (every listed image present). */
export function readHumanDataset(dataset: HumanDataset, dir: string, options: DatasetOptions = {}): DatasetItems {
  requireFolder(dir, `The ${dataset} folder`);
  switch (dataset) {
    case 'nights': {
      const split = (options.split ?? 'test') as NightsSplit;
      const csv = requireFile(path.join(dir, 'data.csv'), 'NIGHTS\' score file');
      for (const sub of ['ref', 'distort']) requireFolder(path.join(dir, sub), 'NIGHTS\' folder');
      const items = nightsItems(readFileSync(csv, 'utf8'), split, csv);
      requireListed(dir, items.flatMap((i) => [i.ref, i.p0, i.p1]), csv);
      return { task: '2afc', items };
    }
    case 'bapps':
      return { task: '2afc', items: bappsItems(dir, options.split ?? 'val') };
    case 'tid2013':
      if (options.split !== undefined) throw new RclipError('INVALID_ARGUMENT', '--split means nothing for tid2013: it is scored whole.');
      return { task: 'iqa', items: tid2013Items(dir) };
    case 'kadid10k':
      if (options.split !== undefined) throw new RclipError('INVALID_ARGUMENT', '--split means nothing for kadid10k: it is scored whole.');
      return { task: 'iqa', items: kadidItems(dir) };
  }
}

/** What decides a run's results: a partial file is reused only by a run with the same key. */
export interface RunKey {
  dataset: HumanDataset;
  dir: string;
  split: string | null;
  model: string;
  encoder_sha256: string;
  attack: AttackSettings | null;
  seed: number;
}

type ItemResult = TwoAfcItemResult | IqaItemResult;

interface PartialFile {
  format: 'rclip-eval-partial';
  key: RunKey;
  results: ItemResult[];
}

function readPartial(file: string, key: RunKey): Map<string, ItemResult> {
  if (!existsSync(file)) return new Map();
  let partial: PartialFile;
  try {
    partial = JSON.parse(readFileSync(file, 'utf8')) as PartialFile;
  } catch (err) {
    throw new RclipError('INVALID_ARGUMENT', `The partial results "${file}" are not readable JSON (${(err as Error).message}); delete it to start over.`, { cause: err });
  }
  if (partial.format !== 'rclip-eval-partial' || JSON.stringify(partial.key) !== JSON.stringify(key)) {
    throw new RclipError('INVALID_ARGUMENT', `The partial results "${file}" are from another run (${JSON.stringify(partial.key)}); rerun that command to finish it, or delete the file to start this one.`);
  }
  return new Map(partial.results.map((r) => [r.id, r]));
}

/** Written to a temporary file and renamed, so an interrupted write never leaves half a file. */
function writePartial(file: string, key: RunKey, results: Iterable<ItemResult>): void {
  const body: PartialFile = { format: 'rclip-eval-partial', key, results: [...results] };
  writeFileSync(`${file}.tmp`, JSON.stringify(body));
  renameSync(`${file}.tmp`, file);
}

/** Partial results are saved at most this often (and at the end of each run of items). */
const PARTIAL_EVERY_MS = 10_000;

export interface HumanRunOptions {
  attack: AttackSettings | null;
  seed: number;
  /** Only the first N items, in the score file's order. */
  limit?: number;
  onItem?: (done: number, total: number) => void;
  /** Where done items are kept while the run goes on; reused by a run with the same key, removed at the end. */
  partial?: { file: string; key: RunKey };
  bootstrapSamples?: number;
}

export interface HumanRun {
  summary: TwoAfcSummary | IqaSummary;
  results: ItemResult[];
  /** Items taken from the partial file rather than computed now. */
  resumed: number;
}

const loadPixels = (file: string, model: TwoAfcModel): Promise<PixelTensor> => decodePool().pixels(file, model.input);

/** Scores a data set's items with the model: clean, and attacked when `options.attack` is set. */
export async function runHumanDataset(model: TwoAfcModel, dir: string, data: DatasetItems, options: HumanRunOptions): Promise<HumanRun> {
  const items = options.limit === undefined ? data.items : data.items.slice(0, options.limit);
  const done = options.partial ? readPartial(options.partial.file, options.partial.key) : new Map<string, ItemResult>();
  const resumed = items.filter((i) => done.has(i.id)).length;
  const todo = items.filter((i) => !done.has(i.id));
  const attackFor = (id: string) => (options.attack ? { ...options.attack, seed: hashSeed(`${options.attack.seed}|${id}`) } : null);
  const median = data.task === 'iqa' ? medianScore((items as IqaItem[]).map((i) => i.score)) : NaN;
  // IQA references repeat (TID2013: 25 for 3,000 images); their embeddings are kept.
  const referenceEmbeddings = new Map<string, Promise<Float32Array>>();
  const embedReference = (file: string) => {
    let e = referenceEmbeddings.get(file);
    if (!e) {
      e = loadPixels(file, model).then(async (p) => (await model.embed([p]))[0]);
      referenceEmbeddings.set(file, e);
    }
    return e;
  };
  const files = (item: TwoAfcItem | IqaItem) => ('p0' in item ? [item.ref, item.p0, item.p1] : [item.distorted]).map((f) => path.join(dir, f));
  // The next item's images decode on the worker threads while this one runs the model.
  let next = todo.length ? Promise.all(files(todo[0]).map((f) => loadPixels(f, model))) : null;
  let savedAt = Date.now();
  options.onItem?.(resumed, items.length);
  try {
    for (const [i, item] of todo.entries()) {
      const pixels = await next!;
      next = i + 1 < todo.length ? Promise.all(files(todo[i + 1]).map((f) => loadPixels(f, model))) : null;
      next?.catch(() => undefined);
      let result: ItemResult;
      if ('p0' in item) {
        const [eRef, e0, e1] = await model.embed(pixels);
        result = await evaluateTwoAfcItem(model, item, pixels[0], [eRef, e0, e1], attackFor(item.id));
      } else {
        const eRef = await embedReference(path.join(dir, item.ref));
        const [eDistorted] = await model.embed(pixels);
        result = await evaluateIqaItem(model, item, pixels[0], [eRef, eDistorted], attackFor(item.id), median);
      }
      done.set(item.id, result);
      options.onItem?.(resumed + i + 1, items.length);
      if (options.partial && Date.now() - savedAt > PARTIAL_EVERY_MS) {
        writePartial(options.partial.file, options.partial.key, done.values());
        savedAt = Date.now();
      }
    }
  } catch (err) {
    if (options.partial && done.size) writePartial(options.partial.file, options.partial.key, done.values());
    throw err;
  }
  const results = items.map((i) => done.get(i.id)!);
  const summary = data.task === '2afc' ? summarizeTwoAfc(results as TwoAfcItemResult[]) : summarizeIqa(results as IqaItemResult[], options.seed, options.bootstrapSamples);
  return { summary, results, resumed };
}

/** Removes a finished run's partial file. */
export function removePartial(file: string): void {
  rmSync(file, { force: true });
}
