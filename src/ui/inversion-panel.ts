/**
 * Feature inversion: start from grey or seeded noise and optimise the image so its embedding
 * matches a chosen image's, under the robust model and the baseline side by side. Each step is one
 * signed-gradient step of attack.onnx's pull-together objective with no ε ball (FGSM from the current
 * image, step = ε, pixels clamped to [0,1]); steps are multiples of 1/255 from an 8-bit start, so
 * handing the image back as 8-bit between steps loses nothing. The image is redrawn every few steps.
 * A robust model's inversion tends to show the target's shapes and colours; a non-robust one's, noise.
 */
import type { ImageInput, Metric, ModelInfo } from '../client/metric';
import { RclipError } from '../core/errors';
import { drawRgba, errorView, fetchSample, SAMPLE_PHOTOS, showRunFailure, startRun } from './panel-kit';
import type { RgbaImage } from '../core/preprocess';
import { seededRandom } from '../core/random';

export interface InversionPanelContext {
  metric: Metric;
  /** The comparison's image A, if chosen: a target as well as the samples. */
  imageA: () => ImageInput | null;
  models: () => { robust: ModelInfo; baseline: ModelInfo } | null;
}

type Side = 'robust' | 'baseline';
/** The target select's value for the user's own image A; the other values are sample file names. */
const IMAGE_A = 'image-a';

const TEMPLATE = `
  <h2>Feature inversion: what does each metric see?</h2>
  <p class="hint">Starting from grey (or seeded noise), each step nudges every pixel by the step size along the sign of the
  gradient that pulls the image's embedding towards the target's (attack.onnx, pull-together, no ε limit). The robust
  model's image tends to show the target's layout and colours; the baseline's tends to stay noise-like while its
  distance still drops.</p>
  <form class="attack-form inversion-form" novalidate>
    <label>Target <select name="target">${SAMPLE_PHOTOS.map((t) => `<option value="${t.file}">Sample: ${t.label}</option>`).join('')}<option value="${IMAGE_A}">Your image A (above)</option></select></label>
    <label>Start <select name="start"><option value="grey">grey</option><option value="noise">noise (seeded)</option></select></label>
    <label>Seed <input type="number" name="seed" min="0" max="999999" value="0" /></label>
    <label>Steps <input type="number" name="steps" min="1" max="1000" value="150" /></label>
    <label>Step size <span class="with-unit"><input type="number" name="stepSize" min="1" max="16" step="1" value="2" /> <span>/255</span></span></label>
    <div class="actions">
      <button type="submit" class="run">Invert</button>
      <button type="button" class="cancel" disabled>Cancel</button>
    </div>
  </form>
  <progress class="inversion-progress" max="1" value="0" aria-label="Inversion progress"></progress>
  <p class="inversion-status" role="status" aria-live="polite"></p>
  <div class="alert panel-alert" role="alert" hidden></div>
  <div class="attack-results inversion-images">
    <figure data-side="target"><img class="inversion-target" alt="Target image" hidden /><figcaption>Target</figcaption></figure>
    <figure data-side="robust"><canvas width="64" height="64" aria-label="Inversion under the robust model"></canvas><figcaption>Robust: <output class="final">—</output></figcaption></figure>
    <figure data-side="baseline"><canvas width="64" height="64" aria-label="Inversion under the baseline"></canvas><figcaption>Baseline: <output class="final">—</output></figcaption></figure>
  </div>
`;

function startImage(size: number, kind: string, seed: number): RgbaImage {
  const data = new Uint8ClampedArray(size * size * 4);
  const random = seededRandom(seed);
  for (let i = 0; i < data.length; i += 4) {
    for (let c = 0; c < 3; c++) data[i + c] = kind === 'noise' ? 64 + Math.floor(random() * 128) : 128;
    data[i + 3] = 255;
  }
  return { width: size, height: size, data };
}

const toBitmap = (image: RgbaImage) => createImageBitmap(new ImageData(new Uint8ClampedArray(image.data), image.width, image.height));

export function mountInversionPanel(section: HTMLElement, ctx: InversionPanelContext): void {
  section.innerHTML = TEMPLATE;
  section.classList.add('attack', 'inversion');
  const form = section.querySelector('form')!;
  const field = (name: string) => form.elements.namedItem(name) as HTMLInputElement;
  const status = section.querySelector<HTMLElement>('.inversion-status')!;
  const bar = section.querySelector<HTMLProgressElement>('.inversion-progress')!;
  const run = section.querySelector<HTMLButtonElement>('.run')!;
  const cancel = section.querySelector<HTMLButtonElement>('.cancel')!;
  const targetImg = section.querySelector<HTMLImageElement>('.inversion-target')!;
  let controller: AbortController | null = null;
  let targetUrl: string | null = null;

  /** The chosen target as the attack takes it, and a URL to show it (null: image A is not chosen yet). */
  const chosenTarget = (): { load: (signal: AbortSignal) => Promise<ImageInput>; preview: string } | null => {
    const value = field('target').value;
    if (value !== IMAGE_A) return { load: (signal) => fetchSample(value, signal), preview: new URL(`samples/${value}`, location.href).href };
    const a = ctx.imageA();
    if (a instanceof Blob) return { load: async () => a, preview: URL.createObjectURL(a) };
    if (a && 'url' in a) return { load: async () => a, preview: a.url };
    return null;
  };
  const showTarget = (preview: string | null) => {
    if (targetUrl?.startsWith('blob:')) URL.revokeObjectURL(targetUrl);
    targetUrl = preview;
    targetImg.hidden = preview === null;
    if (preview) targetImg.src = preview;
  };
  const previewTarget = () => {
    const value = field('target').value;
    showTarget(value === IMAGE_A ? null : new URL(`samples/${value}`, location.href).href);
  };
  field('target').addEventListener('change', previewTarget);
  previewTarget();
  targetImg.addEventListener('error', () => (targetImg.hidden = true));
  cancel.addEventListener('click', () => controller?.abort());

  /** Empties both inversions' images and numbers: before a run, and when one fails. */
  const clearResults = () => {
    for (const side of ['robust', 'baseline'] as Side[]) {
      const fig = section.querySelector<HTMLElement>(`figure[data-side="${side}"]`)!;
      const canvas = fig.querySelector('canvas')!;
      canvas.getContext('2d')!.clearRect(0, 0, canvas.width, canvas.height);
      fig.querySelector<HTMLOutputElement>('.final')!.value = '—';
      delete fig.dataset.first;
      delete fig.dataset.last;
    }
    bar.value = 0;
  };
  const errors = errorView(section.querySelector<HTMLElement>('.panel-alert')!, clearResults);

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const models = ctx.models();
    if (!models) return errors.show(new RclipError('MODEL_NOT_LOADED', 'The models are not loaded yet: wait for the badge at the top to name the backend.'));
    const chosen = chosenTarget();
    if (!chosen) {
      status.textContent = 'Choose image A above first, or pick a sample as the target.';
      return;
    }
    showTarget(chosen.preview);
    const steps = Number(field('steps').value);
    const stepSize = Number(field('stepSize').value) / 255;
    const seed = Number(field('seed').value);
    const start = field('start').value;
    controller?.abort();
    controller = new AbortController();
    const signal = controller.signal;
    const endRun = startRun(section, { run, cancel }, 'running', errors, clearResults);
    const done: Record<Side, number> = { robust: 0, baseline: 0 };
    const progress = () => {
      bar.value = (done.robust + done.baseline) / (2 * steps);
      status.textContent = `Inverting… robust ${done.robust}/${steps}, baseline ${done.baseline}/${steps} steps`;
    };
    try {
      const target = await chosen.load(signal);
      const invert = async (side: Side) => {
        const model = models[side];
        let image = startImage(model.manifest.input.size, start, seed);
        const fig = section.querySelector<HTMLElement>(`figure[data-side="${side}"]`)!;
        const out = fig.querySelector<HTMLOutputElement>('.final')!;
        const canvas = fig.querySelector('canvas')!;
        drawRgba(canvas, image);
        for (let k = 1; k <= steps; k++) {
          const o = await ctx.metric.attack(await toBitmap(image), { model: model.id, objective: 'pull-together', target, method: 'fgsm', norm: 'linf', eps: stepSize, steps: 1, stepSize, seed, signal });
          image = o.adversarialRgba;
          if (k === 1) fig.dataset.first = String(o.attacked.clean);
          fig.dataset.last = String(o.attacked.after);
          done[side] = k;
          if (k % 5 === 0 || k === steps) {
            drawRgba(canvas, image);
            out.value = `d = ${Number(fig.dataset.first).toFixed(3)} → ${o.attacked.after.toFixed(3)}`;
          }
          progress();
        }
      };
      progress();
      await Promise.all([invert('robust'), invert('baseline')]);
      status.textContent = `Done: ${steps} steps of ${Math.round(stepSize * 255)}/255 from ${start === 'grey' ? 'grey' : `noise (seed ${seed})`}.`;
      section.dataset.state = 'done';
    } catch (err) {
      showRunFailure(signal.aborted ? new RclipError('CANCELLED', 'Cancelled.') : err, section, status, errors);
    } finally {
      endRun();
    }
  });
}
