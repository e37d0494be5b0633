/**
 * `rclip attack <image> --out adv.png`: an adversarial copy to test pipelines with. PGD, APGD or FGSM
 * (L∞ or L2) in the model's input pixels via its attack.onnx, or (--method square) Square Attack through the
 * embeddings alone (src/engine/square-attack.ts), so the copy is written at the model's input size
 * (resized and centre-cropped like every input), as a lossless PNG. The PNG is 8-bit, so the command
 * re-reads it and reports the distance of the file as written next to the float attack's.
 */
import sharp from 'sharp';
import { ATTACK_METHODS, attackLabel, type AttackObjective } from '../core/attack';
import type { RgbaImage } from '../core/preprocess';
import { squareSettings, SQUARE_DEFAULTS } from '../core/square';
import { squareAttackImage } from '../engine/square-attack';
import { RclipError } from '../core/errors';
import { choiceOption, integerOption, methodSettings, numberOption, positionalCount, requiredString } from '../core/options';
import { openModel } from '../engine/node-model';
import type { Output, Values } from './commands';
import { createProgress } from './progress';

/** The robust/baseline counterpart of an index model (index.json default ↔ baseline), if any. */
async function counterpart(model: Awaited<ReturnType<typeof openModel>>): Promise<string | null> {
  if (model.ref.endsWith('/')) return null;
  const index = await model.engine.index();
  return model.ref === index.default ? index.baseline : model.ref === index.baseline ? index.default : null;
}

export async function attackCommand(values: Values, positionals: string[]): Promise<Output> {
  positionalCount(positionals, 1, 1, 'one image');
  const [image] = positionals;
  const out = requiredString('out', values.out);
  if (!/\.png$/i.test(out)) throw new RclipError('INVALID_ARGUMENT', `--out must end in .png: the copy is written losslessly (got "${out}").`);
  const target = typeof values.target === 'string' ? values.target : null;
  const choice = choiceOption('objective', values.objective, ['push', 'pull'] as const, target ? 'pull' : 'push');
  // push without a target: away from the image itself; push with --target B: away from B (evading a match).
  const objective: AttackObjective = choice === 'pull' ? 'pull-together' : target ? 'push-from-target' : 'push-apart';
  if (objective === 'pull-together' && !target) throw new RclipError('INVALID_ARGUMENT', '--objective pull needs --target B, the image to pull towards.');
  // Square (score-based, L∞ only) is its own branch; everything below the branch is the gradient attacks'.
  const method = choiceOption('method', values.method, [...ATTACK_METHODS, 'square'] as const, 'pgd');
  if (method === 'square') return squareCommand(values, image, target, objective, out);
  if (values.queries !== undefined) throw new RclipError('INVALID_ARGUMENT', `--queries is for --method square; ${method} takes --steps.`);
  const settings = methodSettings(method, values);
  const { norm, eps, steps, seed } = settings;
  const model = await openModel(values.model as string | undefined);
  const other = await counterpart(model);
  const progress = createProgress('attack steps', (steps + 1) * (settings.restarts ?? 1));
  const outcome = await model.engine.attack(image, target, { model: model.ref, otherModel: other ?? undefined, objective, settings }, { onStep: (s) => progress.tick(s.step + 1) });
  progress.end();
  return finishCopy(model, other, { image, target, objective, out }, { rgba: outcome.adversarialRgba, attacked: outcome.attacked, otherClean: outcome.other?.clean ?? null }, `${attackLabel(settings)} ${norm} eps=${eps.toFixed(5)} seed=${seed}, ${objective}.`, { settings });
}

/**
 * Writes the copy as a lossless 8-bit PNG, measures the file as written against the reference under
 * the attacked model and the other one, and reports both beside the float attack's distance.
 */
async function finishCopy(
  model: Awaited<ReturnType<typeof openModel>>,
  other: string | null,
  request: { image: string; target: string | null; objective: AttackObjective; out: string },
  copy: { rgba: RgbaImage; attacked: { clean: number; after: number }; otherClean: number | null },
  how: string,
  extra: Record<string, unknown>,
): Promise<Output> {
  const { image, target, objective, out } = request;
  const { width, height, data } = copy.rgba;
  await sharp(Buffer.from(data.buffer, data.byteOffset, data.byteLength), { raw: { width, height, channels: 4 } })
    .removeAlpha()
    .png({ compressionLevel: 9 })
    .toFile(out);
  const reference = objective === 'push-apart' ? image : target!;
  const written = (await model.engine.distance(out, reference, model.ref)).distance;
  const otherWritten = other && copy.otherClean !== null ? { model: other, clean: copy.otherClean, written: (await model.engine.distance(out, reference, other)).distance } : null;
  const what = objective === 'push-apart' ? `d(copy, ${image})` : `d(copy, ${target})`;
  const text = [
    `Wrote ${out}: PNG (lossless), ${width}×${height} px = ${model.info.id}'s input size (the image was resized and centre-cropped first).`,
    how,
    `${model.info.id} (attacked): ${what} ${copy.attacked.clean.toFixed(4)} → ${copy.attacked.after.toFixed(4)} (float), ${written.toFixed(4)} (the 8-bit PNG)`,
    ...(otherWritten ? [`${other} (transfer):   ${what} ${otherWritten.clean.toFixed(4)} → ${otherWritten.written.toFixed(4)} (the 8-bit PNG)`] : []),
  ].join('\n');
  return {
    json: { model: model.info.id, out, format: 'png', width, height, objective, ...extra, attacked: { ...copy.attacked, written }, other: otherWritten },
    text,
  };
}

/** `--method square`: Square Attack (L∞) on the model's distance through its embeddings, `--queries` forward runs. */
async function squareCommand(values: Values, image: string, target: string | null, objective: AttackObjective, out: string): Promise<Output> {
  if (values.norm !== undefined && values.norm !== 'linf') throw new RclipError('INVALID_ARGUMENT', '--method square is an L∞ attack: drop --norm or use --norm linf.');
  if (values.steps !== undefined) throw new RclipError('INVALID_ARGUMENT', '--steps is for PGD; Square takes --queries.');
  const eps = numberOption('eps', values.eps, 4 / 255);
  if (!(eps > 0)) throw new RclipError('INVALID_ARGUMENT', `--eps must be positive (got ${eps}).`);
  const settings = squareSettings(eps, integerOption('queries', values.queries, SQUARE_DEFAULTS.queries, 1), integerOption('seed', values.seed, 0, 0));
  const model = await openModel(values.model as string | undefined);
  const other = await counterpart(model);
  if (other) await model.engine.loadModel(other);
  const decode = async (file: string) => (await model.engine.decode(file)).rgba;
  const progress = createProgress('square queries', settings.queries);
  const outcome = await squareAttackImage(model.engine, await decode(image), target ? await decode(target) : null, { model: model.ref, objective, settings }, { onProgress: (p) => progress.tick(p.query) });
  progress.end();
  const otherClean = other ? (await model.engine.distance(image, objective === 'push-apart' ? image : target!, other)).distance : null;
  const how = `Square (score-based, no gradient) linf eps=${eps.toFixed(5)} queries=${outcome.queries} (${outcome.accepted} squares kept) seed=${settings.seed}, ${objective}.`;
  return finishCopy(model, other, { image, target, objective, out }, { rgba: outcome.adversarialRgba, attacked: outcome.attacked, otherClean }, how, { method: 'square', settings, queries: outcome.queries });
}
