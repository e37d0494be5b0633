/**
 * The suite's result file (bench/results/suite-*.json): its shape, the tables printed from it, and the
 * merge of two runs that scored different metrics on the same items (the encoders in one run, the peers'
 * hours of Square in another): `npx tsx bench/suite/report.ts merge A.json B.json --out C.json`; and one
 * summary table across radii: `npx tsx bench/suite/report.ts radii A.json B.json …`; and the tables of any
 * result, with every figure's 95 % interval: `npx tsx bench/suite/report.ts render A.json`.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { attackLabel, type AttackSettings } from '../../src/core/attack';
import { per255 } from '../../src/core/options';
import { wilsonInterval, type Interval } from '../../src/core/agreement-stats';
import { KNN_K, SUITE_TASKS, type SuiteTask, type TaskScore } from '../../src/core/suite';
import { KINDS } from '../../src/core/twoafc';
import { markdownTable } from '../markdown';

/**
 * The result version the suite writes. 3: the semantic task's items are up to 4 triplets a reference
 * (src/core/wordnet.ts SEMANTIC_RULE, ids semantic|ref|related) and every score carries its 95 %
 * intervals (`ci95`). 2: one triplet a reference (ids semantic|ref), no intervals: such results
 * re-render to their own tables, and `render` shows them with Wilson intervals from their counts.
 */
export const SUITE_VERSION = 3;

export interface SuiteTaskReport {
  task: SuiteTask;
  /** Which attack the robust figures are under (suiteAttackLabel: "APGD-100", "PGD-10", "APGD-100 L2"); one report per task and attack. */
  attack: string;
  /** Present when the task could not run (data absent): the reason. */
  skipped?: string;
  data?: string;
  definition?: string;
  /** Gallery tasks: how many photos the gallery holds. */
  gallery?: number;
  seconds?: number;
  seconds_per_metric?: Record<string, number>;
  /** Encoders: under the white-box attack; peers: under Square in the first attack's pass, else by transfer. */
  scores?: Record<string, TaskScore>;
  /** Peers on the encoders' adversarial images. */
  transfer?: Record<string, TaskScore>;
  /** Encoders under Square (black-box): the gradient-masking check. */
  square?: Record<string, TaskScore>;
  per_kind?: Record<string, Record<string, TaskScore>>;
}

export interface SuiteAttack {
  label: string;
  method: AttackSettings['method'];
  norm: AttackSettings['norm'];
  /** The radius; with `eps_input_size`, the radius at that input size, each encoder's scaled by its size / eps_input_size. */
  eps: number;
  /** L2's rule (the paper's 3.0 at 224 px): set when each encoder's radius is scaled to its input; null or absent: `eps` for all. */
  eps_input_size?: number | null;
  steps: number;
  /** PGD's fixed step; APGD's first step (halved at its checkpoints): at `eps`. */
  step_size: number;
  /** The radius and first step each encoder was attacked at (absent in results from before L2 runs: `eps` for all). */
  by_model?: Record<string, { eps: number; step_size: number }>;
  objective: string;
}

/** How the suite names an attack: attackLabel, and " L2" for an L2 one (L∞ is the suite's default and keeps its labels). */
export function suiteAttackLabel(a: Pick<AttackSettings, 'method' | 'steps' | 'restarts' | 'norm'>): string {
  return `${attackLabel(a)}${a.norm === 'l2' ? ' L2' : ''}`;
}

const l2Radius = (x: number) => `${+x.toFixed(4)}`;

/** A radius rule in words: "L∞ 4/255", "L2 1.5", "L2 3 at 224 px scaled by input size / 224 (rclip-mnv2-robust 1.2857 at 96 px, …)". */
export function radiusText(a: Pick<SuiteAttack, 'norm' | 'eps' | 'eps_input_size' | 'by_model'>, models: ReadonlyArray<{ id: string; input_size: number }>): string {
  if (a.norm === 'linf') return `L∞ ${per255(a.eps)}`;
  if (!a.eps_input_size) return `L2 ${l2Radius(a.eps)}`;
  const each = models.filter((m) => a.by_model?.[m.id]).map((m) => `${m.id} ${l2Radius(a.by_model![m.id].eps)} at ${m.input_size} px`);
  return `L2 ${l2Radius(a.eps)} at ${a.eps_input_size} px scaled by input size / ${a.eps_input_size}${each.length ? ` (${each.join(', ')})` : ''}`;
}

/** What makes two runs' attacks one threat: the norm and the radius rule (each encoder's radius follows from it and its input size). */
const radiusKey = (a: Pick<SuiteAttack, 'norm' | 'eps' | 'eps_input_size'>) => `${a.norm} ${a.eps} ${a.eps_input_size ?? ''}`;

/** What must match for saved reports to be reused: the options that change a report's figures. */
export type SuiteSettings = Record<string, unknown>;

export interface SuiteMetricInfo {
  id: string;
  label: string;
  kind: 'encoder' | 'peer';
}

export interface SuiteJson {
  suite: string;
  version: number;
  date: string;
  mode: 'quick' | 'full';
  seed: number;
  sizes: { items: number | null; attacked: number; gallery: number | null; square_encoders: number };
  /** The attacks of --attack, in order; each task has one report per attack. */
  attacks: SuiteAttack[];
  /** Square's budget; null in an L2 run (Square is L∞ only); absent in the oldest version 2 result. */
  square: { queries: number; shortlist: number; [key: string]: unknown } | null;
  /** encoder_sha256: which weights were scored (an id outlives a re-export; record-measured checks it). */
  models: Array<{ id: string; role: string; input_size: number; embedding_size: number; encoder_sha256?: string }>;
  /** The options that decide the figures: what a partial run (<out>.partial.json) must match to be resumed. */
  settings?: SuiteSettings;
  /** A merged file: the runs it joins. */
  merged_from?: string[];
  metrics: SuiteMetricInfo[];
  tasks: SuiteTaskReport[];
  speed_ms_per_pair: Record<string, number | null>;
  /** How many image pairs each speed is the median of. */
  speed_pairs?: number;
  machine: { cpu: string; cores: number; node: string };
  seconds: number;
  table: string;
}

const TITLES: Record<SuiteTask, string> = { semantic: 'semantic 2AFC', knn: `${KNN_K}-NN`, copy: 'copy R@1', distortion: 'distortion 2AFC' };
const pct = (x: number | null | undefined) => (x === null || x === undefined || Number.isNaN(x) ? '—' : `${(100 * x).toFixed(1)}`);

type Figure = 'clean' | 'clean_on_attacked' | 'robust';

/**
 * A figure's 95 % interval: the one the run stored, or for a result written before intervals (version 2),
 * Wilson's from its count (its items taken as independent).
 */
export function figureInterval(s: TaskScore, figure: Figure): Interval | null {
  const stored = s.ci95?.[figure];
  if (stored) return stored;
  const value = s[figure];
  const n = figure === 'clean' ? s.n : s.attacked_n;
  return value === null || !n ? null : wilsonInterval(value * n, n);
}

/** A figure in %, and its interval in parentheses when `intervals`. */
const figureText = (s: TaskScore | undefined, figure: Figure, intervals: boolean) => {
  const ci = s && intervals ? figureInterval(s, figure) : null;
  return ci && !Number.isNaN(ci.low) ? `${pct(s![figure])} (${pct(ci.low)}–${pct(ci.high)})` : pct(s?.[figure]);
};

/** What the parentheses are, under a table. */
const intervalNote = (json: Pick<SuiteJson, 'version'>) =>
  json.version >= 3
    ? ' In parentheses: 95 % intervals, Wilson score intervals over the items; where items share a photo (semantic triplets of one reference, distortion triplets of one photo) Wilson over the effective sample size, n over the design effect a seeded cluster bootstrap over those photos measures (docs/benchmark-suite.md).'
    : ' In parentheses: 95 % Wilson score intervals from the counts (this result predates stored intervals, so items that share a photo are counted as independent: the distortion intervals, six triplets a photo, may be too narrow).';

/** How a peer's attacked figure was made: ‡ Square (the first attack's pass), † transfer (the others). */
const peerMark = (m: SuiteMetricInfo, transfer: boolean | undefined) => (m.kind !== 'peer' ? '' : transfer ? ' †' : ' ‡');

/**
 * The tables of a result (printed by the run, kept as its `table`). `intervals`: each figure with its 95 %
 * interval, as version 3 results are written; a version 2 result's own table has none.
 */
export function suiteTables(json: Omit<SuiteJson, 'table'>, intervals = json.version >= 3): string {
  const { tasks: reports, metrics, mode, seed, machine } = json;
  const labels = json.attacks.map((a) => a.label);
  const radius = radiusText(json.attacks[0], json.models);
  const epsLabel = per255(json.attacks[0].eps);
  const l2 = json.attacks[0].norm === 'l2';
  // An L2 column names its radius rule; an encoder's row its own radius (it depends on the input size). L∞ tables are as they were.
  const { eps, eps_input_size: scaledFrom, by_model: byModel } = json.attacks[0];
  const columnRadius = !l2 ? '' : scaledFrom ? ` (ε ${l2Radius(eps)}·size/${scaledFrom})` : ` (ε ${l2Radius(eps)})`;
  const rowLabel = (m: SuiteMetricInfo) => (m.kind !== 'encoder' ? m.label : `**${m.label}**${l2 && byModel?.[m.id] ? `, L2 ε ${l2Radius(byModel[m.id].eps)}` : ''}`);
  const speed = json.speed_ms_per_pair;
  const ranTasks = SUITE_TASKS.filter((t) => reports.some((r) => r.task === t && r.scores));
  const reportOf = (task: SuiteTask, label: string) => reports.find((r) => r.task === task && r.attack === label && r.scores);
  const attacked = (s: TaskScore | undefined, m: SuiteMetricInfo) => (!s || s.robust === null ? '—' : `${figureText(s, 'clean_on_attacked', intervals)} → ${figureText(s, 'robust', intervals)}${peerMark(m, s.transfer)}`);
  const head = ['metric', ...ranTasks.flatMap((t) => [`${TITLES[t]} clean`, ...labels.map((l) => `attacked subset: clean → ${l}${columnRadius}`)]), 'ms / pair'];
  const rows = metrics.map((m) => [
    rowLabel(m),
    ...ranTasks.flatMap((t) => [figureText(reportOf(t, labels[0])?.scores?.[m.id], 'clean', intervals), ...labels.map((l) => attacked(reportOf(t, l)?.scores?.[m.id], m))]),
    speed[m.id] === null || speed[m.id] === undefined ? '—' : speed[m.id]!.toFixed(2),
  ]);
  const counts = ranTasks
    .map((t) => {
      const r = reportOf(t, labels[0])!;
      const s = Object.values(r.scores!)[0];
      const gallery = t === 'knn' || t === 'copy' ? `, gallery ${r.gallery ?? json.sizes.gallery ?? s.n}` : '';
      return `${TITLES[t]}: ${s.n} items, ${s.attacked_n} attacked${gallery}`;
    })
    .join('; ');
  const distortions = labels.map((l) => reports.find((r) => r.task === 'distortion' && r.attack === l && r.per_kind)).filter((r) => r !== undefined);
  const skipped = [...new Set(reports.filter((r) => r.skipped).map((r) => `${r.task} (${r.skipped})`))];
  // The first attack's pass also ran Square: encoders under Square, peers by that attack's transfer.
  const second = (r: SuiteTaskReport | undefined, m: SuiteMetricInfo) => {
    const s = (m.kind === 'peer' ? r?.transfer : r?.square)?.[m.id];
    return !s || s.robust === null ? '—' : `${figureText(s, 'clean_on_attacked', intervals)} → ${figureText(s, 'robust', intervals)} (${s.attacked_n})`;
  };
  const merged = json.merged_from ? ` Merged from ${json.merged_from.join(' and ')} (same items, seed and attacks; each metric scored, and its ms / pair timed, in one of them: compare speeds within one run).` : '';
  const encodersNote = `Encoders: each attack made on the encoder's own input pixels through its attack.onnx (${labels.join(', ')}: src/core/attack.ts; APGD's first step 2·ε, PGD's steps 2.5·ε/steps).`;
  const peersNote = l2
    ? `† SSIM, pixelmatch and pHash have no gradient, and Square, the suite's black-box attack, is L∞ only (src/core/square.ts): under L2 they get no attack of their own; in every column they are scored by transfer (on the adversarial images made against the run's encoders by that attack; right on all to count, '—' without an encoder in the run). Each encoder's radius: ${radius}.`
    : `‡ SSIM, pixelmatch and pHash have no gradient: in the ${labels[0]} column they are attacked with Square (score-based, L∞ ${epsLabel}, ${json.square!.queries} queries an item, on their own margin; gallery tasks compare each query with the ${json.square!.shortlist} gallery items nearest the clean query, the verdict with all); † in the other columns they are scored by transfer (on the adversarial images made against both encoders by that attack; right on both to count).`;
  const square = l2 ? null : json.square;
  return [
    `### Benchmark suite (${mode}, seed ${seed}): accuracy %, clean and under ${labels.join(' and ')}${l2 ? ':' : ''} ${radius}`,
    markdownTable(head, rows),
    `${counts}. clean = all items; the attacked subset = the first items of each task (seeded order), shown as its clean accuracy → its accuracy under each attack; an item wrong on clean images counts wrong. ${encodersNote} ${peersNote} ms / pair: features of two images at 128×128 (already decoded) + the distance, median of ${json.speed_pairs ?? 20} pairs, this machine (${machine.cpu}, ${machine.cores} cores), same run. Skipped: ${skipped.join(', ') || 'none'}. Total ${(json.seconds / 60).toFixed(1)} min.${merged}${intervals ? intervalNote(json) : ''}`,
    ...(square
      ? [
          `### Second opinions: encoders under Square (black-box, ${square.queries} queries; the gradient-masking check) and peers by transfer † from ${labels[0]}`,
          markdownTable(
            ['metric', ...ranTasks.flatMap((t) => [`${TITLES[t]}: ${labels[0]} (encoders) / Square ‡ (peers)`, 'Square (encoders) / transfer † (peers)'])],
            metrics.map((m) => [m.kind === 'encoder' ? `**${m.id}**` : m.id, ...ranTasks.flatMap((t) => { const r = reportOf(t, labels[0]); return [figureText(r?.scores?.[m.id], 'robust', intervals), second(r, m)]; })]),
          ),
          `Attacked subset, clean → attacked (%), (items). A black-box attack that beats the white-box one on an encoder (lower accuracy under Square than under ${labels[0]}) would mean its gradient misleads the white-box attack. † transfer: the peers scored on the adversarial images made against both encoders (right on both to count). Encoders' Square: the margin the white-box attack ascends, from embeddings only; the verdict is the task's decision.`,
        ]
      : []),
    ...distortions.flatMap((distortion) => [
      `### Distortion 2AFC per kind under ${distortion.attack}: clean; attacked subset: clean → attacked (%), and the number of items (all / attacked)`,
      markdownTable(
        ['metric', ...KINDS],
        metrics
          .filter((m) => distortion.per_kind![m.id])
          .map((m) => [m.id, ...KINDS.map((k) => { const c = distortion.per_kind![m.id][k]; return `${figureText(c, 'clean', intervals)}; ${figureText(c, 'clean_on_attacked', intervals)} → ${figureText(c, 'robust', intervals)}${peerMark(m, c.transfer)} (${c.n}/${c.attacked_n})`; })]),
      ),
    ]),
  ].join('\n\n');
}

/** What decides a run's items (and Square's budget on them): where two runs differ in it, the first difference. */
function itemsDiffer(a: SuiteJson, b: SuiteJson): string | undefined {
  const fields: Array<[string, (x: SuiteJson) => unknown]> = [
    ['mode', (x) => x.mode],
    ['seed', (x) => x.seed],
    ['items', (x) => x.sizes.items],
    ['attacked items', (x) => x.sizes.attacked],
    ['gallery', (x) => x.sizes.gallery],
    // An L2 run has no Square (null): its items are the same as an L∞ run's.
    ["Square's queries", (x) => x.square?.queries ?? null],
  ];
  for (const [what, of] of fields) {
    const [x, y] = [JSON.stringify(of(a)), JSON.stringify(of(b))];
    if (what === "Square's queries" && (x === 'null' || y === 'null')) continue;
    if (x !== y) return `${what} differs (${x} and ${y})`;
  }
  // A task's definition names its item rule: the semantic task of version 2 and of version 3 are other items.
  for (const task of SUITE_TASKS) {
    const [x, y] = [a, b].map((s) => s.tasks.find((r) => r.task === task && r.scores)?.definition);
    if (x !== undefined && y !== undefined && x !== y) return `${task}'s items differ ("${x}" and "${y}")`;
  }
  return undefined;
}

/**
 * Several results as one table across radii, for a summary: a row per metric with its clean figures (all
 * items), then a row per radius with the attacked subset's clean → attacked figures, the encoders under each
 * white-box attack, the peers under their own Square ‡. Results may split the metrics or the tasks of one
 * radius between them (the encoders in one run, the peers in another); all must be over the same items, and
 * a metric scored twice on one task at one radius is refused.
 */
export function radiiTable(suites: readonly SuiteJson[], names: readonly string[]): string {
  for (const [i, x] of suites.entries()) {
    const differs = itemsDiffer(suites[0], x);
    if (differs) throw new Error(`${names[i]} is not over the same items as ${names[0]} (${differs}): one table needs one set of items`);
  }
  const metrics: SuiteMetricInfo[] = [];
  for (const m of suites.flatMap((x) => x.metrics)) if (!metrics.some((n) => n.id === m.id)) metrics.push(m);
  metrics.sort((a, b) => (a.kind === b.kind ? 0 : a.kind === 'encoder' ? -1 : 1));
  // One row group per threat (norm and radius rule): L∞ radii from the largest, then L2 ones.
  const threats = new Map(suites.map((x) => [radiusKey(x.attacks[0]), x.attacks[0]]));
  const radii = [...threats.keys()].sort((a, b) => {
    const [x, y] = [threats.get(a)!, threats.get(b)!];
    return x.norm !== y.norm ? (x.norm === 'linf' ? -1 : 1) : y.eps - x.eps;
  });
  const threatText = (key: string) => {
    const a = threats.get(key)!;
    return a.norm === 'linf' ? per255(a.eps) : a.eps_input_size ? `L2 ${l2Radius(a.eps)}·size/${a.eps_input_size}` : `L2 ${l2Radius(a.eps)}`;
  };
  const tasks = SUITE_TASKS.filter((t) => suites.some((x) => x.tasks.some((r) => r.task === t && r.scores)));
  /** The run that scored metric `id` on `task` under threat `key`, if any. */
  const runOf = (id: string, key: string, task: SuiteTask) => {
    const found = suites.flatMap((x, i) => (radiusKey(x.attacks[0]) === key && x.metrics.some((m) => m.id === id) && x.tasks.some((r) => r.task === task && r.scores?.[id]) ? [{ x, name: names[i] }] : []));
    if (found.length > 1) throw new Error(`${id} is scored on ${task} at ${threatText(key)} by both ${found[0].name} and ${found[1].name}: give one of them`);
    return found[0]?.x;
  };
  const score = (x: SuiteJson | undefined, task: SuiteTask, label: string, id: string) => x?.tasks.find((r) => r.task === task && r.attack === label)?.scores?.[id];
  const rows: string[][] = [];
  for (const m of metrics) {
    const clean = (t: SuiteTask) => {
      const x = radii.map((eps) => runOf(m.id, eps, t)).find((y) => y !== undefined);
      return figureText(x && score(x, t, x.attacks[0].label, m.id), 'clean', true);
    };
    rows.push([m.kind === 'encoder' ? `**${m.label}**` : m.label, 'clean (all items)', ...tasks.map(clean)]);
    for (const key of radii) {
      const runs = tasks.map((t) => runOf(m.id, key, t));
      const any = runs.find((x) => x !== undefined);
      if (!any) continue;
      // A peer's figure in the later attacks' passes is transfer from the encoders; its own attack is the first pass's
      // Square (L∞), and under L2 there is none: transfer there too.
      const labels = m.kind === 'peer' ? [any.attacks[0].label] : any.attacks.map((a) => a.label);
      const cell = (t: SuiteTask, i: number) => {
        const scores = labels.map((l) => score(runs[i], t, l, m.id));
        const s = scores.find((y) => y !== undefined && y.robust !== null);
        return s ? `${figureText(s, 'clean_on_attacked', true)} → ${scores.map((y) => figureText(y, 'robust', true)).join(' / ')}` : '—';
      };
      const peerAttack = threats.get(key)!.norm === 'linf' ? 'Square ‡' : `transfer † (${labels[0]})`;
      rows.push(['', `${threatText(key)}: clean → ${m.kind === 'peer' ? peerAttack : labels.join(' / ')}`, ...tasks.map(cell)]);
    }
  }
  const sizes = tasks.map((t) => {
    const s = Object.values(suites.map((x) => x.tasks.find((y) => y.task === t && y.scores)).find((y) => y !== undefined)!.scores!)[0];
    return `${TITLES[t]} ${s.n} items, ${s.attacked_n} attacked`;
  });
  const withSquare = suites.find((x) => x.square && x.attacks[0].norm === 'linf');
  const l2Run = suites.find((x) => x.attacks[0].norm === 'l2');
  return [
    markdownTable(['metric', 'images', ...tasks.map((t) => TITLES[t])], rows),
    `Accuracy %. clean = all items; the attacked subset = the first items of each task (seeded order): its clean accuracy → its accuracy under each attack (encoders: white-box, on the encoder's own input pixels${withSquare ? `; ‡ peers: Square, ${withSquare.square!.queries} queries an item` : ''}${l2Run ? `; L2: each encoder at its own radius (${radiusText(l2Run.attacks[0], l2Run.models)}), † peers by transfer from the encoders' L2 images (Square is L∞ only)` : ''}). ${sizes.join('; ')}. From ${names.join(', ')}.${intervalNote({ version: Math.min(...suites.map((x) => x.version)) })}`,
  ].join('\n\n');
}

/**
 * Two results over the same items (mode, seed, sizes, ε, Square's budget) that scored different metrics or
 * different tasks, as one: each (task, attack) report joins both runs' figures; an attack only one run made
 * leaves the other's metrics '—' there. Refuses runs that differ in what decides the items, that scored one
 * metric on the same task and attack, or that scored different weights under one model id.
 */
export function mergeSuites(a: SuiteJson, b: SuiteJson, names: [string, string]): SuiteJson {
  const same = (what: string, x: unknown, y: unknown) => {
    if (JSON.stringify(x) !== JSON.stringify(y)) throw new Error(`cannot merge ${names[0]} and ${names[1]}: ${what} differs (${JSON.stringify(x)} and ${JSON.stringify(y)})`);
  };
  const differs = itemsDiffer(a, b);
  if (differs) throw new Error(`cannot merge ${names[0]} and ${names[1]}: ${differs}`);
  // One file, one format: a version 2 result has no intervals and other semantic items.
  same('version', a.version, b.version);
  // One threat: an L∞ and an L2 run (or two radius rules) are different attacks on the same items, never one column.
  same('norm', a.attacks[0].norm, b.attacks[0].norm);
  same('ε', a.attacks[0].eps, b.attacks[0].eps);
  same("the radius rule's input size", a.attacks[0].eps_input_size ?? null, b.attacks[0].eps_input_size ?? null);
  for (const m of a.models) {
    const other = b.models.find((n) => n.id === m.id);
    if (other && other.encoder_sha256 !== m.encoder_sha256) throw new Error(`cannot merge ${names[0]} and ${names[1]}: they scored different weights as ${m.id}`);
  }
  // Runs may split the metrics (the encoders in one, the peers in another) or the tasks (two processes on two cores).
  for (const x of a.tasks) {
    const y = b.tasks.find((r) => r.task === x.task && r.attack === x.attack);
    const shared = Object.keys(x.scores ?? {}).filter((id) => y?.scores?.[id]);
    if (shared.length) throw new Error(`cannot merge ${names[0]} and ${names[1]}: both scored ${shared.join(', ')} on ${x.task} (${x.attack})`);
  }
  // Each encoder's radius (by_model) is its run's: the runs must agree on the encoders both attacked, and the union is kept.
  const defining = (x: SuiteAttack) => ({ ...x, objective: undefined, by_model: undefined, eps_input_size: x.eps_input_size ?? null });
  const attacks = [...a.attacks, ...b.attacks.filter((x) => !a.attacks.some((y) => y.label === x.label))].map((x) => {
    const y = b.attacks.find((z) => z.label === x.label);
    if (!y || y === x) return x;
    same(`attack ${x.label}`, defining(y), defining(x));
    for (const id of Object.keys(x.by_model ?? {})) if (y.by_model?.[id]) same(`attack ${x.label}'s radius on ${id}`, y.by_model[id], x.by_model![id]);
    return x.by_model || y.by_model ? { ...x, by_model: { ...x.by_model, ...y.by_model } } : x;
  });
  const join = <T>(x: Record<string, T> | undefined, y: Record<string, T> | undefined) => (x || y ? { ...x, ...y } : undefined);
  const tasks: SuiteTaskReport[] = [];
  for (const task of SUITE_TASKS) {
    for (const { label } of attacks) {
      const [x, y] = [a, b].map((s) => s.tasks.find((r) => r.task === task && r.attack === label));
      if (!x || !y) {
        if (x ?? y) tasks.push((x ?? y)!);
        continue;
      }
      if (x.skipped || y.skipped) {
        tasks.push(x.skipped ? x : y);
        continue;
      }
      tasks.push({
        ...x,
        seconds: +((x.seconds ?? 0) + (y.seconds ?? 0)).toFixed(1),
        seconds_per_metric: join(x.seconds_per_metric, y.seconds_per_metric),
        scores: join(x.scores, y.scores),
        transfer: join(x.transfer, y.transfer),
        square: join(x.square, y.square),
        per_kind: join(x.per_kind, y.per_kind),
      });
    }
  }
  const byKind = (kind: SuiteMetricInfo['kind']) => [...a.metrics, ...b.metrics.filter((m) => !a.metrics.some((n) => n.id === m.id))].filter((m) => m.kind === kind);
  const json: Omit<SuiteJson, 'table'> = {
    ...a,
    date: [a.date, b.date].sort().at(-1)!,
    sizes: { ...a.sizes, square_encoders: Math.max(a.sizes.square_encoders, b.sizes.square_encoders) },
    attacks,
    models: [...a.models, ...b.models.filter((m) => !a.models.some((n) => n.id === m.id))],
    settings: undefined,
    merged_from: names,
    metrics: [...byKind('encoder'), ...byKind('peer')],
    tasks,
    speed_ms_per_pair: { ...b.speed_ms_per_pair, ...a.speed_ms_per_pair },
    seconds: +(a.seconds + b.seconds).toFixed(1),
  };
  return { ...json, table: suiteTables(json) };
}

if (process.argv[1] && path.resolve(process.argv[1]) === path.resolve(import.meta.filename)) {
  const { positionals, values } = parseArgs({ allowPositionals: true, options: { out: { type: 'string' } } });
  const read = (f: string) => JSON.parse(readFileSync(f, 'utf8')) as SuiteJson;
  if (positionals[0] === 'radii' && positionals.length > 1) {
    // FILE#ID,ID takes only those metrics from FILE (a run that also scored a previous export).
    const runs = positionals.slice(1).map((arg) => {
      const [file, only] = arg.split('#');
      const suite = read(file);
      const ids = only?.split(',');
      return { name: path.basename(arg), suite: ids ? { ...suite, metrics: suite.metrics.filter((m) => ids.includes(m.id)) } : suite };
    });
    try {
      process.stdout.write(`${radiiTable(runs.map((r) => r.suite), runs.map((r) => r.name))}\n`);
    } catch (error) {
      process.stderr.write(`${(error as Error).message}\n`);
      process.exit(1);
    }
    process.exit(0);
  }
  if (positionals[0] === 'render' && positionals.length === 2) {
    process.stdout.write(`${suiteTables(read(positionals[1]), true)}\n`);
    process.exit(0);
  }
  if (positionals[0] !== 'merge' || positionals.length !== 3 || !values.out) {
    process.stderr.write('usage: npx tsx bench/suite/report.ts merge A.json B.json --out C.json\n       npx tsx bench/suite/report.ts radii A.json[#ID,…] [B.json …]   (one table across radii)\n       npx tsx bench/suite/report.ts render A.json   (its tables, every figure with its 95 % interval)\n');
    process.exit(2);
  }
  const [fa, fb] = positionals.slice(1);
  const merged = mergeSuites(read(fa), read(fb), [path.basename(fa), path.basename(fb)]);
  writeFileSync(values.out, JSON.stringify(merged, null, 1) + '\n');
  process.stdout.write(`${merged.table}\n`);
}
