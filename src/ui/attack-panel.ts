/**
 * The attack panel: the same FGSM/PGD/APGD attack against the robust model and the baseline, side
 * by side, with a live distance-per-step chart, the adversarial images and their perturbations.
 */
import type { AttackOutcome, AttackSize, AttackStep, ImageInput, Metric, ModelInfo } from '../client/metric';
import { attackLabel, DEFAULT_STEPS, PAPER_DEFAULTS, type AttackMethod, type AttackNorm, type AttackObjective, type AttackSettings } from '../core/attack';
import { downloadBlob, drawRgba, errorView, rgbaPng, showRunFailure, startRun } from './panel-kit';
import type { RgbaImage } from '../core/preprocess';
import { RclipError } from '../core/errors';

export interface AttackPanelContext {
  metric: Metric;
  images: () => { a: ImageInput | null; b: ImageInput | null };
  models: () => { robust: ModelInfo; baseline: ModelInfo } | null;
}

type Side = 'robust' | 'baseline';
const COLORS: Record<Side, string> = { robust: 'var(--robust)', baseline: 'var(--baseline)' };

/** The chart's frame in viewBox units: plot area [left, right] × [top, bottom], room for ticks, axis titles and the legend. */
const CHART = { width: 340, height: 190, left: 52, right: 330, top: 24, bottom: 150 };

const TEMPLATE = `
  <h2>Attack the metric</h2>
  <p class="hint">Perturb image A by at most ε and watch both distances, step by step. The attack on each model uses that model's own gradient (white-box).</p>
  <form class="attack-form" novalidate>
    <label>Objective
      <select name="objective">
        <option value="push-apart">Push apart: make A look different from itself</option>
        <option value="pull-together">Pull together: make A look like B</option>
      </select>
    </label>
    <label>Method
      <select name="method"><option value="pgd">PGD</option><option value="apgd">APGD (as the paper evaluates)</option><option value="fgsm">FGSM</option></select>
    </label>
    <label>Norm
      <select name="norm"><option value="linf">L∞</option><option value="l2">L2</option></select>
    </label>
    <label class="eps-linf"><span>ε = <output name="epsOut">4</output>/255</span>
      <input type="range" name="epsLinf" min="1" max="16" step="1" value="4" />
    </label>
    <label class="eps-l2" hidden>ε (L2, pixel units)
      <input type="number" name="epsL2" min="0.05" max="10" step="0.05" value="0.5" />
    </label>
    <label>Steps <input type="number" name="steps" min="1" max="200" value="10" /></label>
    <label class="step-size">Step size <span class="with-unit"><input type="number" name="stepSize" min="0.01" max="16" step="0.01" value="1" /> <span class="unit">/255</span></span></label>
    <p class="apgd-step hint" hidden>APGD's step starts at 2ε and halves when the distance stops rising; the best iterate is the result.</p>
    <label class="restarts" hidden>Restarts <input type="number" name="restarts" min="1" max="5" value="1" /></label>
    <label>Seed <input type="number" name="seed" min="0" max="999999" value="0" /></label>
    <label>Copy size
      <select name="size"><option value="full">Full size: image A's own</option><option value="model">Model size: the resized, cropped input</option></select>
    </label>
    <div class="actions">
      <button type="submit" class="run">Run attack</button>
      <button type="button" class="cancel" disabled>Cancel</button>
    </div>
  </form>
  <p class="size-note hint"></p>
  <p class="attack-status" role="status" aria-live="polite"></p>
  <div class="alert panel-alert" role="alert" hidden></div>
  <svg class="attack-chart" viewBox="0 0 ${CHART.width} ${CHART.height}" role="img" aria-label="Distance per attack step, robust and baseline"></svg>
  <div class="attack-results">
    ${(['robust', 'baseline'] as Side[]).map((side) => `<figure data-side="${side}">
      <div class="tile"><canvas width="64" height="64" class="adv" aria-label="Adversarial image against the ${side === 'robust' ? 'robust model' : 'baseline'}"></canvas><span class="tile-caption adv-caption">Adversarial A</span></div>
      <div class="tile"><canvas width="64" height="64" class="pert" aria-label="Its perturbation, amplified"></canvas><span class="tile-caption pert-caption">Perturbation</span></div>
      <figcaption>${side === 'robust' ? 'Robust' : 'Baseline'}: <output class="final">—</output></figcaption>
      <button type="button" class="download" disabled aria-label="Download PNG of the adversarial A crafted against the ${side === 'robust' ? 'robust model' : 'baseline'}">Download PNG</button>
    </figure>`).join('')}
  </div>
  <p class="attack-verdict"></p>
`;

/**
 * δ mapped to grey ± amplified, so a 4/255 perturbation is visible: 0.5 + gain·δ with gain = 1/(2·max|δ|),
 * which the tile's caption states.
 */
function perturbationImage(delta: Float32Array, size: number): { image: RgbaImage; gain: number } {
  let max = 1e-12;
  for (const d of delta) max = Math.max(max, Math.abs(d));
  const gain = 1 / (2 * max);
  const plane = size * size;
  const data = new Uint8ClampedArray(plane * 4);
  for (let i = 0; i < plane; i++) {
    for (let c = 0; c < 3; c++) data[i * 4 + c] = Math.round(255 * (0.5 + delta[c * plane + i] * gain));
    data[i * 4 + 3] = 255;
  }
  return { image: { width: size, height: size, data }, gain };
}

/**
 * Distance per step for both models. Axes, ticks and titles use currentColor (the page's text colour,
 * so the chart reads in light and dark mode); the lines use each model's colour variable.
 */
function drawChart(svg: SVGSVGElement, series: Record<Side, AttackStep[]>, steps: number, objective: AttackObjective) {
  const { left, right, top, bottom } = CHART;
  const all = [...series.robust, ...series.baseline].map((s) => s.distance);
  const max = Math.max(0.05, ...all) * 1.1;
  const lastStep = Math.max(1, steps);
  const x = (step: number) => left + (step / lastStep) * (right - left);
  const y = (d: number) => bottom - (d / max) * (bottom - top);
  const line = (side: Side) =>
    series[side].length ? `<polyline fill="none" stroke="${COLORS[side]}" stroke-width="2" points="${series[side].map((s) => `${x(s.step)},${y(s.distance)}`).join(' ')}"/>` : '';
  const yTicks = [0, max / 2, max].map((d) => `<line x1="${left - 4}" x2="${left}" y1="${y(d)}" y2="${y(d)}" stroke="currentColor"/><text x="${left - 6}" y="${y(d) + 3}" text-anchor="end">${d.toFixed(2)}</text>`);
  const xTicks = [...new Set([0, Math.round(lastStep / 2), lastStep])].map((k) => `<line x1="${x(k)}" x2="${x(k)}" y1="${bottom}" y2="${bottom + 4}" stroke="currentColor"/><text x="${x(k)}" y="${bottom + 14}" text-anchor="middle">${k}</text>`);
  svg.innerHTML = `
    <g font-size="10" fill="currentColor">
      <line x1="${left}" y1="${bottom}" x2="${right}" y2="${bottom}" stroke="currentColor" stroke-opacity="0.6"/>
      <line x1="${left}" y1="${top}" x2="${left}" y2="${bottom}" stroke="currentColor" stroke-opacity="0.6"/>
      ${yTicks.join('')}${xTicks.join('')}
      <text x="${(left + right) / 2}" y="${bottom + 30}" text-anchor="middle">attack step</text>
      <text transform="translate(12 ${(top + bottom) / 2}) rotate(-90)" text-anchor="middle">${objective === 'pull-together' ? 'distance to B' : 'distance to clean A'}</text>
    </g>
    ${line('baseline')}${line('robust')}
    <g font-size="11" font-weight="600">
      <text x="${left}" y="13" fill="${COLORS.robust}">— robust</text>
      <text x="${right}" y="13" text-anchor="end" fill="${COLORS.baseline}">— baseline</text>
    </g>`;
}

export function mountAttackPanel(section: HTMLElement, ctx: AttackPanelContext): void {
  section.innerHTML = TEMPLATE;
  section.classList.add('attack');
  const form = section.querySelector('form')!;
  const field = <T extends HTMLInputElement | HTMLSelectElement>(name: string) => form.elements.namedItem(name) as T;
  const status = section.querySelector<HTMLElement>('.attack-status')!;
  const chart = section.querySelector<SVGSVGElement>('.attack-chart')!;
  const cancel = section.querySelector<HTMLButtonElement>('.cancel')!;
  const run = section.querySelector<HTMLButtonElement>('.run')!;
  let controller: AbortController | null = null;
  /** The last run's adversarial copies, what Download saves (the full-size ones at full size). */
  const copies: Record<Side, RgbaImage | null> = { robust: null, baseline: null };
  const sizeNote = section.querySelector<HTMLElement>('.size-note')!;
  const chosenSize = () => field<HTMLSelectElement>('size').value as AttackSize;
  /** How ε reads for the chosen copy size, before a run says the gain. */
  const describeSize = () =>
    (sizeNote.textContent =
      chosenSize() === 'full'
        ? "Full size: ε bounds image A's own pixels; the resize moves each model's input by at most g·ε (g is shown after a run)."
        : "Model size: ε bounds the model's input (image A resized and cropped), and the copy is that size.");

  /** Empties the chart, images, numbers and verdict: before a run, and when one fails. */
  const clearResults = () => {
    chart.replaceChildren();
    for (const fig of section.querySelectorAll<HTMLElement>('.attack-results figure')) {
      for (const canvas of fig.querySelectorAll('canvas')) canvas.getContext('2d')!.clearRect(0, 0, canvas.width, canvas.height);
      delete fig.querySelector<HTMLCanvasElement>('.adv')!.dataset.size;
      fig.querySelector<HTMLElement>('.adv-caption')!.textContent = 'Adversarial A';
      fig.querySelector<HTMLElement>('.pert-caption')!.textContent = 'Perturbation';
      fig.querySelector<HTMLButtonElement>('.download')!.disabled = true;
      copies[fig.dataset.side as Side] = null;
      const out = fig.querySelector<HTMLOutputElement>('.final')!;
      out.value = '—';
      for (const key of ['clean', 'after', 'otherAfter']) delete out.dataset[key];
    }
    section.querySelector('.attack-verdict')!.textContent = '';
    describeSize();
  };
  const errors = errorView(section.querySelector<HTMLElement>('.panel-alert')!, clearResults);

  const syncNorm = () => {
    const l2 = field<HTMLSelectElement>('norm').value === 'l2';
    section.querySelector<HTMLElement>('.eps-linf')!.hidden = l2;
    section.querySelector<HTMLElement>('.eps-l2')!.hidden = !l2;
    section.querySelector<HTMLElement>('.unit')!.textContent = l2 ? '(pixel units)' : '/255';
    field<HTMLInputElement>('stepSize').value = l2 ? '0.1' : '1';
  };
  field('norm').addEventListener('change', syncNorm);
  const syncMethod = () => {
    const method = field<HTMLSelectElement>('method').value as AttackMethod;
    section.querySelector<HTMLElement>('.step-size')!.hidden = method === 'apgd';
    section.querySelector<HTMLElement>('.apgd-step')!.hidden = method !== 'apgd';
    section.querySelector<HTMLElement>('.restarts')!.hidden = method !== 'apgd';
    field<HTMLInputElement>('steps').value = String(method === 'fgsm' ? 1 : DEFAULT_STEPS[method]);
  };
  field('method').addEventListener('change', syncMethod);
  field('epsLinf').addEventListener('input', () => {
    (form.elements.namedItem('epsOut') as HTMLOutputElement).value = field<HTMLInputElement>('epsLinf').value;
  });
  // The shown copies and note are the last run's size: a new choice makes them stale (a running attack keeps its own).
  field('size').addEventListener('change', () => section.dataset.state !== 'running' && clearResults());
  cancel.addEventListener('click', () => controller?.abort());
  for (const side of ['robust', 'baseline'] as Side[]) {
    section.querySelector<HTMLButtonElement>(`figure[data-side="${side}"] .download`)!.addEventListener('click', async () => {
      const copy = copies[side];
      if (copy) downloadBlob(await rgbaPng(copy), `adversarial-a-${side}-${copy.width}x${copy.height}.png`);
    });
  }

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const models = ctx.models();
    const { a, b } = ctx.images();
    const objective = field<HTMLSelectElement>('objective').value as AttackObjective;
    if (!models) return errors.show(new RclipError('MODEL_NOT_LOADED', 'The models are not loaded yet: wait for the badge at the top to name the backend.'));
    if (!a || (objective === 'pull-together' && !b)) {
      status.textContent = objective === 'pull-together' ? 'Choose images A and B above first.' : 'Choose image A above first.';
      return;
    }
    const norm = field<HTMLSelectElement>('norm').value as AttackNorm;
    const l2 = norm === 'l2';
    const method = field<HTMLSelectElement>('method').value as AttackMethod;
    const size = chosenSize();
    const eps = l2 ? Number(field<HTMLInputElement>('epsL2').value) : Number(field<HTMLInputElement>('epsLinf').value) / 255;
    const settings: AttackSettings = {
      method,
      norm,
      eps,
      steps: Number(field<HTMLInputElement>('steps').value),
      // APGD's first step is its rule's, 2ε: the client fills it in.
      stepSize: method === 'apgd' ? 2 * eps : l2 ? Number(field<HTMLInputElement>('stepSize').value) : Number(field<HTMLInputElement>('stepSize').value) / 255,
      seed: Number(field<HTMLInputElement>('seed').value),
      ...(method === 'apgd' ? { restarts: Number(field<HTMLInputElement>('restarts').value) } : {}),
    };
    // The chart's last step: APGD's restarts continue the count, one start each.
    const totalSteps = method === 'fgsm' ? 1 : (settings.steps + 1) * (settings.restarts ?? 1) - 1;
    const series: Record<Side, AttackStep[]> = { robust: [], baseline: [] };
    controller?.abort();
    controller = new AbortController();
    const signal = controller.signal;
    const endRun = startRun(section, { run, cancel }, 'running', errors, clearResults);
    drawChart(chart, series, totalSteps, objective);
    const progress = () => {
      status.textContent = `Running… robust ${Math.max(0, series.robust.length - 1)}/${totalSteps}, baseline ${Math.max(0, series.baseline.length - 1)}/${totalSteps} steps`;
      drawChart(chart, series, totalSteps, objective);
    };
    const attack = (side: Side, other: Side) =>
      ctx.metric.attack(a, {
        ...settings,
        model: models[side].id,
        otherModel: models[other].id,
        objective,
        target: objective === 'pull-together' ? b! : undefined,
        size,
        signal,
        onStep: (s) => {
          if (signal.aborted) return;
          series[side].push(s);
          progress();
        },
      });
    try {
      const [robust, baseline] = await Promise.all([attack('robust', 'baseline'), attack('baseline', 'robust')]);
      show(robust, 'robust');
      show(baseline, 'baseline');
      if (robust.fullSize && baseline.fullSize) {
        const { width, height } = robust.fullSize.rgba;
        sizeNote.textContent = l2
          ? `ε bounds the full-size image (${width}×${height}) in L2.`
          : `ε bounds the full-size image (${width}×${height}); the model's input moves by at most g·ε, g = ${robust.fullSize.linfGain.toFixed(2)} (robust), ${baseline.fullSize.linfGain.toFixed(2)} (baseline) here.`;
      }
      const moved = (o: AttackOutcome) => Math.abs(o.attacked.after - o.attacked.clean);
      const ratio = moved(baseline) / Math.max(moved(robust), 1e-9);
      section.querySelector('.attack-verdict')!.textContent =
        `The attack moved the baseline's distance by ${moved(baseline).toFixed(4)} and the robust model's by ${moved(robust).toFixed(4)}` +
        (ratio >= 1 ? ` (${ratio.toFixed(1)}× less for the robust model).` : ' (the robust model moved more here).');
      status.textContent = `Done: ${attackLabel(settings)} ${norm === 'linf' ? 'L∞' : 'L2'}, ε = ${norm === 'linf' ? `${Math.round(settings.eps * 255)}/255` : settings.eps}, ${totalSteps} step(s), seed ${settings.seed}, ${size === 'full' ? 'full-size' : 'model-size'} copies.`;
      section.dataset.state = 'done';
    } catch (err) {
      showRunFailure(err, section, status, errors);
    } finally {
      endRun();
    }
  });

  function show(outcome: AttackOutcome, side: Side) {
    const fig = section.querySelector<HTMLElement>(`figure[data-side="${side}"]`)!;
    const copy = outcome.fullSize?.rgba ?? outcome.adversarialRgba;
    const adv = fig.querySelector<HTMLCanvasElement>('.adv')!;
    drawRgba(adv, copy);
    adv.dataset.size = outcome.fullSize ? 'full' : 'model';
    fig.querySelector<HTMLElement>('.adv-caption')!.textContent = `Adversarial A, ${copy.width}×${copy.height}`;
    copies[side] = copy;
    fig.querySelector<HTMLButtonElement>('.download')!.disabled = false;
    // At full size too, the perturbation shown is what reaches the model: its input's change.
    const perturbation = perturbationImage(outcome.perturbation, outcome.adversarial.size);
    drawRgba(fig.querySelector<HTMLCanvasElement>('.pert')!, perturbation.image);
    fig.querySelector<HTMLElement>('.pert-caption')!.textContent = `${outcome.fullSize ? "Model input's change" : 'Perturbation'} ×${perturbation.gain.toFixed(0)}`;
    const out = fig.querySelector<HTMLOutputElement>('.final')!;
    out.value = `${outcome.attacked.clean.toFixed(4)} → ${outcome.attacked.after.toFixed(4)}`;
    out.dataset.clean = String(outcome.attacked.clean);
    out.dataset.after = String(outcome.attacked.after);
    if (outcome.other) out.dataset.otherAfter = String(outcome.other.after);
  }

  syncNorm();
  describeSize();
  field<HTMLInputElement>('stepSize').value = String(Math.round(PAPER_DEFAULTS.stepSize * 255));
}
