/**
 * `rclip attack <image> --out adv.png`: an adversarial copy to test pipelines with. PGD, APGD or FGSM
 * (L∞ or L2) in the model's input pixels via its attack.onnx, so the copy is written at the model's input size
 * (resized and centre-cropped like every input), as a lossless PNG. The PNG is 8-bit, so the command
 * re-reads it and reports the distance of the file as written next to the float attack's.
 */
import sharp from 'sharp';
import { ATTACK_METHODS, attackLabel, type AttackObjective } from '../core/attack';
import { RclipError } from '../core/errors';
import { choiceOption, methodSettings, positionalCount, requiredString } from '../core/options';
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
  const settings = methodSettings(choiceOption('method', values.method, ATTACK_METHODS, 'pgd'), values);
  const { norm, eps, steps, seed } = settings;
  const model = await openModel(values.model as string | undefined);
  const other = await counterpart(model);
  const progress = createProgress('attack steps', (steps + 1) * (settings.restarts ?? 1));
  const outcome = await model.engine.attack(image, target, { model: model.ref, otherModel: other ?? undefined, objective, settings }, { onStep: (s) => progress.tick(s.step + 1) });
  progress.end();
  const size = outcome.adversarialRgba.width;
  await sharp(Buffer.from(outcome.adversarialRgba.data.buffer, outcome.adversarialRgba.data.byteOffset, outcome.adversarialRgba.data.byteLength), { raw: { width: size, height: outcome.adversarialRgba.height, channels: 4 } })
    .removeAlpha()
    .png({ compressionLevel: 9 })
    .toFile(out);
  // The file as written (8-bit): its distance to the reference, under the attacked model and the other one.
  const reference = objective === 'push-apart' ? image : target!;
  const written = (await model.engine.distance(out, reference, model.ref)).distance;
  const writtenOther = other ? (await model.engine.distance(out, reference, other)).distance : null;
  const what = objective === 'push-apart' ? `d(copy, ${image})` : `d(copy, ${target})`;
  const text = [
    `Wrote ${out}: PNG (lossless), ${size}×${outcome.adversarialRgba.height} px = ${model.info.id}'s input size (the image was resized and centre-cropped first).`,
    `${attackLabel(settings)} ${norm} eps=${eps.toFixed(5)} seed=${seed}, ${objective}.`,
    `${model.info.id} (attacked): ${what} ${outcome.attacked.clean.toFixed(4)} → ${outcome.attacked.after.toFixed(4)} (float), ${written.toFixed(4)} (the 8-bit PNG)`,
    ...(outcome.other && writtenOther !== null ? [`${other} (transfer):   ${what} ${outcome.other.clean.toFixed(4)} → ${writtenOther.toFixed(4)} (the 8-bit PNG)`] : []),
  ].join('\n');
  return {
    json: {
      model: model.info.id,
      out,
      format: 'png',
      width: size,
      height: outcome.adversarialRgba.height,
      objective,
      settings,
      attacked: { ...outcome.attacked, written },
      other: outcome.other && writtenOther !== null ? { model: other, clean: outcome.other.clean, written: writtenOther } : null,
    },
    text,
  };
}
