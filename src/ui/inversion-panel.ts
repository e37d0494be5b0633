/**
 * Feature inversion (issue 13): start from grey or seeded noise and optimise the image so its embedding
 * matches a chosen image's, under the robust model and the baseline side by side. Each step is one
 * signed-gradient step of attack.onnx's pull-together objective with no ε ball (FGSM from the current
 * image, step = ε, pixels clamped to [0,1]); steps are multiples of 1/255 from an 8-bit start, so
 * handing the image back as 8-bit between steps loses nothing. The image is redrawn every few steps.
 * A robust model's inversion tends to show the target's shapes and colours; a non-robust one's, noise.
 */
import type { Metric, ModelInfo } from '../client/metric';
import { toRclipError } from '../core/errors';
import type { RgbaImage } from '../core/preprocess';
import { seededRandom } from '../core/random';

export interface InversionPanelContext {
  metric: Metric;
  models: () => { robust: ModelInfo; baseline: ModelInfo } | null;
  showError: (err: unknown) => void;
}

type Side = 'robust' | 'baseline';
const TARGETS = ['sunset.jpg', 'meadow.jpg', 'sunset-shifted.jpg'];

const TEMPLATE = `
  <h2>Feature inversion: what does each metric see?</h2>
  <p class="hint">Starting from grey (or seeded noise), each step nudges every pixel by the step size along the sign of the
  gradient that pulls the image's embedding towards the target's (attack.onnx, pull-together, no ε limit). The robust
  model's image tends to show the target's layout and colours; the baseline's tends to stay noise-like while its
  distance still drops.</p>
  <form class="attack-form inversion-form" novalidate>
    <label>Target <select name="target">${TARGETS.map((t) => `<option value="${t}">${t}</option>`).join('')}</select></label>
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
  <div class="attack-results inversion-images">
    <figure data-side="target"><img class="inversion-target" alt="Target image" /><figcaption>Target</figcaption></figure>
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

function draw(canvas: HTMLCanvasElement, image: RgbaImage) {
  canvas.width = image.width;
  canvas.height = image.height;
  canvas.getContext('2d')!.putImageData(new ImageData(new Uint8ClampedArray(image.data), image.width, image.height), 0, 0);
}

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
  const showTarget = () => (targetImg.src = new URL(`samples/${field('target').value}`, location.href).href);
  field('target').addEventListener('change', showTarget);
  showTarget();
  cancel.addEventListener('click', () => controller?.abort());

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const models = ctx.models();
    if (!models) return ctx.showError(new Error('The models are not loaded yet.'));
    const steps = Number(field('steps').value);
    const stepSize = Number(field('stepSize').value) / 255;
    const seed = Number(field('seed').value);
    const start = field('start').value;
    controller?.abort();
    controller = new AbortController();
    const signal = controller.signal;
    run.disabled = true;
    cancel.disabled = false;
    section.dataset.state = 'running';
    const done: Record<Side, number> = { robust: 0, baseline: 0 };
    const progress = () => {
      bar.value = (done.robust + done.baseline) / (2 * steps);
      status.textContent = `Inverting… robust ${done.robust}/${steps}, baseline ${done.baseline}/${steps} steps`;
    };
    try {
      const res = await fetch(new URL(`samples/${field('target').value}`, location.href), { signal });
      if (!res.ok) throw new Error(`Could not load the target (HTTP ${res.status}).`);
      const target = await res.blob();
      const invert = async (side: Side) => {
        const model = models[side];
        let image = startImage(model.manifest.input.size, start, seed);
        const fig = section.querySelector<HTMLElement>(`figure[data-side="${side}"]`)!;
        const out = fig.querySelector<HTMLOutputElement>('.final')!;
        const canvas = fig.querySelector('canvas')!;
        draw(canvas, image);
        for (let k = 1; k <= steps; k++) {
          const o = await ctx.metric.attack(await toBitmap(image), { model: model.id, objective: 'pull-together', target, method: 'fgsm', norm: 'linf', eps: stepSize, steps: 1, stepSize, seed, signal });
          image = o.adversarialRgba;
          if (k === 1) fig.dataset.first = String(o.attacked.clean);
          fig.dataset.last = String(o.attacked.after);
          done[side] = k;
          if (k % 5 === 0 || k === steps) {
            draw(canvas, image);
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
      const e = toRclipError(err);
      const cancelled = e.code === 'CANCELLED' || signal.aborted;
      status.textContent = cancelled ? 'Cancelled.' : '';
      section.dataset.state = cancelled ? 'cancelled' : 'error';
      if (!cancelled) ctx.showError(e);
    } finally {
      run.disabled = false;
      cancel.disabled = true;
    }
  });
}
