/**
 * The command table: options and help text here, implementations imported on first use so that
 * `--help` and usage errors answer without loading onnxruntime-node and sharp.
 */
import type { ParseArgsConfig } from 'node:util';
import { EXACT_SEARCH_BELOW } from '../core/nearest';
import type { Values } from '../core/options';

export type { Values };

export interface Output {
  /** What --json prints, as one line. */
  json: unknown;
  text: string;
  /** How many input files were unreadable and skipped (listed in json); non-zero exits with EXIT_SKIPPED. */
  skipped?: number;
  /** The results already went to stdout as JSON lines (stdin mode): main prints nothing more there. */
  streamed?: boolean;
}

export interface Command {
  options: NonNullable<ParseArgsConfig['options']>;
  help: string;
  run: (values: Values, positionals: string[]) => Promise<Output>;
}

const model = { type: 'string' } as const;
const json = { type: 'boolean' } as const;
const strict = { type: 'boolean' } as const;
const STRICT_HELP = `  --strict         stop at the first unreadable image (exit 1) instead of skipping it: by default every
                   unreadable file (missing, empty, not an image, corrupt, truncated, too large) is
                   listed on stderr and in "skipped": [{ "file", "code", "message" }], the rest is
                   processed, and the exit status is 3`;
const METHOD_HELP = `  --method         pgd (default): fixed steps of 2.5·eps/steps; apgd: APGD (Croce & Hein 2020), the
                   step starts at 2·eps and halves when progress stalls, the best point is kept;
                   fgsm: one step of eps`;
const STEPS_HELP = `  --steps N        iterations (default 10 for pgd, 100 for apgd; fgsm takes 1)
  --restarts R     apgd only: R runs from fresh random starts, the best kept (default 1)`;
const STORE_HELP = `  --store PATH     the folder's embedding store (default: one per folder and model under --cache)
  --cache DIR      where default stores live ($RCLIP_CACHE_DIR, else $XDG_CACHE_HOME/rclip, else ~/.cache/rclip)
  --rebuild        empty the store and embed every file again (e.g. after it was refused as
                   corrupt [STORE_CORRUPT] or as another model's [STORE_FOREIGN])`;
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
    options: { model, json, strict, out: { type: 'string' }, store: { type: 'string' }, shard: { type: 'string' }, rebuild: { type: 'boolean' } },
    help: `Usage: rclip embed <dir|files...> --out FILE [--model ID] [--strict] [--json]
       rclip embed - [--model ID] [--strict]
       rclip embed <dir> --store PATH [--shard I/N] [--rebuild] [--model ID] [--strict] [--json]

Embeds images (a folder's jpg/jpeg/png/webp/gif/bmp/avif files, not recursive, in byte order; or the
files given) and writes unit-length embeddings:
  --out FILE.jsonl one JSON object per line: { "file", "embedding": [D numbers] }
  --out FILE.npy   float32 array [N, D] (NumPy .npy v1.0), plus FILE.files.json: the N file paths, in row order
  --store PATH     instead, add the folder's images to the embedding store at PATH (Parquet segments
                   any Parquet reader opens; docs/scale.md): only new or changed files are embedded;
                   an unreadable one is kept as an error row, reported as skipped on every run (exit
                   3) and tried again only once it changes (size or mtime)
  --shard I/N      only the files at sorted index i with i % N == I: run one shard per machine, each
                   with its own --store, then "rclip store merge"
  --rebuild        empty the store first (a store refused as corrupt or of another model)
${STRICT_HELP}
${MODEL_HELP}
  --json           print { "model", "images", "dimensions", "out", "skipped" }; with --store,
                   { "model", "images", "embedded_now", "store", "rows", "shard", "skipped" }

"rclip embed -" reads image paths from stdin, one per line, and writes one JSON line per path to
stdout as soon as it is done, in input order: { "file", "embedding" }, or { "file", "error": { "code",
"message" } } for an unreadable file (the process goes on). Start-up is paid once, so a pipeline can
stream any number of images through one process. Exit status as above once stdin ends.`,
    run: async (v, p) => (await import('./embed')).embedCommand(v, p),
  },
  dedupe: {
    options: { model, json, strict, threshold: { type: 'string' }, store: { type: 'string' }, cache: { type: 'string' }, rebuild: { type: 'boolean' }, exact: { type: 'boolean' }, index: { type: 'boolean' } },
    help: `Usage: rclip dedupe <dir> [--threshold T] [--store PATH] [--exact|--index] [--rebuild] [--model ID] [--strict] [--json]

Groups near-duplicate images in a folder: connected components of the graph linking every two images
at distance ≤ T. Only groups of two or more are listed. The folder's embeddings are kept in a store
(only new or changed files are embedded on the next run). From ${EXACT_SEARCH_BELOW} images on, pairs
come from the store's approximate index (usearch HNSW), each verified exactly; below, or with
--exact, from exact all-pairs search.
  --threshold T    distance at or below which two images count as duplicates (default: the model's
                   calibration.dedupeThreshold, from its manifest)
${STORE_HELP}
  --exact          exact all-pairs search whatever the size (the reference; O(N²))
  --index          the approximate index whatever the size
${STRICT_HELP}
${MODEL_HELP}
  --json           print { "model", "threshold", "images", "store", "search", "groups": [{ "files", "max_distance" }], "skipped" }`,
    run: async (v, p) => (await import('./dedupe')).dedupeCommand(v, p),
  },
  match: {
    options: { model, json, strict, against: { type: 'string' }, threshold: { type: 'string' }, store: { type: 'string' }, cache: { type: 'string' }, rebuild: { type: 'boolean' }, exact: { type: 'boolean' }, index: { type: 'boolean' } },
    help: `Usage: rclip match <images|dirs...> --against <folder> [--threshold T] [--store PATH] [--exact|--index] [--model ID] [--strict] [--json]
       rclip match --against <folder> - [--threshold T] [--store PATH] [--model ID] [--strict]

For each image, the nearest image in <folder> (the list: jpg/jpeg/png/webp/gif/bmp/avif, not
recursive) and whether it matches (distance ≤ T). The folder's embeddings are kept in a store: only
files added or changed (size, mtime) since the last run are embedded. From ${EXACT_SEARCH_BELOW} listed
images on, candidates come from the store's approximate index and are re-measured exactly; below,
or with --exact, the search is exact (brute force over unit embeddings).
  --against DIR    the listed images
  --threshold T    distance at or below which an image matches (default: the model's
                   calibration.dedupeThreshold, from its manifest)
${STORE_HELP}
  --exact          exact search whatever the size
  --index          the approximate index whatever the size
${STRICT_HELP} (queries and listed images alike)
${MODEL_HELP}
  --json           print { "model", "threshold", "listed", "store", "search", "results": [{ "file", "nearest", "distance", "match" }], "skipped" }

With "-" instead of images, the paths come from stdin, one per line, and each is answered by one JSON
line on stdout as soon as it is done, in input order: { "file", "nearest", "distance", "match" }, or
{ "file", "error": { "code", "message" } } (the process goes on): the store and the model load once.`,
    run: async (v, p) => (await import('./match')).matchCommand(v, p),
  },
  attack: {
    options: {
      model,
      json,
      out: { type: 'string' },
      target: { type: 'string' },
      objective: { type: 'string' },
      method: { type: 'string' },
      norm: { type: 'string' },
      eps: { type: 'string' },
      steps: { type: 'string' },
      restarts: { type: 'string' },
      seed: { type: 'string' },
      queries: { type: 'string' },
      size: { type: 'string' },
    },
    help: `Usage: rclip attack <image> --out ADV.png [--target B] [--objective push|pull] [--model ID]
                    [--method pgd|apgd|fgsm|square] [--norm linf|l2] [--eps 4/255] [--steps N]
                    [--restarts R] [--queries 1000] [--seed S] [--size full|model] [--json]

Writes an adversarial copy of <image> made with PGD or APGD against the model's attack graph (or, with
--method square, with Square Attack through its embeddings alone), to test your own pipeline with, as
a lossless PNG.
  --size full      (default) the copy has the image's own size: the attack perturbs its pixels through
                   the model's resize and centre crop (only the pixels the crop reads change, at most
                   12 MP of them; --eps bounds the full-size pixels, and an L∞ eps moves the model's
                   input by up to ~1.36·eps, the bicubic weights' overshoot, printed for each image)
         model     the copy is at the MODEL'S INPUT SIZE (resized and centre-cropped first, as for
                   every distance), the attack in the model's input pixels
  --objective push push the copy's embedding away from the original's (default without --target),
                   or, with --target B, away from B's (to evade a match against B)
              pull pull it towards --target B's (default with --target)
${METHOD_HELP}
                   square: Square Attack (Andriushchenko et al. 2020), score-based, L∞ only: it asks
                   only for distances (one forward run a query, no gradient), so a copy it finds
                   that the gradient attacks miss would mean the gradient misleads them (gradient masking)
  --norm           linf (default) or l2
  --eps            radius in [0,1] pixel units; 4/255 is fine (default 4/255 for linf, 0.5 for l2);
                   an L∞ radius above 16/255 is taken with a warning on stderr
${STEPS_HELP}
  --queries N      Square's query budget (default 1000)
  --seed S         random start (default 0)
${MODEL_HELP}
The output gives the distance before and after, for the float attack and for the 8-bit PNG as
written, and (for the index's robust/baseline pair) the other model's distance to the same PNG.
  --json           print { "model", "out", "width", "height", "size", "region" and "linf_gain" (full),
                   "objective", "settings", "attacked", "other" }`,
    run: async (v, p) => (await import('./attack')).attackCommand(v, p),
  },
  store: {
    options: { json, out: { type: 'string' } },
    help: `Usage: rclip store merge <shard stores...> --out PATH [--json]
       rclip store info <store> [--json]

merge: joins stores made by "rclip embed DIR --store SHARD --shard I/N" (same model) into a new store
       at PATH; a path in a later shard supersedes the same path in an earlier one. The index is
       built on the first dedupe or match that needs it.
info:  checks a store (every file against its sha256) and says what it holds.
Stores are folders of Parquet files (docs/scale.md), readable without rclip.`,
    run: async (v, p) => (await import('./store')).storeCommand(v, p),
  },
  models: {
    options: { json },
    help: `Usage: rclip models [list] [--json]
       rclip models path [--json]
       rclip models copy <dir> [--json]

list: (the default) each model of the index: its id, its role (the default model, or the non-robust
      baseline the default is compared with), its input size, and the L∞ radius it holds at
      (robustness.holds in its manifest: copy retrieval R@1 stays at or above a minimum under the
      attack, as measured by the benchmark suite). --json: { "models_dir", "models": [{ "id", "name",
      "role", "input_size", "embedding_size", "holds": { "eps", "attack", "minimum", "criterion" } }] }
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
      strict,
      images: { type: 'string' },
      attack: { type: 'string' },
      norm: { type: 'string' },
      eps: { type: 'string' },
      steps: { type: 'string' },
      restarts: { type: 'string' },
      limit: { type: 'string' },
      seed: { type: 'string' },
      dataset: { type: 'string' },
      split: { type: 'string' },
      out: { type: 'string' },
    },
    help: `Usage: rclip eval --images DIR [--model ID] [--attack none|fgsm|pgd|apgd] [--norm linf|l2] [--eps 4/255]
                  [--steps N] [--restarts R] [--limit N] [--seed S] [--strict] [--json]
       rclip eval --dataset nights|bapps|tid2013|kadid10k DIR [--split S] [--attack apgd] [--norm linf|l2]
                  [--eps E] [--limit N] [--seed S] [--out RESULT.json] [--model ID] [--json]

The project's 2AFC benchmark (docs/benchmark-2afc.md). Evaluation images are DIR's jpg/jpeg/png/webp
files at sorted index i with i % 5 == 4 (the training code uses the rest). Each gives six triplets
(blur, jpeg, noise, colour, geometric, augmented-vs-other-photo); a triplet is correct when the
reference is closer to the mildly distorted copy. With --attack, FGSM/PGD/APGD perturbs the reference
(model-input pixels) to flip the decision; robust accuracy counts triplets that no iterate flips.
  --images DIR     the image folder (e.g. ../shared/data/imagenet-sample: 160 evaluation images)
${MODEL_HELP}
  --attack         none (default), fgsm, pgd (quick: PGD-10) or apgd (as the paper evaluates: APGD-100)
  --norm           linf (default) or l2
  --eps            radius in [0,1] pixel units; a fraction like 4/255 is fine (default 4/255 for linf, 0.5 for l2)
${STEPS_HELP}
  --limit N        only the first N evaluation images
  --seed S         triplet and attack seed (default 0)
${STRICT_HELP} (an unreadable evaluation image is left out of the split)
  --json           print { "model", "n", "images", "clean_accuracy", "robust_accuracy", "attack", "per_kind", "skipped" }

With --dataset, a human-judged data set in the folder layout its publishers ship (docs/benchmark-suite.md,
"Human-judged data sets"): NIGHTS (data.csv, ref/, distort/; --split test (default), val, train,
test_imagenet, test_no_imagenet), BAPPS (2afc/<split>/<category>/{ref,p0,p1,judge}; --split val (default)
or train), TID2013 (mos_with_names.txt, reference_images/, distorted_images/), KADID-10k (dmos.csv,
images/). 2AFC sets: agreement with people (95 % Wilson interval); with --attack the reference is
perturbed to flip the model's choice. IQA sets: SRCC / PLCC / KRCC of −distance with the human score
(95 % bootstrap interval); with --attack each distorted image is pushed away from (rated above the
median) or pulled towards (at or below) its reference. Printed as a Markdown table beside the published
figures. --norm l2 without --eps is the paper's 3.0 at 224 px scaled to the model's input (size/224).
  --out FILE.json  write the result (with every item's distances) and FILE.md; while it runs, done items
                   are kept in FILE.json.partial, which the same command picks up after an interruption`,
    run: async (v, p) => (await import('./eval')).evalCommand(v, p),
  },
};
