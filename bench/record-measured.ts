/**
 * `npx tsx bench/record-measured.ts SUITE.json[#ID] [SUITE.json[#ID] …] [--write]`: the benchmark suite's
 * figures for each model it scored, as that model's manifest `robustness.measured` (one entry per
 * attack radius and attack, naming the method and its iterations, with the command that reproduces it). Prints them; --write puts them into
 * public/models/<ID>/manifest.json, so the manifests never carry hand-copied numbers.
 * --training-proxy ID=METRICS.jsonl adds that model's last training proxy (tools/rclip_tools
 * semantic_eval.py, logged by the trainer) next to its step-0 figures (the same layers before training).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { validateManifest, type HeldRadius } from '../src/core/manifest';
import { per255 } from '../src/core/options';
import type { SuiteJson } from './suite/report';

const root = path.resolve(import.meta.dirname, '..');
const { values, positionals } = parseArgs({ options: { write: { type: 'boolean' }, 'training-proxy': { type: 'string', multiple: true } }, allowPositionals: true });
if (!positionals.length) throw new Error('usage: npx tsx bench/record-measured.ts SUITE.json [SUITE.json …] [--write]');

const round = (x: number | null) => (x === null ? null : +x.toFixed(4));

// FILE#ID takes only model ID's figures from FILE: a run that scored the baseline with a previous robust export.
const runs = positionals.map((arg) => {
  const [file, only] = arg.split('#');
  return { file: path.relative(root, path.resolve(file)), only, suite: JSON.parse(readFileSync(file, 'utf8')) as SuiteJson };
});
const byModel = new Map<string, Array<Record<string, unknown>>>();
for (const { file, only, suite } of runs) {
  if (suite.version !== 2 && suite.version !== 3) throw new Error(`${file}: suite JSON version ${suite.version}; record-measured reads versions 2 and 3 (one report per task and attack): re-run the suite.`);
  if (suite.merged_from) throw new Error(`${file} joins ${suite.merged_from.join(' and ')}: record the run that scored the model, whose command reproduces it.`);
  const { sizes, attacks } = suite;
  // The manifests' robustness.measured holds L∞ radii (what the models claim); an L2 run is reported by the suite alone.
  if (attacks[0].norm !== 'linf' || !suite.square) throw new Error(`${file} is an ${attacks[0].norm} run: record-measured records L∞ runs (the manifest's measured radii)`);
  const eps = attacks[0].eps;
  // The run's own options, spelled out (not left to the suite's defaults, which differ between --quick and the full form).
  const args = [
    sizes.items === null ? '' : `--items ${sizes.items}`,
    `--attacked ${sizes.attacked}`,
    sizes.gallery === null ? '' : `--gallery ${sizes.gallery}`,
    eps === 4 / 255 ? '' : `--eps ${per255(eps)}`,
    `--attack ${attacks.map((a) => `${a.method}-${a.steps}`).join(',')}`,
    `--queries ${suite.square.queries}`,
    `--square-encoders ${sizes.square_encoders}`,
    suite.seed === 0 ? '' : `--seed ${suite.seed}`,
    `--metrics ${suite.metrics.map((m) => m.id).join(',')}`,
  ];
  const ranTasks = [...new Set(suite.tasks.filter((t) => t.scores).map((t) => t.task))];
  if (ranTasks.length < 4) args.push(`--tasks ${ranTasks.join(',')}`);
  const models = suite.models.filter((m) => only === undefined || m.id === only);
  for (const model of models) {
    // Figures belong to weights, not to an id: a suite run of the previous export must not land in the new manifest.
    const shipped = JSON.parse(readFileSync(path.join(root, 'public/models', model.id, 'manifest.json'), 'utf8')).files.encoder.sha256;
    if (model.encoder_sha256 === undefined) console.warn(`${file}: no encoder_sha256 for ${model.id} (a run from before the suite recorded it): make sure it scored the weights shipped now (${shipped.slice(0, 12)}…)`);
    else if (model.encoder_sha256 !== shipped) throw new Error(`${file} scored ${model.id} with encoder ${model.encoder_sha256.slice(0, 12)}…, but public/models/${model.id} ships ${shipped.slice(0, 12)}…: re-run the suite`);
  }
  for (const attack of attacks) {
    const tasks = suite.tasks.filter((t) => t.scores && t.attack === attack.label);
    for (const model of models) {
      const entry = {
        attack: `${attack.label} L-inf ${per255(attack.eps)}, ${attack.method === 'apgd' ? 'first step' : 'step'} ${per255(attack.step_size)}, on this model's input pixels through attack.onnx, towards the wrong answer; robust = share right at every step and on clean images`,
        method: attack.method,
        steps: attack.steps,
        eps: attack.eps,
        date: suite.date.slice(0, 10),
        tasks: Object.fromEntries(
          tasks.map((t) => {
            const s = t.scores![model.id];
            return [t.task, { n: s.n, clean: round(s.clean), attacked_n: s.attacked_n, clean_on_attacked: round(s.clean_on_attacked), robust: round(s.robust) }];
          }),
        ),
        command: `npm run bench -- --suite ${args.filter(Boolean).join(' ')} --out ${file}`,
      };
      byModel.set(model.id, [...(byModel.get(model.id) ?? []), entry]);
    }
  }
}

/** The first and last proxy evaluations of a training log (JSON lines; the last record of a step wins, as a resume may repeat it). */
function trainingProxy(file: string) {
  const proxies = new Map<number, Record<string, number>>();
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    if (!line.trim()) continue;
    const r = JSON.parse(line);
    if (r.event === 'proxy') proxies.set(r.step, r);
  }
  const steps = [...proxies.keys()].sort((a, b) => a - b);
  if (!steps.length) throw new Error(`${file}: no proxy evaluations`);
  const [first, last] = [proxies.get(steps[0])!, proxies.get(steps[steps.length - 1])!];
  const figures = (r: Record<string, number>) => ({ push_apart_drift: round(r.drift), semantic_clean: round(r.semantic_clean), semantic_pgd: round(r.semantic_pgd), copy_r1_clean: round(r.copy_r1_clean), copy_r1_pgd: round(r.copy_r1_pgd) });
  return { step: last.step, ...figures(last), [`at_step_${first.step}`]: figures(first), source: `${file} (tools/rclip_tools/semantic_eval.py on 160 evaluation photos, PGD-10 L-inf 4/255 on 32 of them)` };
}
const proxies = new Map((values['training-proxy'] ?? []).map((spec) => {
  const [id, file] = spec.split('=');
  return [id, trainingProxy(file)] as const;
}));

/** Copy R@1 under attack that counts as holding (the largest radius where it stays ≥ 0.9). */
const HOLD_MINIMUM = 0.9;

/**
 * The largest radius at which copy retrieval under `method` stays ≥ HOLD_MINIMUM there and at every
 * smaller measured radius; null when the smallest fails or `method` never ran the copy task.
 */
function heldRadius(entries: Array<Record<string, unknown>>, method: string): HeldRadius | undefined {
  const copy = entries
    .filter((e) => e.method === method && (e.tasks as Record<string, { robust: number | null }>).copy?.robust !== undefined)
    .map((e) => ({ eps: e.eps as number, robust: (e.tasks as Record<string, { robust: number | null }>).copy.robust, steps: e.steps as number }))
    .sort((a, b) => a.eps - b.eps);
  if (!copy.length) return undefined;
  let eps: number | null = null;
  for (const c of copy) {
    if (c.robust === null || c.robust < HOLD_MINIMUM) break;
    eps = c.eps;
  }
  const radii = copy.map((c) => `${per255(c.eps)}: ${c.robust === null ? '—' : c.robust.toFixed(3)}`).join(', ');
  return {
    eps,
    attack: `${method.toUpperCase()}-${copy[0].steps} L-inf`,
    minimum: HOLD_MINIMUM,
    criterion: `the largest measured radius at which the suite's copy retrieval R@1 under the attack (attacked subset) is at least ${HOLD_MINIMUM}, and at every smaller measured radius; measured ${radii}`,
  };
}

for (const [id, entries] of byModel) {
  const holds = heldRadius(entries, 'apgd');
  if (holds) process.stdout.write(`${id}: holds at ${holds.eps === null ? 'none of the measured radii' : per255(holds.eps)} (${holds.criterion})\n`);
  const measured = {
    benchmark: 'benchmark suite (docs/benchmark-suite.md) on the evaluation photos of ../shared/data (imagenet-sample i % 5 == 4; flowers i % 5 == 4 for 5-NN), seed 0',
    // Largest radius first; at one radius, the attacks in the order the suite ran them (APGD-100 first by default).
    runs: [...entries].sort((a, b) => (b.eps as number) - (a.eps as number)),
  };
  process.stdout.write(`${id}: ${JSON.stringify(measured, null, 1)}\n`);
  if (!values.write) continue;
  const file = path.join(root, 'public/models', id, 'manifest.json');
  const manifest = JSON.parse(readFileSync(file, 'utf8'));
  const training = proxies.get(id) ?? manifest.robustness.measured?.training_proxy;
  manifest.robustness.measured = { ...measured, ...(training ? { training_proxy: training } : {}) };
  if (holds) manifest.robustness.holds = holds;
  validateManifest(manifest, file);
  writeFileSync(file, `${JSON.stringify(manifest, null, 2)}\n`);
  process.stdout.write(`wrote robustness.measured into ${path.relative(root, file)}\n`);
}
