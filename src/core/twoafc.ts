/**
 * The project's 2AFC benchmark (docs/benchmark-2afc.md): which of two distorted copies is closer to
 * a reference photo, clean and with the reference under attack. Pure: images, the JPEG codec and
 * the model come in through `TwoAfcDeps`, so the same definition can run anywhere.
 */
import { runAttack, type AttackSettings, type DistanceGradient } from './attack';
import { cosineDistance } from './distance';
import { addNoise, affineWarp, colourShift, gaussianBlur, type AffineWarp, type ColourShift } from './distortions';
import type { InputSpec } from './manifest';
import { pixelsToRgba, toModelPixels, type PixelTensor, type RgbaImage } from './preprocess';
import { gaussianSamples, hashSeed, seededRandom } from './random';

/** Side of the centre crop every distortion works at, whatever the model's input size. */
export const WORK_SIZE = 128;
/** Transparency (rare in photos) is composited on white before the crop, independently of the model. */
export const WORK_BACKGROUND: [number, number, number] = [1, 1, 1];

export const KINDS = ['blur', 'jpeg', 'noise', 'colour', 'geometric', 'augmented'] as const;
export type TwoAfcKind = (typeof KINDS)[number];

const IMAGE_NAME = /\.(jpe?g|png|webp)$/i;

/** Sorts names by their UTF-8 bytes, as Python's sort on os.fsencode does (JS's default sort compares UTF-16 units). */
export function sortByBytes(names: readonly string[]): string[] {
  const enc = new TextEncoder();
  const keyed = names.map((n) => ({ n, k: enc.encode(n) }));
  keyed.sort((a, b) => {
    for (let i = 0; i < Math.min(a.k.length, b.k.length); i++) if (a.k[i] !== b.k[i]) return a.k[i] - b.k[i];
    return a.k.length - b.k.length;
  });
  return keyed.map((e) => e.n);
}

/** The benchmark's image files: jpg/jpeg/png/webp (any case), in byte order. */
export function benchmarkImageNames(names: readonly string[]): string[] {
  return sortByBytes(names.filter((n) => IMAGE_NAME.test(n)));
}

/** The split rule shared with the training code (tools/rclip_tools/data.py): sorted index i is for evaluation iff i % 5 == 4. */
export function evaluationImageNames(names: readonly string[], limit?: number): string[] {
  const evaluation = benchmarkImageNames(names).filter((_, i) => i % 5 === 4);
  return limit === undefined ? evaluation : evaluation.slice(0, limit);
}

/**
 * The strengths, mild (the closer copy) vs strong (the farther one), at WORK_SIZE. Chosen so the
 * project's non-robust baseline is right on roughly 80–95 % of clean triplets: a benchmark every
 * model aces cannot show what an attack takes away. Signs and directions are drawn per triplet.
 */
export const STRENGTHS = {
  blur: { mild: { sigma: 1.0 }, strong: { sigma: 1.6 } },
  jpeg: { mild: { quality: 40 }, strong: { quality: 15 } },
  noise: { mild: { sigma: 0.05 }, strong: { sigma: 0.08 } },
  colour: {
    mild: { brightness: 0.1, contrast: 0.1, saturation: 0.15, hue: 0.02 },
    strong: { brightness: 0.2, contrast: 0.2, saturation: 0.3, hue: 0.04 },
  },
  geometric: { mild: { shift: 0.03, scale: 0.03, degrees: 3 }, strong: { shift: 0.06, scale: 0.06, degrees: 6 } },
  /** Every non-geometric copy is also shifted by up to this fraction of the side (1 px at 128): a nuisance the metric should shrug off. */
  jitter: 1 / 128,
  /** The augmented copy: a random crop-zoom, shift, small rotation, flip, and colour jitter of the reference. */
  augmented: { shift: 0.08, zoom: [1.1, 1.25], degrees: 5, flipProbability: 0.5, colour: 0.1 },
} as const;

export interface Triplet {
  image: string;
  kind: TwoAfcKind;
  /** At WORK_SIZE. p[correct] is the closer copy. */
  ref: PixelTensor;
  p: [PixelTensor, PixelTensor];
  correct: 0 | 1;
  /** For "augmented": the other photo that p[1 − correct] shows. */
  other?: string;
}

export interface TripletSources {
  /** The evaluation image names (all of them, so a triplet does not depend on --limit). */
  evaluation: readonly string[];
  /** Decodes a named image and centre-crops it to WORK_SIZE. */
  load: (name: string) => Promise<PixelTensor>;
  /** Encodes at a JPEG quality and decodes again: the one distortion that needs a codec. */
  jpeg: (pixels: PixelTensor, quality: number) => Promise<PixelTensor>;
}

/** FNV-1a over "seed|image|kind": every triplet has its own stream, independent of order and --limit. */
export function tripletSeed(seed: number, image: string, kind: TwoAfcKind): number {
  return hashSeed(`${seed}|${image}|${kind}`);
}

const signed = (random: () => number) => (random() < 0.5 ? -1 : 1);
const between = (random: () => number, lo: number, hi: number) => lo + (hi - lo) * random();

type Level = 'mild' | 'strong';

/**
 * One distorted copy with its own random draws (noise, directions, jitter). Draws are independent
 * between the mild and the strong copy: with shared ones every monotone distortion (blur, noise)
 * would be ranked right by any model, and the benchmark would measure nothing.
 */
async function distort(kind: Exclude<TwoAfcKind, 'augmented'>, level: Level, ref: PixelTensor, random: () => number, sources: TripletSources): Promise<PixelTensor> {
  const jitter = (p: PixelTensor) =>
    affineWarp(p, { dx: between(random, -1, 1) * STRENGTHS.jitter, dy: between(random, -1, 1) * STRENGTHS.jitter, scale: 1, degrees: 0, flip: false });
  switch (kind) {
    case 'blur':
      return jitter(gaussianBlur(ref, STRENGTHS.blur[level].sigma));
    case 'jpeg':
      return sources.jpeg(jitter(ref), STRENGTHS.jpeg[level].quality);
    case 'noise':
      return addNoise(jitter(ref), STRENGTHS.noise[level].sigma, gaussianSamples(ref.data.length, random));
    case 'colour': {
      const m = STRENGTHS.colour[level];
      const shift: ColourShift = {
        brightness: 1 + signed(random) * m.brightness,
        contrast: 1 + signed(random) * m.contrast,
        saturation: 1 + signed(random) * m.saturation,
        hue: signed(random) * m.hue,
      };
      return jitter(colourShift(ref, shift));
    }
    case 'geometric': {
      const m = STRENGTHS.geometric[level];
      const angle = random() * 2 * Math.PI;
      const warp: AffineWarp = { dx: m.shift * Math.cos(angle), dy: m.shift * Math.sin(angle), scale: 1 + signed(random) * m.scale, degrees: signed(random) * m.degrees, flip: false };
      return affineWarp(ref, warp);
    }
  }
}

function augmentedCopy(ref: PixelTensor, random: () => number): PixelTensor {
  const a = STRENGTHS.augmented;
  const warped = affineWarp(ref, {
    dx: between(random, -a.shift, a.shift),
    dy: between(random, -a.shift, a.shift),
    scale: between(random, a.zoom[0], a.zoom[1]),
    degrees: between(random, -a.degrees, a.degrees),
    flip: random() < a.flipProbability,
  });
  return colourShift(warped, {
    brightness: 1 + between(random, -a.colour, a.colour),
    contrast: 1 + between(random, -a.colour, a.colour),
    saturation: 1 + between(random, -a.colour, a.colour),
    hue: between(random, -a.colour, a.colour) / 5,
  });
}

async function closerAndFarther(kind: TwoAfcKind, image: string, ref: PixelTensor, random: () => number, sources: TripletSources) {
  if (kind === 'augmented') {
    const closer = augmentedCopy(ref, random);
    const others = sources.evaluation.filter((n) => n !== image);
    const other = others[Math.floor(random() * others.length)];
    return { closer, farther: await sources.load(other), other };
  }
  const closer = await distort(kind, 'mild', ref, random, sources);
  return { closer, farther: await distort(kind, 'strong', ref, random, sources) };
}

/** The six triplets of one evaluation image for a seed; the same inputs always give the same triplets. */
export async function makeTriplets(image: string, ref: PixelTensor, seed: number, sources: TripletSources): Promise<Triplet[]> {
  const triplets: Triplet[] = [];
  for (const kind of KINDS) {
    const random = seededRandom(tripletSeed(seed, image, kind));
    const correct: 0 | 1 = random() < 0.5 ? 0 : 1;
    const { closer, farther, other } = await closerAndFarther(kind, image, ref, random, sources);
    triplets.push({ image, kind, ref, p: correct === 0 ? [closer, farther] : [farther, closer], correct, ...(other ? { other } : {}) });
  }
  return triplets;
}

/** 1 when the correct copy is strictly closer, 0.5 for a tie, 0 otherwise. */
export function tripletScore(dCorrect: number, dWrong: number): number {
  return dCorrect < dWrong ? 1 : dCorrect === dWrong ? 0.5 : 0;
}

/** What the model sees: the WORK_SIZE image as 8-bit RGBA, through the model's own resize and crop. */
export function modelInput(pixels: PixelTensor, spec: Pick<InputSpec, 'size' | 'background'>): PixelTensor {
  return toModelPixels(pixelsToRgba(pixels) as RgbaImage, spec);
}

export interface TwoAfcModel {
  input: Pick<InputSpec, 'size' | 'background'>;
  /** Unit-length embeddings of model-input pixels. */
  embed: (pixels: PixelTensor[]) => Promise<Float32Array[]>;
  /** d(pixels, target) = 1 − cos(f(pixels), target) and ∂d/∂pixels (model-input pixel space). */
  distanceGradient: (pixels: Float32Array, target: Float32Array) => Promise<DistanceGradient>;
}

export interface KindAccuracy {
  n: number;
  clean_accuracy: number;
  robust_accuracy: number | null;
}

export interface TwoAfcReport {
  images: number;
  n: number;
  clean_accuracy: number;
  robust_accuracy: number | null;
  per_kind: Record<TwoAfcKind, KindAccuracy>;
}

export interface TripletResult {
  triplet: Triplet;
  dCorrect: number;
  dWrong: number;
  clean: number;
  robust: number | null;
}

/**
 * Attacks the reference only, in model-input pixel space, as the paper does: maximises
 * d(ref+δ, correct) − d(ref+δ, wrong). The triplet stays correct only if no iterate flips it, so the
 * attack is credited with its best point, not just its last.
 */
export async function attackTriplet(model: TwoAfcModel, ref: PixelTensor, eCorrect: Float32Array, eWrong: Float32Array, settings: AttackSettings): Promise<number> {
  let worst = 1;
  // Pulling the reference towards the wrong copy and away from the correct one is "pull-together"
  // on the value d(x, wrong) − d(x, correct): runAttack descends it (two attack.onnx runs a step).
  await runAttack(
    ref.data,
    'pull-together',
    settings,
    {
      gradient: async (pixels) => {
        const toWrong = await model.distanceGradient(pixels, eWrong);
        const toCorrect = await model.distanceGradient(pixels, eCorrect);
        const grad = new Float32Array(toWrong.grad.length);
        for (let i = 0; i < grad.length; i++) grad[i] = toWrong.grad[i] - toCorrect.grad[i];
        return { distance: toWrong.distance - toCorrect.distance, grad };
      },
    },
    { onStep: (s) => (worst = Math.min(worst, tripletScore(0, s.distance))) },
  );
  return worst;
}

export async function evaluateTriplet(model: TwoAfcModel, triplet: Triplet, attack: AttackSettings | null): Promise<TripletResult> {
  const [ref, p0, p1] = [triplet.ref, ...triplet.p].map((p) => modelInput(p, model.input));
  const [eRef, e0, e1] = await model.embed([ref, p0, p1]);
  const [eCorrect, eWrong] = triplet.correct === 0 ? [e0, e1] : [e1, e0];
  const dCorrect = cosineDistance(eRef, eCorrect);
  const dWrong = cosineDistance(eRef, eWrong);
  const clean = tripletScore(dCorrect, dWrong);
  // Wrong on clean counts wrong under attack: there is nothing left to flip.
  const robust =
    attack === null
      ? null
      : clean === 0
        ? 0
        : Math.min(clean, await attackTriplet(model, ref, eCorrect, eWrong, { ...attack, seed: tripletSeed(attack.seed, triplet.image, triplet.kind) }));
  return { triplet, dCorrect, dWrong, clean, robust };
}

export function summarize(results: readonly TripletResult[], images: number): TwoAfcReport {
  const mean = (xs: number[]) => (xs.length === 0 ? 0 : xs.reduce((a, b) => a + b, 0) / xs.length);
  const accuracy = (rs: readonly TripletResult[]): KindAccuracy => ({
    n: rs.length,
    clean_accuracy: mean(rs.map((r) => r.clean)),
    robust_accuracy: rs.length > 0 && rs.every((r) => r.robust !== null) ? mean(rs.map((r) => r.robust!)) : null,
  });
  const all = accuracy(results);
  const perKind = Object.fromEntries(KINDS.map((k) => [k, accuracy(results.filter((r) => r.triplet.kind === k))])) as Record<TwoAfcKind, KindAccuracy>;
  return { images, n: all.n, clean_accuracy: all.clean_accuracy, robust_accuracy: all.robust_accuracy, per_kind: perKind };
}

/** Runs the benchmark over `images` (evaluation names, in order); `onImage` reports progress. */
export async function runTwoAfc(
  model: TwoAfcModel,
  sources: TripletSources,
  options: { images: readonly string[]; seed: number; attack: AttackSettings | null; onImage?: (done: number, total: number) => void },
): Promise<{ report: TwoAfcReport; results: TripletResult[] }> {
  const results: TripletResult[] = [];
  for (const [i, image] of options.images.entries()) {
    const ref = await sources.load(image);
    for (const triplet of await makeTriplets(image, ref, options.seed, sources)) {
      results.push(await evaluateTriplet(model, triplet, options.attack));
    }
    options.onImage?.(i + 1, options.images.length);
  }
  return { report: summarize(results, options.images.length), results };
}
