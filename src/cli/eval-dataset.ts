/** `rclip eval --dataset nights|bapps|tid2013|kadid10k DIR`: a human-judged data set, clean and under attack, beside the published figures. */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { attackLabel, type AttackSettings } from '../core/attack';
import { RclipError } from '../core/errors';
import { DATASET_LABEL, HUMAN_DATASETS, markdownTable, PUBLISHED_FIGURES, type HumanDataset, type ThreatLabel } from '../core/human-judgements';
import { attackFromOptions, choiceOption, evaluationEps, integerOption, methodSettings, PAPER_INPUT_SIZE, PAPER_L2_EPS, per255 } from '../core/options';
import { readHumanDataset, removePartial, runHumanDataset, type RunKey } from '../engine/human-datasets';
import { openModel, twoAfcModel } from '../engine/node-model';
import type { Output, Values } from './commands';
import { createProgress } from './progress';

/** How the run's attack reads in the paper's terms; the L2 radius says how it was scaled. */
function threatLabel(attack: AttackSettings, inputSize: number, epsGiven: boolean): ThreatLabel {
  const label = attackLabel(attack);
  // The paper's threat: APGD-100 at the radius an evaluation uses when none is given.
  const paper = attack.method === 'apgd' && attack.steps === 100 && Math.abs(attack.eps - evaluationEps(attack.norm, undefined, inputSize)) < 1e-9;
  if (attack.norm === 'linf') return { norm: 'linf', paper, text: `${label} L∞ ε=${per255(attack.eps)}` };
  const scaled = `the paper's ${PAPER_L2_EPS.toFixed(1)} at ${PAPER_INPUT_SIZE} px, scaled by √(pixels ratio) = ${inputSize}/${PAPER_INPUT_SIZE} to this model's ${inputSize} px input`;
  return { norm: 'l2', paper, text: `${label} L2 ε=${attack.eps.toFixed(4)} (${epsGiven ? (paper ? `given; it is ${scaled}` : 'given') : scaled})` };
}

export async function datasetEvalCommand(values: Values, positionals: string[]): Promise<Output> {
  const dataset = choiceOption<HumanDataset>('dataset', values.dataset, HUMAN_DATASETS, 'nights');
  if (values.strict !== undefined) throw new RclipError('INVALID_ARGUMENT', '--strict means nothing with --dataset: an unreadable image of a data set always ends the run (its score file lists it).');
  if (values.images !== undefined) throw new RclipError('INVALID_ARGUMENT', '--dataset takes its folder as the argument (rclip eval --dataset NAME DIR), not --images.');
  if (positionals.length !== 1) throw new RclipError('INVALID_ARGUMENT', `--dataset ${dataset} takes one folder: rclip eval --dataset ${dataset} DIR (got ${positionals.length} arguments).`);
  const dir = path.resolve(positionals[0]);
  const split = typeof values.split === 'string' ? values.split : undefined;
  const requested = attackFromOptions(values);
  const seed = integerOption('seed', values.seed, 0, 0);
  const limit = values.limit === undefined ? undefined : integerOption('limit', values.limit, 0, 1);
  const out = typeof values.out === 'string' ? path.resolve(values.out) : undefined;
  if (values.out !== undefined && !out?.endsWith('.json')) throw new RclipError('INVALID_ARGUMENT', `--out names the JSON result file, ending in .json (got "${String(values.out)}").`);
  // The layout is checked before the model loads: a wrong folder fails in a moment.
  const data = readHumanDataset(dataset, dir, { split });
  const opened = await openModel(values.model as string | undefined);
  if (requested && !opened.info.hasAttackGraph) throw new RclipError('ATTACK_UNAVAILABLE', `Model "${opened.info.id}" ships no attack graph, so it cannot be attacked.`);
  const inputSize = opened.info.manifest.input.size;
  // Without --eps, the suite's radius: L∞ 4/255, or L2 the paper's 3.0 at 224 px scaled to this model's input.
  const attack = requested && values.eps === undefined ? methodSettings(requested.method, { ...values, eps: String(evaluationEps(requested.norm, undefined, inputSize)) }) : requested;
  const threat = attack ? threatLabel(attack, inputSize, values.eps !== undefined) : null;
  const model = await twoAfcModel(opened, attack !== null);
  const key: RunKey = {
    dataset,
    dir,
    split: split ?? null,
    model: opened.info.id,
    encoder_sha256: opened.info.manifest.files.encoder.sha256,
    attack,
    seed,
  };
  const partialFile = out ? `${out}.partial` : undefined;
  if (out) mkdirSync(path.dirname(out), { recursive: true });
  let progress: ReturnType<typeof createProgress> | undefined;
  const run = await runHumanDataset(model, dir, data, {
    attack,
    seed,
    limit,
    partial: partialFile ? { file: partialFile, key } : undefined,
    onItem: (done, total) => (progress ??= createProgress(`eval ${dataset} ${opened.info.id}${attack ? ` (${attackLabel(attack)} ${attack.norm})` : ''}`, total)).tick(done),
  });
  progress?.end();
  if (run.resumed) process.stderr.write(`eval: ${run.resumed} item(s) taken from the partial results "${partialFile}".\n`);
  const table = markdownTable(dataset, opened.info.id, run.summary, threat);
  const header = [
    `${DATASET_LABEL[dataset]} at ${dir}${split ? ` (split ${split})` : ''}: ${run.summary.n} ${data.task === '2afc' ? 'triplets' : 'image pairs'}${limit !== undefined ? ` (the first ${limit})` : ''}, model ${opened.info.id} (${inputSize} px), seed ${seed}`,
    data.task === '2afc'
      ? 'Agreement with people in % (a triplet scores the share of people who chose as the model did), 95 % Wilson interval.'
      : 'Correlation of −distance with the human score (higher = agrees), 95 % bootstrap interval (1,000 resamples of the pairs).',
  ];
  const json = {
    dataset,
    dir,
    split: split ?? null,
    model: opened.info.id,
    input_size: inputSize,
    seed,
    limit: limit ?? null,
    attack: attack ? { method: attack.method, norm: attack.norm, eps: attack.eps, steps: attack.steps, step_size: attack.stepSize, restarts: attack.restarts ?? 1, seed: attack.seed, paper_threat: threat!.paper, threat: threat!.text } : { method: 'none' },
    summary: run.summary,
    published: PUBLISHED_FIGURES[dataset],
    resumed: run.resumed,
  };
  if (out) {
    writeFileSync(out, `${JSON.stringify({ ...json, results: run.results }, null, 1)}\n`);
    writeFileSync(out.replace(/\.json$/, '.md'), `${header.join('\n\n')}\n\n${table}\n`);
    removePartial(partialFile!);
  }
  return { json, text: [...header, '', table].join('\n') };
}
