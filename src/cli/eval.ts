import { attackLabel } from '../core/attack';
import { RclipError } from '../core/errors';
import { KINDS } from '../core/twoafc';
import { runFolderTwoAfc } from '../engine/node-eval';
import type { Output, Values } from './commands';
import { openModel, twoAfcModel } from '../engine/node-model';
import { folderArgument } from './folder-argument';
import { createProgress, skippedLine } from './progress';
import { attackFromOptions, integerOption, requiredString } from '../core/options';

const pct = (x: number | null) => (x === null ? '   —  ' : `${(100 * x).toFixed(1).padStart(5)}%`);

export async function evalCommand(values: Values, positionals: string[]): Promise<Output> {
  if (values.dataset !== undefined) return (await import('./eval-dataset')).datasetEvalCommand(values, positionals);
  for (const option of ['split', 'out'] as const) if (values[option] !== undefined) throw new RclipError('INVALID_ARGUMENT', `--${option} only means something with --dataset.`);
  if (positionals.length) throw new RclipError('INVALID_ARGUMENT', `eval takes no positional arguments (got ${positionals.join(' ')}); use --images DIR.`);
  const dir = folderArgument(requiredString('images', values.images), '--images takes a folder of images');
  const attack = attackFromOptions(values);
  const seed = integerOption('seed', values.seed, 0, 0);
  const limit = values.limit === undefined ? undefined : integerOption('limit', values.limit, 0, 1);
  const opened = await openModel(values.model as string | undefined);
  if (attack && !opened.info.hasAttackGraph) throw new RclipError('ATTACK_UNAVAILABLE', `Model "${opened.info.id}" ships no attack graph, so it cannot be attacked.`);
  const model = await twoAfcModel(opened, attack !== null);
  let progress: ReturnType<typeof createProgress> | undefined;
  const { report, skipped } = await runFolderTwoAfc(model, dir, {
    limit,
    seed,
    attack,
    onImage: (done, total) => (progress ??= createProgress(`eval ${opened.info.id}${attack ? ` (${attack.method} ${attack.norm})` : ''}`, total)).tick(done),
    onSkip: values.strict ? undefined : (s) => process.stderr.write(`eval: ${skippedLine(s)}\n`),
  });
  progress?.end();
  const attackJson = attack ? { method: attack.method, norm: attack.norm, eps: attack.eps, steps: attack.steps, step_size: attack.stepSize, restarts: attack.restarts ?? 1, seed: attack.seed, target: 'reference' } : { method: 'none' };
  const json = { model: opened.info.id, n: report.n, images: report.images, clean_accuracy: report.clean_accuracy, robust_accuracy: report.robust_accuracy, attack: attackJson, seed, per_kind: report.per_kind, skipped };
  const header = `2AFC on ${report.images} evaluation images of ${dir} (${report.n} triplets, seed ${seed}), model ${opened.info.id}`;
  const threat = attack ? `attack: ${attackLabel(attack)} ${attack.norm} eps=${attack.eps.toFixed(5)} ${attack.method === 'apgd' ? 'first step' : 'step'}=${attack.stepSize.toFixed(5)}` : 'attack: none';
  const rows = [...KINDS.map((k) => [k, report.per_kind[k]] as const), ['all', { n: report.n, clean_accuracy: report.clean_accuracy, robust_accuracy: report.robust_accuracy }] as const];
  const table = ['kind        n   clean   robust', ...rows.map(([k, a]) => `${k.padEnd(10)} ${String(a.n).padStart(3)}  ${pct(a.clean_accuracy)}  ${pct(a.robust_accuracy)}`)];
  const skippedText = skipped.length ? [`${skipped.length} unreadable evaluation image(s) left out of the split.`] : [];
  return { json, text: [header, threat, ...table, ...skippedText].join('\n'), skipped: skipped.length };
}
