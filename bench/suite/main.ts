/**
 * `npm run bench -- --suite [--quick] [--model ID] [--baseline ID] [--seed S] [--items N|all] [--attacked N]
 *  [--gallery N] [--tasks semantic,knn,copy,distortion] [--attack apgd,pgd] [--norm linf|l2] [--eps 4/255] [--queries Q]
 *  [--square-encoders N] [--metrics ID,…] [--out FILE]`:
 * the benchmark suite (docs/benchmark-suite.md). Semantic 2AFC (WordNet), k-NN under attack
 * (flowers), copy retrieval under attack (imagenet-sample), the distortion 2AFC, for the robust
 * default and the baseline encoder (public/models/index.json, or --model/--baseline) and three peers
 * (SSIM, pixelmatch, pHash), with ms per image pair. Encoders are attacked under each white-box attack of
 * --attack (default APGD-100, as the paper evaluates, then PGD-10, the quick column the older figures
 * used), side by side, and, on the first --square-encoders attacked items, with Square (black-box, the
 * gradient-masking check); peers with Square (--queries per item), and by transfer in a column of its own.
 * --norm l2: the white-box attacks in L2 at the paper's 3.0 at 224 px scaled to each encoder's input (or --eps on
 * every encoder); Square is L∞ only, so under L2 nothing runs it and the peers are scored by transfer alone.
 * --metrics keeps a subset (model ids, ssim, pixelmatch, phash): a candidate model alone runs in minutes.
 * Prints the tables (every figure with its 95 % interval) and writes bench/results/suite-<quick|full>.json (or --out),
 * result version SUITE_VERSION (report.ts). Seeded; only evaluation photos (sorted index i % 5 == 4).
 * Resumable: finished (task, attack) reports are kept in <out>.partial.json until the run ends; rerun the same command.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { attackSettings, type AttackNorm, type AttackSettings } from '../../src/core/attack';
import { squareSettings } from '../../src/core/square';
import { attackListOption, choiceOption, evaluationEps, integerOption, numberOption, PAPER_INPUT_SIZE } from '../../src/core/options';
import { applyCopyEdit, copyEdit, copyMargin, copyTargets, KNN_K, knnMargin, knnPredict, knnTargets, nearest, seededOrder, SUITE_TASKS, taskScore, type SuiteTask } from '../../src/core/suite';
import { evaluationImageNames, KINDS, makeTriplets } from '../../src/core/twoafc';
import { parseWordNetNouns, semanticDefinition, semanticTriplets } from '../../src/core/wordnet';
import { indexModels } from '../../src/engine/node-eval';
import { folderEntries, folderTripletSources, jpegRoundTrip } from '../../src/engine/node-images';
import { openModel, twoAfcModel } from '../../src/engine/node-model';
import { encoderMetric, PEERS, type SuiteEncoder, type SuiteMetric } from './metrics';
import { radiusText, SUITE_VERSION, suiteAttackLabel, suiteTables, type SuiteAttack, type SuiteJson, type SuiteSettings, type SuiteTaskReport } from './report';
import { msPerPair, runGallery, runTriplets, SQUARE_SHORTLIST, type GalleryQuery, type RunOptions, type TaskResult, type TripletItem } from './tasks';

const root = path.resolve(import.meta.dirname, '../..');
const DATA = {
  imagenet: path.resolve(root, '../shared/data/imagenet-sample'),
  flowers: path.resolve(root, '../shared/data/flowers'),
  wordnet: '/usr/share/wordnet/data.noun',
};
/**
 * Sizes (see bench/README.md): Square's budget per item is `queries`. The quick form took 48 min on
 * 2 loaded cores (load ~12), most of it Square on SSIM and pixelmatch in the gallery tasks.
 */
const SIZES = {
  quick: { items: 30, attacked: 15, gallery: 100, queries: 200 },
  full: { items: undefined as number | undefined, attacked: 100, gallery: undefined as number | undefined, queries: 1000 },
};
const take = <T>(xs: readonly T[], n: number | undefined) => (n === undefined ? [...xs] : xs.slice(0, n));

export async function suiteMain(argv: string[]): Promise<SuiteJson> {
  const { values } = parseArgs({
    args: argv.filter((a) => a !== '--suite'),
    options: { quick: { type: 'boolean' }, norm: { type: 'string' }, model: { type: 'string' }, baseline: { type: 'string' }, seed: { type: 'string' }, items: { type: 'string' }, attacked: { type: 'string' }, gallery: { type: 'string' }, tasks: { type: 'string' }, out: { type: 'string' }, eps: { type: 'string' }, attack: { type: 'string' }, queries: { type: 'string' }, 'square-encoders': { type: 'string' }, metrics: { type: 'string' } },
  });
  const mode = values.quick ? 'quick' : 'full';
  const seed = Number(values.seed ?? 0);
  // --items all: every item of each task (the full form's default) in the quick form too.
  const items = values.items === 'all' ? undefined : values.items !== undefined ? Number(values.items) : SIZES[mode].items;
  const attacked = values.attacked !== undefined ? Number(values.attacked) : SIZES[mode].attacked;
  /** k-NN and copy retrieval: how many evaluation photos (seeded order) form the gallery; all in the full form. */
  const gallerySize = values.gallery !== undefined ? Number(values.gallery) : SIZES[mode].gallery;
  const tasks = (values.tasks?.split(',') ?? [...SUITE_TASKS]) as SuiteTask[];
  const norm = choiceOption<AttackNorm>('norm', values.norm, ['linf', 'l2'], 'linf');
  // --eps (default the shipped claim, L∞ 4/255; in L2 the paper's 3.0 at 224 px, scaled to each encoder's input)
  // lets a run state the radius a model is robust at; given, it is every encoder's radius as is.
  const givenEps = values.eps === undefined ? undefined : numberOption('eps', values.eps, 0);
  if (givenEps !== undefined && !(givenEps > 0)) throw new Error(`--eps must be positive (got ${givenEps})`);
  /** The radius rule: `eps` at `epsInputSize` px scaled by input size / epsInputSize, or (null) `eps` on every input as is. */
  const epsInputSize = norm === 'l2' && givenEps === undefined ? PAPER_INPUT_SIZE : null;
  const eps = evaluationEps(norm, givenEps, PAPER_INPUT_SIZE);
  const attacks = attackListOption('attack', values.attack, 'apgd,pgd', eps, seed, norm);
  /** An attack of the list on an encoder with `inputSize` px inputs: at that encoder's radius (one for all in L∞ or with --eps). */
  const attackAt = (a: AttackSettings, inputSize: number) => attackSettings(a.method, norm, evaluationEps(norm, givenEps, inputSize), a.steps, seed);
  // Square (src/core/square.ts) is L∞ only: under L2 neither the peers nor the encoders get a Square figure.
  if (norm === 'l2') {
    const given = (['queries', 'square-encoders'] as const).filter((k) => values[k] !== undefined && !(k === 'square-encoders' && values[k] === '0'));
    if (given.length) throw new Error(`--${given.join(', --')}: Square is L∞ only, so an L2 run (--norm l2) has no Square to size (the peers are scored by transfer)`);
  }
  const square = norm === 'linf' ? squareSettings(eps, integerOption('queries', values.queries, SIZES[mode].queries, 1), seed) : null;
  /** How many attacked items per task Square also attacks on each encoder (it costs `queries` forward passes an item). */
  const squareEncoders = square ? integerOption('square-encoders', values['square-encoders'], attacked, 0) : 0;
  const started = performance.now();
  const log = (s: string) => process.stderr.write(`${s}\n`);

  const index = await indexModels();
  const ids = { robust: values.model ?? index.default, baseline: values.baseline ?? index.baseline };
  // --metrics: a subset of the run's metrics (e.g. a candidate model alone: the peers' Square attacks are most
  // of a run's time, and their figures do not depend on the models).
  const wanted = values.metrics?.split(',');
  const known = [ids.robust, ids.baseline, ...PEERS.map((m) => m.id)];
  const unknown = wanted?.filter((id) => !known.includes(id)) ?? [];
  if (unknown.length) throw new Error(`--metrics: ${unknown.join(', ')} not in this run (its metrics: ${known.join(', ')})`);
  const chosen = (id: string) => !wanted || wanted.includes(id);
  const peers = PEERS.filter((m) => chosen(m.id));
  const encoders: SuiteEncoder[] = [];
  const modelInfo: SuiteJson['models'] = [];
  for (const [role, id] of [['robust', ids.robust], ['baseline', ids.baseline]] as const) {
    if (!chosen(id)) continue;
    const opened = await openModel(id);
    if (!opened.info.hasAttackGraph) throw new Error(`Model "${id}" ships no attack.onnx: the suite attacks every encoder.`);
    encoders.push(encoderMetric(opened.info.id, `${opened.info.id} (${role === 'robust' ? 'robust default' : 'baseline'})`, await twoAfcModel(opened, true)));
    modelInfo.push({ id: opened.info.id, role, input_size: opened.info.manifest.input.size, embedding_size: opened.info.manifest.embeddingSize, encoder_sha256: opened.info.manifest.files.encoder.sha256 });
  }
  // Each attack as the JSON records it, with the radius (and first step) each encoder was attacked at.
  const suiteAttacks: SuiteAttack[] = attacks.map((a) => ({
    label: suiteAttackLabel(a),
    method: a.method,
    norm: a.norm,
    eps: a.eps,
    eps_input_size: epsInputSize,
    steps: a.steps,
    step_size: a.stepSize,
    by_model: Object.fromEntries(modelInfo.map((m) => [m.id, { eps: attackAt(a, m.input_size).eps, step_size: attackAt(a, m.input_size).stepSize }])),
    objective: 'margin d(x, correct) − d(x, wrong), ascended by the core attack (src/core/suite.ts attackMargin)',
  }));
  const inputSizes = new Map(modelInfo.map((m) => [m.id, m.input_size]));
  const metrics: SuiteMetric[] = [...(encoders as SuiteMetric[]), ...peers];
  const squareLog = square ? `Square ${square.queries} queries (peers; encoders on ${squareEncoders} items, in the ${suiteAttacks[0].label} pass)` : 'no Square (L∞ only): peers by transfer';
  log(`suite (${mode}): ${metrics.map((m) => m.id).join(', ')}; up to ${items ?? 'all'} items and ${attacked} attacked items per task; ${suiteAttacks.map((a) => a.label).join(', ')} at ${radiusText(suiteAttacks[0], modelInfo)}; ${squareLog}, seed ${seed}`);

  const file = values.out ? path.resolve(values.out) : path.join(root, 'bench/results', `suite-${mode}.json`);
  // Each (task, attack) report is kept in <out>.partial.json as it completes: the full form takes hours, a run
  // that stops (a session's end) starts again where it was when rerun with the same options.
  // The version is among them: a partial file from before the grown semantic task holds other semantic items.
  // An L2 run adds its norm and radius rule (and has no Square budget); L∞ settings are as they were, so a partial L∞
  // run from before --norm resumes, and an L2 run never resumes an L∞ one (its labels and radii differ too).
  const settings: SuiteSettings = {
    version: SUITE_VERSION, mode, seed, items: items ?? null, attacked, gallery: gallerySize ?? null, eps, attacks: suiteAttacks.map((a) => a.label), queries: square?.queries ?? null, square_encoders: squareEncoders,
    ...(norm !== 'linf' ? { norm, eps_input_size: epsInputSize } : {}),
    models: modelInfo.map((m) => `${m.id}:${m.encoder_sha256 ?? '?'}`), metrics: metrics.map((m) => m.id),
  };
  const partial = resumeSuite(file, settings, log);
  const reports: SuiteTaskReport[] = [];
  const imagenetEval = existsSync(DATA.imagenet) ? evaluationImageNames(folderEntries(DATA.imagenet)) : [];
  const imagenet = folderTripletSources(DATA.imagenet, imagenetEval);
  // Each task runs once per attack: its clean figures are recomputed (cheap next to the attacks) so that every report stands alone.
  const run = async (task: SuiteTask, missing: string | null, data: string, definition: string, body: (opts: RunOptions) => Promise<TaskResult & { per_kind?: SuiteTaskReport['per_kind'] }>, gallery?: number) => {
    if (!tasks.includes(task)) return;
    for (const [i, attack] of attacks.entries()) {
      const label = suiteAttacks[i].label;
      const saved = partial.reports.find((r) => r.task === task && r.attack === label);
      if (saved) {
        log(`  ${task} (${label}): from ${path.relative(root, partial.file)}`);
        reports.push(saved);
        continue;
      }
      if (missing) {
        log(`  ${task} (${label}): skipped (${missing})`);
        reports.push({ task, attack: label, skipped: missing });
        continue;
      }
      log(`  ${task} (${label}): ${definition}`);
      const t0 = performance.now();
      const blackBox = square !== null && i === 0;
      // Each encoder at its own radius (the L2 rule scales with its input size; L∞ is one radius for all).
      const byEncoder = Object.fromEntries(encoders.map((e) => [e.id, attackAt(attack, inputSizes.get(e.id)!)]));
      const result = await body({ seed, attacked, attack: { label, byEncoder }, square, squareEncoders, blackBox, log });
      reports.push({ task, attack: label, data, definition, ...(gallery !== undefined ? { gallery } : {}), seconds: +((performance.now() - t0) / 1000).toFixed(1), seconds_per_metric: result.seconds, scores: result.scores, transfer: result.transfer, ...(blackBox ? { square: result.square } : {}), ...(result.per_kind ? { per_kind: result.per_kind } : {}) });
      partial.save(reports.at(-1)!);
    }
  };
  const noImagenet = imagenetEval.length ? null : `${DATA.imagenet} is absent`;

  await run('semantic', noImagenet ?? (existsSync(DATA.wordnet) ? null : `${DATA.wordnet} is absent: install Debian's wordnet-base (scripts/setup.sh --all)`), DATA.imagenet, semanticDefinition(), async (opts) => {
    const taxonomy = parseWordNetNouns(readFileSync(DATA.wordnet, 'utf8'));
    const all = new Map(semanticTriplets(taxonomy, imagenetEval, imagenetEval, seed).map((t) => [`${t.ref}|${t.related}`, t]));
    const triplets = take(seededOrder([...all.keys()], seed, 'semantic'), items).map((key) => all.get(key)!);
    const itemsOf: TripletItem[] = [];
    for (const t of triplets) itemsOf.push({ id: `semantic|${t.ref}|${t.related}`, cluster: t.ref, ref: await imagenet.load(t.ref), correct: await imagenet.load(t.related), wrong: await imagenet.load(t.unrelated) });
    return runTriplets(itemsOf, encoders, peers, opts);
  });

  const flowersEval = existsSync(DATA.flowers) ? evaluationImageNames(folderEntries(DATA.flowers)) : [];
  const flowersGallery = take(seededOrder(flowersEval, seed, 'knn'), gallerySize);
  await run('knn', flowersEval.length ? null : `${DATA.flowers} is absent`, DATA.flowers, `leave-one-out ${KNN_K}-NN over ${flowersGallery.length} of the ${flowersEval.length} evaluation flower photos (5 species); the attack pushes the query out of its class`, async (opts) => {
    const flowers = folderTripletSources(DATA.flowers, flowersEval);
    const gallery = await Promise.all(flowersGallery.map((n) => flowers.load(n)));
    const labels = flowersGallery.map((n) => n.split('_')[0]);
    const queries: GalleryQuery[] = take(flowersGallery, items).map((name, i) => {
      return {
        id: `knn|${name}`,
        pixels: gallery[i],
        decide: (d) => knnPredict(d, labels, KNN_K, i) === labels[i],
        margin: (d) => knnMargin(d, labels, labels[i], KNN_K, i),
        targets: (q, g) => knnTargets(q, g, labels, labels[i], KNN_K, i),
      };
    });
    return runGallery(gallery, queries, encoders, peers, opts);
  }, flowersGallery.length);

  const copyGallery = take(seededOrder(imagenetEval, seed, 'copy'), gallerySize);
  await run('copy', noImagenet, DATA.imagenet, `gallery = ${copyGallery.length} of the ${imagenetEval.length} evaluation photos; query = a seeded crop-zoom + colour jitter + JPEG copy; the attack pushes the query away from its original`, async (opts) => {
    const gallery = await Promise.all(copyGallery.map((n) => imagenet.load(n)));
    const queries: GalleryQuery[] = [];
    for (const [own, name] of take(copyGallery, items).entries()) {
      queries.push({
        id: `copy|${name}`,
        pixels: await applyCopyEdit(gallery[own], copyEdit(seed, name), jpegRoundTrip),
        decide: (d) => nearest(d) === own,
        margin: (d) => copyMargin(d, own),
        targets: (q, g) => copyTargets(q, g, own),
      });
    }
    return runGallery(gallery, queries, encoders, peers, opts);
  }, copyGallery.length);

  await run('distortion', noImagenet, DATA.imagenet, 'the project 2AFC (docs/benchmark-2afc.md): mild vs strong blur, JPEG, noise, colour, geometric; augmented copy vs another photo', async (opts) => {
    const images = take(seededOrder(imagenetEval, seed, 'distortion'), items === undefined ? undefined : Math.ceil(items / KINDS.length));
    const itemsOf: TripletItem[] = [];
    for (const image of images) {
      for (const t of await makeTriplets(image, await imagenet.load(image), seed, imagenet)) {
        itemsOf.push({ id: `distortion|${image}|${t.kind}`, kind: t.kind, cluster: image, ref: t.ref, correct: t.p[t.correct], wrong: t.p[1 - t.correct] });
      }
    }
    const taken = take(itemsOf, items);
    const result = await runTriplets(taken, encoders, peers, opts);
    const per_kind: NonNullable<SuiteTaskReport['per_kind']> = {};
    for (const m of metrics) {
      const { clean, robust } = result.items[m.id];
      per_kind[m.id] = Object.fromEntries(
        KINDS.map((kind) => {
          const idx = taken.map((it, i) => (it.kind === kind ? i : -1)).filter((i) => i >= 0);
          const att = idx.filter((i) => i < robust.length);
          // Attacked items first, as taskScore expects; peers' robust items are Square's in the black-box
          // pass and transfer's in the others (as in runTriplets' own scores).
          const order = [...att, ...idx.filter((i) => i >= robust.length)];
          return [kind, taskScore(order.map((i) => clean[i]), att.map((i) => robust[i]), m.kind === 'peer' && !opts.blackBox, order.map((i) => taken[i].cluster!), seed)];
        }),
      );
    }
    return { ...result, per_kind };
  });

  log('  speed: ms per image pair');
  const speedImages = await Promise.all(take(imagenetEval, 21).map((n) => imagenet.load(n)));
  const pairs = speedImages.slice(1).map((b, i) => [speedImages[i], b] as [typeof b, typeof b]);
  const speed: Record<string, number | null> = {};
  for (const m of metrics) speed[m.id] = pairs.length ? +(await msPerPair(m, pairs)).toFixed(3) : null;

  const seconds = partial.secondsBefore + (performance.now() - started) / 1000;
  const machine = { cpu: cpus()[0]?.model ?? 'unknown', cores: availableParallelism(), node: process.version };
  const result: Omit<SuiteJson, 'table'> = {
    suite: 'rclip-web benchmark suite',
    version: SUITE_VERSION,
    date: new Date().toISOString(),
    mode,
    seed,
    sizes: { items: items ?? null, attacked, gallery: gallerySize ?? null, square_encoders: squareEncoders },
    attacks: suiteAttacks,
    square: square && { queries: square.queries, p_init: square.pInit, eps: square.eps, shortlist: SQUARE_SHORTLIST, run_with: suiteAttacks[0].label, objective: 'the task margin from distances alone (peers: their own distance, pHash its soft Hamming distance; encoders: the white-box margin from embeddings); stops at the first query the decision flips (src/core/square.ts)' },
    models: modelInfo,
    settings,
    metrics: metrics.map((m) => ({ id: m.id, label: m.label, kind: m.kind })),
    tasks: reports,
    speed_ms_per_pair: speed,
    speed_pairs: pairs.length,
    machine,
    seconds: +seconds.toFixed(1),
  };
  const json: SuiteJson = { ...result, table: suiteTables(result) };
  process.stdout.write(`${json.table}\n`);
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, JSON.stringify(json, null, 1) + '\n');
  partial.remove();
  log(`written: ${path.relative(root, file)} (${(seconds / 60).toFixed(1)} min)`);
  return json;
}

interface PartialSuite {
  suite: string;
  settings: SuiteSettings;
  /** Seconds the earlier runs spent on the saved reports. */
  seconds: number;
  tasks: SuiteTaskReport[];
}

/**
 * The reports an earlier run with the same settings saved in `<file>.partial.json` (none if there is no such
 * file), and how to add one. Other settings are an error naming the difference, not a silent restart: the
 * file may hold hours of work.
 */
function resumeSuite(file: string, settings: SuiteSettings, log: (line: string) => void) {
  const partialFile = file.replace(/(\.json)?$/, '.partial.json');
  const started = performance.now();
  let saved: PartialSuite = { suite: 'rclip-web benchmark suite, partial', settings, seconds: 0, tasks: [] };
  if (existsSync(partialFile)) {
    const found = JSON.parse(readFileSync(partialFile, 'utf8')) as PartialSuite;
    const differ = [...new Set([...Object.keys(settings), ...Object.keys(found.settings ?? {})])].filter((k) => JSON.stringify(settings[k]) !== JSON.stringify(found.settings?.[k]));
    if (differ.length) {
      throw new Error(`${partialFile} holds reports made with other settings (${differ.map((k) => `${k}: ${JSON.stringify(found.settings?.[k])} there, ${JSON.stringify(settings[k])} now`).join('; ')}): run with those options to finish it, or move it away to start over`);
    }
    saved = found;
    log(`resuming: ${saved.tasks.length} report(s) from ${partialFile} (${(saved.seconds / 60).toFixed(1)} min of earlier runs)`);
  }
  const secondsBefore = saved.seconds;
  return {
    file: partialFile,
    reports: saved.tasks,
    secondsBefore,
    save(report: SuiteTaskReport) {
      saved = { ...saved, seconds: +(secondsBefore + (performance.now() - started) / 1000).toFixed(1), tasks: [...saved.tasks, report] };
      mkdirSync(path.dirname(partialFile), { recursive: true });
      writeFileSync(`${partialFile}.tmp`, JSON.stringify(saved, null, 1) + '\n');
      renameSync(`${partialFile}.tmp`, partialFile);
    },
    remove() {
      rmSync(partialFile, { force: true });
    },
  };
}
