/**
 * The command table: options and help text here, implementations imported on first use so that
 * `--help` and usage errors answer without loading onnxruntime-node and sharp.
 */
import type { ParseArgsConfig } from 'node:util';
import type { Values } from '../core/options';

export type { Values };

export interface Output {
  /** What --json prints, as one line. */
  json: unknown;
  text: string;
}

export interface Command {
  options: NonNullable<ParseArgsConfig['options']>;
  help: string;
  run: (values: Values, positionals: string[]) => Promise<Output>;
}

const model = { type: 'string' } as const;
const json = { type: 'boolean' } as const;
const MODEL_HELP = `  --model ID|DIR   a model id from the models' index.json (rclip models path), or a model folder (default: the index's default, robust model)`;

export const COMMANDS: Record<string, Command> = {
  distance: {
    options: { model, json },
    help: `Usage: rclip distance <a> <b> [--model ID] [--json]

The perceptual distance between two images: 1 − cos of the model's L2-normalised embeddings, in [0, 2]
(0 = the same to the model).
${MODEL_HELP}
  --json           print { "model", "distance", "similarity" }`,
    run: async (v, p) => (await import('./distance')).distanceCommand(v, p),
  },
  embed: {
    options: { model, out: { type: 'string' } },
    help: `Usage: rclip embed <dir|files...> --out FILE [--model ID]

Embeds images (a folder's jpg/jpeg/png/webp/gif/bmp/avif files, not recursive, in byte order; or the
files given) and writes unit-length embeddings:
  --out FILE.jsonl one JSON object per line: { "file", "embedding": [D numbers] }
  --out FILE.npy   float32 array [N, D] (NumPy .npy v1.0), plus FILE.files.json: the N file paths, in row order
${MODEL_HELP}`,
    run: async (v, p) => (await import('./embed')).embedCommand(v, p),
  },
  dedupe: {
    options: { model, json, threshold: { type: 'string' } },
    help: `Usage: rclip dedupe <dir> [--threshold T] [--model ID] [--json]

Groups near-duplicate images in a folder: connected components of the graph linking every two images
at distance ≤ T. Only groups of two or more are listed.
  --threshold T    distance at or below which two images count as duplicates (default: the model's
                   calibration.dedupeThreshold, from its manifest)
${MODEL_HELP}
  --json           print { "model", "threshold", "images", "groups": [{ "files", "max_distance" }] }`,
    run: async (v, p) => (await import('./dedupe')).dedupeCommand(v, p),
  },
  models: {
    options: { json },
    help: `Usage: rclip models copy <dir> [--json]
       rclip models path

copy: writes the shipped models (index.json and one folder per model) to <dir>, e.g. your app's
      public/models/, so that the page can serve them; pass that folder's URL as modelsBase
      (createMetric) or models-base (<rclip-distance>).
path: prints the folder the models are read from.`,
    run: async (v, p) => (await import('./models')).modelsCommand(v, p),
  },
  eval: {
    options: {
      model,
      json,
      images: { type: 'string' },
      attack: { type: 'string' },
      norm: { type: 'string' },
      eps: { type: 'string' },
      steps: { type: 'string' },
      limit: { type: 'string' },
      seed: { type: 'string' },
    },
    help: `Usage: rclip eval --images DIR [--model ID] [--attack none|fgsm|pgd] [--norm linf|l2] [--eps 4/255]
                  [--steps 10] [--limit N] [--seed S] [--json]

The project's 2AFC benchmark (docs/benchmark-2afc.md). Evaluation images are DIR's jpg/jpeg/png/webp
files at sorted index i with i % 5 == 4 (the training code uses the rest). Each gives six triplets
(blur, jpeg, noise, colour, geometric, augmented-vs-other-photo); a triplet is correct when the
reference is closer to the mildly distorted copy. With --attack, PGD/FGSM perturbs the reference
(model-input pixels) to flip the decision; robust accuracy counts triplets that no iterate flips.
  --images DIR     the image folder (e.g. ../shared/data/imagenet-sample: 160 evaluation images)
${MODEL_HELP}
  --attack         none (default), fgsm or pgd
  --norm           linf (default) or l2
  --eps            radius in [0,1] pixel units; a fraction like 4/255 is fine (default 4/255 for linf, 0.5 for l2)
  --steps          PGD iterations (default 10); the step size is 2.5·eps/steps (1/255 at the defaults)
  --limit N        only the first N evaluation images
  --seed S         triplet and attack seed (default 0)
  --json           print { "model", "n", "images", "clean_accuracy", "robust_accuracy", "attack", "per_kind" }`,
    run: async (v, p) => (await import('./eval')).evalCommand(v, p),
  },
};
