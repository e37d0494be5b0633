/**
 * `rclip attack <image> --out adv.png`: an adversarial copy to test pipelines with. PGD, APGD or FGSM
 * (L∞ or L2) via the model's attack.onnx, or (--method square) Square Attack through the embeddings
 * alone (src/engine/square-attack.ts). --size full (default) perturbs the image at its own size
 * through the preprocessing and writes a copy of the input's size; --size model perturbs the model's
 * input pixels and writes the resized, centre-cropped copy. Either is a lossless 8-bit PNG, so the
 * command re-reads it and reports the distance of the file as written next to the float attack's.
 */
import sharp from 'sharp';
import { ATTACK_METHODS, attackLabel, type AttackNorm, type AttackObjective } from '../core/attack';
import type { RgbaImage } from '../core/preprocess';
import { squareSettings, SQUARE_DEFAULTS } from '../core/square';
import { squareAttackImage } from '../engine/square-attack';
import { RclipError } from '../core/errors';
import { choiceOption, integerOption, methodSettings, numberOption, per255, positionalCount, requiredString } from '../core/options';
import type { AttackSize, FullSizeCopy } from '../engine/attack';
import { openModel } from '../engine/node-model';
import type { Output, Values } from './commands';
import { createProgress } from './progress';

/** The robust/baseline counterpart of an index model (index.json default ↔ baseline), if any. */
async function counterpart(model: Awaited<ReturnType<typeof openModel>>): Promise<string | null> {
  if (model.ref.endsWith('/')) return null;
  const index = await model.engine.index();
  return model.ref === index.default ? index.baseline : model.ref === index.baseline ? index.default : null;
}

/** Above this L∞ radius a copy is plainly visible (the models are trained and evaluated at 4/255 or less): the command warns, as --eps 0.5 is likely meant as 0.5/255. */
export const LINF_WARN_EPS = 16 / 255;

function warnIfLargeLinf(norm: AttackNorm, eps: number): void {
  if (norm !== 'linf' || eps <= LINF_WARN_EPS) return;
  process.stderr.write(
    `rclip attack: warning: --eps ${+eps.toFixed(6)} under L∞ lets every pixel move by ${per255(eps)}, above ${per255(LINF_WARN_EPS)} (the models are trained and evaluated at 4/255 or less): the copy will look visibly changed. Radii are in [0,1] pixel units; write e.g. --eps 4/255.\n`,
  );
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
  const size = choiceOption<AttackSize>('size', values.size, ['full', 'model'], 'full');
  if (method === 'square') return squareCommand(values, image, target, objective, out, size);
  if (values.queries !== undefined) throw new RclipError('INVALID_ARGUMENT', `--queries is for --method square; ${method} takes --steps.`);
  const settings = methodSettings(method, values);
  const { norm, eps, steps, seed } = settings;
  warnIfLargeLinf(norm, eps);
  const model = await openModel(values.model as string | undefined);
  const other = await counterpart(model);
  // Each run records its start (step 0 of the run) and `steps` iterations; runs (APGD restarts) continue the count.
  const progress = createProgress('attack steps', steps * (settings.restarts ?? 1));
  const outcome = await model.engine.attack(image, target, { model: model.ref, otherModel: other ?? undefined, objective, settings, size }, { onStep: (s) => progress.tick(s.step - Math.floor(s.step / (steps + 1))) });
  progress.end();
  return finishCopy(model, other, { image, target, objective, out }, { ...copyOf(outcome), attacked: outcome.attacked, otherClean: outcome.other?.clean ?? null }, `${attackLabel(settings)} ${norm} eps=${eps.toFixed(5)} seed=${seed}, ${objective}.`, { settings });
}

/** The image to write: the full-size copy when the attack made one, else the model-size one. */
function copyOf(outcome: { adversarialRgba: RgbaImage; fullSize: FullSizeCopy | null }): { rgba: RgbaImage; fullSize: FullSizeCopy | null } {
  return { rgba: outcome.fullSize?.rgba ?? outcome.adversarialRgba, fullSize: outcome.fullSize };
}

/**
 * Writes the copy as a lossless 8-bit PNG, measures the file as written against the reference under
 * the attacked model and the other one, and reports both beside the float attack's distance.
 */
async function finishCopy(
  model: Awaited<ReturnType<typeof openModel>>,
  other: string | null,
  request: { image: string; target: string | null; objective: AttackObjective; out: string },
  copy: { rgba: RgbaImage; fullSize: FullSizeCopy | null; attacked: { clean: number; after: number }; otherClean: number | null },
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
  const full = copy.fullSize;
  const wrote = full
    ? `Wrote ${out}: PNG (lossless), ${width}×${height} px, the input's own size: the attack perturbed the ${full.region.x1 - full.region.x0}×${full.region.y1 - full.region.y0} px that ${model.info.id}'s centre crop reads, through its resize (so an L∞ eps there moves the model's input by at most ${full.linfGain.toFixed(3)}·eps).`
    : `Wrote ${out}: PNG (lossless), ${width}×${height} px = ${model.info.id}'s input size (the image was resized and centre-cropped first).`;
  const text = [
    wrote,
    how,
    `${model.info.id} (attacked): ${what} ${copy.attacked.clean.toFixed(4)} → ${copy.attacked.after.toFixed(4)} (float), ${written.toFixed(4)} (the 8-bit PNG)`,
    ...(otherWritten ? [`${other} (transfer):   ${what} ${otherWritten.clean.toFixed(4)} → ${otherWritten.written.toFixed(4)} (the 8-bit PNG)`] : []),
  ].join('\n');
  return {
    json: {
      model: model.info.id,
      out,
      format: 'png',
      width,
      height,
      size: full ? 'full' : 'model',
      ...(full ? { region: full.region, linf_gain: full.linfGain } : {}),
      objective,
      ...extra,
      attacked: { ...copy.attacked, written },
      other: otherWritten,
    },
    text,
  };
}

/** `--method square`: Square Attack (L∞) on the model's distance through its embeddings, `--queries` forward runs. */
async function squareCommand(values: Values, image: string, target: string | null, objective: AttackObjective, out: string, size: AttackSize): Promise<Output> {
  if (values.norm !== undefined && values.norm !== 'linf') throw new RclipError('INVALID_ARGUMENT', '--method square is an L∞ attack: drop --norm or use --norm linf.');
  if (values.steps !== undefined) throw new RclipError('INVALID_ARGUMENT', '--steps is for PGD; Square takes --queries.');
  const eps = numberOption('eps', values.eps, 4 / 255);
  if (!(eps > 0)) throw new RclipError('INVALID_ARGUMENT', `--eps must be positive (got ${eps}).`);
  warnIfLargeLinf('linf', eps);
  const settings = squareSettings(eps, integerOption('queries', values.queries, SQUARE_DEFAULTS.queries, 1), integerOption('seed', values.seed, 0, 0));
  const model = await openModel(values.model as string | undefined);
  const other = await counterpart(model);
  if (other) await model.engine.loadModel(other);
  const decode = async (file: string) => (await model.engine.decode(file)).rgba;
  const progress = createProgress('square queries', settings.queries);
  const outcome = await squareAttackImage(model.engine, await decode(image), target ? await decode(target) : null, { model: model.ref, objective, settings, size }, { onProgress: (p) => progress.tick(p.query) });
  progress.end();
  const otherClean = other ? (await model.engine.distance(image, objective === 'push-apart' ? image : target!, other)).distance : null;
  const how = `Square (score-based, no gradient) linf eps=${eps.toFixed(5)} queries=${outcome.queries} (${outcome.accepted} squares kept) seed=${settings.seed}, ${objective}.`;
  return finishCopy(model, other, { image, target, objective, out }, { ...copyOf(outcome), attacked: outcome.attacked, otherClean }, how, { method: 'square', settings, queries: outcome.queries });
}
