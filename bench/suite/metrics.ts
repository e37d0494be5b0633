/**
 * The metrics the suite compares, behind one interface (features of images, then a distance between
 * features): the encoders (robust default and baseline, through onnxruntime-node) and the three
 * peers web developers use today — SSIM (ssim.js), pixelmatch's share of differing pixels, and a
 * DCT perceptual hash (the core's, the one the blocklist panel shows). Every peer compares 8-bit RGBA at WORK_SIZE (128×128); images
 * of another size (an encoder's adversarial image at its input size) are first resized to it with
 * the core's bicubic resize.
 */
import { cosineDistance } from '../../src/core/distance';
import { hammingDistance, phashFeatures, phashSoftDistance, PHASH_BITS, type PhashFeatures } from '../../src/core/phash';
import { pixelsToRgba, toModelPixels, type PixelTensor, type RgbaImage } from '../../src/core/preprocess';
import { modelInput, WORK_BACKGROUND, WORK_SIZE, type TwoAfcModel } from '../../src/core/twoafc';
import { pixelmatchShare } from './pixelmatch-share';
import { meanSsim, ssimFeatures } from './ssim';

export interface SuiteMetric<F = unknown> {
  id: string;
  label: string;
  kind: 'encoder' | 'peer';
  /** What the distance compares, one per image (WORK_SIZE pixel tensors, or any size for peers). */
  features(images: readonly PixelTensor[]): Promise<F[]>;
  /** 0 for identical images, larger = more different. */
  distance(a: F, b: F): number;
  /**
   * What Square moves instead of `distance` from a perturbed image `a` (peers whose distance is a
   * step function, pHash): continuous, close to it. Verdicts always use `distance`.
   */
  attackDistance?(a: F, b: F): number;
}

export interface SuiteEncoder extends SuiteMetric<Float32Array> {
  kind: 'encoder';
  model: TwoAfcModel;
}

const BATCH = 32;

export function encoderMetric(id: string, label: string, model: TwoAfcModel): SuiteEncoder {
  return {
    id,
    label,
    kind: 'encoder',
    model,
    async features(images) {
      const out: Float32Array[] = [];
      for (let i = 0; i < images.length; i += BATCH) {
        out.push(...(await model.embed(images.slice(i, i + BATCH).map((p) => (p.size === model.input.size ? p : modelInput(p, model.input))))));
      }
      return out;
    },
    distance: cosineDistance,
  };
}

/** 8-bit RGBA at WORK_SIZE: what every peer sees. */
export function peerImage(p: PixelTensor): RgbaImage {
  return pixelsToRgba(p.size === WORK_SIZE ? p : toModelPixels(pixelsToRgba(p), { size: WORK_SIZE, background: WORK_BACKGROUND }));
}

const syncPeer = <F>(id: string, label: string, feature: (img: RgbaImage) => F, distance: (a: F, b: F) => number): SuiteMetric<F> => ({
  id,
  label,
  kind: 'peer',
  features: async (images) => images.map((p) => feature(peerImage(p))),
  distance,
});

/**
 * 1 − mean SSIM as ssim.js computes it (defaults: 11×11 window, its "weber" implementation, greyscale),
 * bit for bit, with each image's terms computed once (./ssim.ts): Square compares one query with 12 photos.
 */
export const ssimMetric = syncPeer('ssim', 'SSIM (ssim.js, 1 − mSSIM)', ssimFeatures, (a, b) => 1 - meanSsim(a, b));

/**
 * The share of pixels pixelmatch counts as different (its default threshold 0.1, anti-aliasing detection on),
 * recounted only where the query changed since its last comparison with the same photo (./pixelmatch-share.ts).
 */
export const pixelmatchMetric = syncPeer('pixelmatch', 'pixelmatch (share of differing pixels)', (img) => img, pixelmatchShare);

/** Hamming distance of the 64-bit DCT pHashes (src/core/phash.ts, as in the page's blocklist panel), over 64; Square moves its soft version. */
export const phashMetric: SuiteMetric<PhashFeatures> = {
  ...syncPeer('phash', 'pHash (Hamming / 64)', (img) => phashFeatures(img), (a, b) => hammingDistance(a.hash, b.hash) / PHASH_BITS),
  attackDistance: (a, b) => phashSoftDistance(a, b.hash) / PHASH_BITS,
};

export const PEERS: SuiteMetric[] = [ssimMetric, pixelmatchMetric, phashMetric] as SuiteMetric[];
