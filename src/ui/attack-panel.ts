/**
 * The attack panel: the same FGSM/PGD/APGD attack against the robust model and the baseline, side
 * by side, with a live distance-per-step chart, the adversarial images and their perturbations.
 */
import type { AttackOutcome, AttackStep, ImageInput, Metric, ModelInfo } from '../client/metric';
import { attackLabel, DEFAULT_STEPS, PAPER_DEFAULTS, type AttackMethod, type AttackNorm, type AttackObjective, type AttackSettings } from '../core/attack';
import { showRunFailure } from './panel-kit';
import type { RgbaImage } from '../core/preprocess';

export interface AttackPanelContext {
  metric: Metric;
  images: () => { a: ImageInput | null; b: ImageInput | null };
  models: () => { robust: ModelInfo; baseline: ModelInfo } | null;
  showError: (err: unknown) => void;
}

type Side = 'robust' | 'baseline';
const COLORS: Record<Side, string> = { robust: 'var(--robust)', baseline: 'var(--baseline)' };

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
    <div class="actions">
      <button type="submit" class="run">Run attack</button>
      <button type="button" class="cancel" disabled>Cancel</button>
    </div>
  </form>
  <p class="attack-status" role="status" aria-live="polite"></p>
  <svg class="attack-chart" viewBox="0 0 320 160" role="img" aria-label="Distance per attack step, robust and baseline"></svg>
  <div class="attack-results">
    <figure data-side="robust"><canvas width="64" height="64" class="adv" aria-label="Adversarial image against the robust model"></canvas><canvas width="64" height="64" class="pert" aria-label="Its perturbation, amplified"></canvas><figcaption>Robust: <output class="final">—</output></figcaption></figure>
    <figure data-side="baseline"><canvas width="64" height="64" class="adv" aria-label="Adversarial image against the baseline"></canvas><canvas width="64" height="64" class="pert" aria-label="Its perturbation, amplified"></canvas><figcaption>Baseline: <output class="final">—</output></figcaption></figure>
  </div>
  <p class="attack-verdict"></p>
`;

function drawRgba(canvas: HTMLCanvasElement, image: RgbaImage) {
  canvas.width = image.width;
  canvas.height = image.height;
  canvas.getContext('2d')!.putImageData(new ImageData(new Uint8ClampedArray(image.data), image.width, image.height), 0, 0);
}

/** δ mapped to grey ± amplified, so a 4/255 perturbation is visible: 0.5 + δ / (2·max|δ|). */
function perturbationImage(delta: Float32Array, size: number): RgbaImage {
  let max = 1e-12;
  for (const d of delta) max = Math.max(max, Math.abs(d));
  const plane = size * size;
  const data = new Uint8ClampedArray(plane * 4);
  for (let i = 0; i < plane; i++) {
    for (let c = 0; c < 3; c++) data[i * 4 + c] = Math.round(255 * (0.5 + delta[c * plane + i] / (2 * max)));
    data[i * 4 + 3] = 255;
  }
  return { width: size, height: size, data };
}

function drawChart(svg: SVGSVGElement, series: Record<Side, AttackStep[]>, steps: number) {
  const all = [...series.robust, ...series.baseline].map((s) => s.distance);
  const top = Math.max(0.05, ...all) * 1.1;
  const x = (step: number) => 30 + (step / Math.max(1, steps)) * 280;
  const y = (d: number) => 140 - (d / top) * 125;
  const line = (side: Side) =>
    series[side].length ? `<polyline fill="none" stroke="${COLORS[side]}" stroke-width="2" points="${series[side].map((s) => `${x(s.step)},${y(s.distance)}`).join(' ')}"/>` : '';
  svg.innerHTML = `
    <line x1="30" y1="140" x2="310" y2="140" stroke="#999"/><line x1="30" y1="15" x2="30" y2="140" stroke="#999"/>
    <text x="26" y="20" text-anchor="end" font-size="9">${top.toFixed(2)}</text><text x="26" y="142" text-anchor="end" font-size="9">0</text>
    <text x="170" y="156" text-anchor="middle" font-size="9">step</text>
    ${line('baseline')}${line('robust')}
    <text x="34" y="156" font-size="10" fill="${COLORS.robust}">— robust</text>
    <text x="306" y="156" text-anchor="end" font-size="10" fill="${COLORS.baseline}">— baseline</text>`;
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
  cancel.addEventListener('click', () => controller?.abort());

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const models = ctx.models();
    const { a, b } = ctx.images();
    const objective = field<HTMLSelectElement>('objective').value as AttackObjective;
    if (!models) return ctx.showError(new Error('The models are not loaded yet.'));
    if (!a || (objective === 'pull-together' && !b)) {
      status.textContent = objective === 'pull-together' ? 'Choose images A and B above first.' : 'Choose image A above first.';
      return;
    }
    const norm = field<HTMLSelectElement>('norm').value as AttackNorm;
    const l2 = norm === 'l2';
    const method = field<HTMLSelectElement>('method').value as AttackMethod;
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
    cancel.disabled = false;
    run.disabled = true;
    section.dataset.state = 'running';
    drawChart(chart, series, totalSteps);
    const progress = () => {
      status.textContent = `Running… robust ${Math.max(0, series.robust.length - 1)}/${totalSteps}, baseline ${Math.max(0, series.baseline.length - 1)}/${totalSteps} steps`;
      drawChart(chart, series, totalSteps);
    };
    const attack = (side: Side, other: Side) =>
      ctx.metric.attack(a, {
        ...settings,
        model: models[side].id,
        otherModel: models[other].id,
        objective,
        target: objective === 'pull-together' ? b! : undefined,
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
      const moved = (o: AttackOutcome) => Math.abs(o.attacked.after - o.attacked.clean);
      const ratio = moved(baseline) / Math.max(moved(robust), 1e-9);
      section.querySelector('.attack-verdict')!.textContent =
        `The attack moved the baseline's distance by ${moved(baseline).toFixed(4)} and the robust model's by ${moved(robust).toFixed(4)}` +
        (ratio >= 1 ? ` (${ratio.toFixed(1)}× less for the robust model).` : ' (the robust model moved more here).');
      status.textContent = `Done: ${attackLabel(settings)} ${norm === 'linf' ? 'L∞' : 'L2'}, ε = ${norm === 'linf' ? `${Math.round(settings.eps * 255)}/255` : settings.eps}, ${totalSteps} step(s), seed ${settings.seed}.`;
      section.dataset.state = 'done';
    } catch (err) {
      showRunFailure(err, section, status, ctx.showError);
    } finally {
      cancel.disabled = true;
      run.disabled = false;
    }
  });

  function show(outcome: AttackOutcome, side: Side) {
    const fig = section.querySelector<HTMLElement>(`figure[data-side="${side}"]`)!;
    drawRgba(fig.querySelector<HTMLCanvasElement>('.adv')!, outcome.adversarialRgba);
    drawRgba(fig.querySelector<HTMLCanvasElement>('.pert')!, perturbationImage(outcome.perturbation, outcome.adversarial.size));
    const out = fig.querySelector<HTMLOutputElement>('.final')!;
    out.value = `${outcome.attacked.clean.toFixed(4)} → ${outcome.attacked.after.toFixed(4)}`;
    out.dataset.clean = String(outcome.attacked.clean);
    out.dataset.after = String(outcome.attacked.after);
    if (outcome.other) out.dataset.otherAfter = String(outcome.other.after);
  }

  syncNorm();
  field<HTMLInputElement>('stepSize').value = String(Math.round(PAPER_DEFAULTS.stepSize * 255));
}
