/**
 * The demo page: two images in, the robust distance out, with the baseline beside it.
 *
 * Query parameters (for users and tests):
 *   ?backend=auto|webgpu|wasm   which execution provider to ask for (default auto: WebGPU on a hardware adapter;
 *                               a software fallback adapter such as SwiftShader gets wasm, webgpu forces it)
 *   ?models=<url>               where index.json lives (default "models/")
 *   ?ortlog=0..4                ORT log level; 0 logs node placement in the worker's console
 */
import { createMetric, type BackendChoice, type ImageInput, type LoadProgress, type ModelInfo } from '../client/metric';
import { RclipError } from '../core/errors';
import { simulateWorkerCrash } from '../client/test-hooks';
import { mountAttackPanel } from './attack-panel';
import { mountBlocklistPanel } from './blocklist-panel';
import { mountInversionPanel } from './inversion-panel';
import { errorView, SAMPLE_PHOTOS, sampleButton, wireDropZone } from './panel-kit';
import { describeBands, verdict } from '../core/calibration';
import { describeRobustness } from '../core/manifest';

type Slot = 'a' | 'b';

const params = new URLSearchParams(location.search);
const backendParam = params.get('backend');
const ortlog = params.get('ortlog');
const metric = createMetric({
  modelsBase: params.get('models') ?? 'models/',
  backend: backendParam === 'wasm' || backendParam === 'webgpu' ? backendParam : 'auto',
  logSeverityLevel: ortlog !== null && /^[0-4]$/.test(ortlog) ? (Number(ortlog) as 0 | 1 | 2 | 3 | 4) : undefined,
  onWorkerCrash: (err) => pageErrors.show(err),
});

const $ = <T extends HTMLElement>(selector: string, root: ParentNode = document) => root.querySelector(selector) as T;
const images: Record<Slot, ImageInput | null> = { a: null, b: null };
const thumbUrls: Record<Slot, string | null> = { a: null, b: null };
let models: { robust: ModelInfo; baseline: ModelInfo } | null = null;
let compareController: AbortController | null = null;

// ---- messages -------------------------------------------------------------------------------

/** The comparison's numbers, verdict and timing line: stale once an image fails. */
function clearComparison() {
  for (const out of [$('#robust-distance'), $('#baseline-distance')]) {
    out.textContent = '—';
    delete out.dataset.value;
  }
  $('#verdict').textContent = '';
  $('#timings').textContent = '';
}

/** Errors about the page as a whole (models, the worker) and about the comparison share the top alert. */
const pageErrors = errorView($('#alert'));
const compareErrors = errorView($('#alert'), clearComparison);

function showBackend(choice: BackendChoice, loaded: ModelInfo[]) {
  const badge = $('#ep-badge');
  const ep = loaded[0]?.ep ?? choice.ep;
  badge.dataset.ep = ep;
  const threads = ep === 'wasm' ? ` · ${choice.threads} thread${choice.threads === 1 ? '' : 's'}` : '';
  const fallbacks = loaded.filter((m) => m.fallbackReason).map((m) => `${m.id}: ${m.fallbackReason}`);
  badge.textContent = `${ep === 'webgpu' ? 'WebGPU' : 'wasm'}${threads} — ${choice.reason}${fallbacks.length ? ` ${fallbacks.join(' ')}` : ''}`;
}

// ---- model loading --------------------------------------------------------------------------

async function loadModels() {
  const load = $('#load');
  const bar = $<HTMLProgressElement>('#load-progress');
  const label = $('#load-label');
  const progress = new Map<string, LoadProgress['overall']>();
  const onProgress = (p: LoadProgress) => {
    progress.set(p.model, p.overall);
    const loaded = [...progress.values()].reduce((s, x) => s + x.loaded, 0);
    const total = [...progress.values()].reduce((s, x) => s + x.total, 0);
    bar.value = total ? loaded / total : 0;
    label.textContent = `Loading ${p.model} (${p.from === 'network' ? 'download' : 'from cache'}): ${(loaded / 2 ** 20).toFixed(1)} of ${(total / 2 ** 20).toFixed(1)} MB`;
  };
  load.hidden = false;
  try {
    const index = await metric.models();
    const [robust, baseline] = await Promise.all([
      metric.loadModel(index.default, { onProgress }),
      metric.loadModel(index.baseline, { onProgress }),
    ]);
    models = { robust, baseline };
    $('#robust-model').textContent = `${robust.name} · robustness: ${describeRobustness(robust.manifest.robustness)}`;
    $('#baseline-model').textContent = `${baseline.name} · robustness: ${describeRobustness(baseline.manifest.robustness)}`;
    // The bands are the robust model's own (manifest calibration), measured by bench/calibrate.ts.
    const calibration = robust.manifest.calibration;
    $('#thresholds').textContent = calibration ? `Verdict bands (robust distance): ${describeBands(calibration)}.` : '';
    showBackend(await metric.backend(), [robust, baseline]);
    document.body.dataset.ready = 'true';
  } catch (err) {
    $('#ep-badge').textContent = 'Models not loaded';
    pageErrors.show(err, 'The models could not be loaded');
  } finally {
    load.hidden = true;
  }
}

// ---- images ---------------------------------------------------------------------------------

function setImage(slot: Slot, image: ImageInput, preview: Blob | string | null) {
  images[slot] = image;
  const zone = $(`#zone-${slot}`);
  const thumb = $<HTMLImageElement>('.thumb', zone);
  if (thumbUrls[slot]) URL.revokeObjectURL(thumbUrls[slot]!);
  thumbUrls[slot] = null;
  if (preview instanceof Blob) {
    thumbUrls[slot] = URL.createObjectURL(preview);
    thumb.src = thumbUrls[slot]!;
  } else if (preview) thumb.src = preview;
  thumb.hidden = preview === null;
  thumb.alt = `Image ${slot.toUpperCase()}${image instanceof File ? `: ${image.name}` : ''}`;
  void compare();
}

function imageFromDataTransfer(data: DataTransfer): { image: ImageInput; preview: Blob | string | null } | null {
  const file = [...data.files][0];
  if (file) return { image: file, preview: file };
  const uri = data.getData('text/uri-list').split('\n').find((l) => l && !l.startsWith('#')) ?? data.getData('text/plain');
  if (uri && /^(https?:|data:|blob:)/.test(uri.trim())) return { image: { url: uri.trim() }, preview: null };
  return null;
}

function wireZone(slot: Slot) {
  const zone = $(`#zone-${slot}`);
  const input = $<HTMLInputElement>(`#file-${slot}`);
  input.addEventListener('change', () => {
    const file = input.files?.[0];
    if (file) setImage(slot, file, file);
    input.value = '';
  });
  wireDropZone(zone, input, (data) => {
    const dropped = data && imageFromDataTransfer(data);
    if (dropped) setImage(slot, dropped.image, dropped.preview);
    else compareErrors.show(new RclipError('IMAGE_UNSUPPORTED_FORMAT', 'Nothing usable was dropped: drop an image file or an image link.'));
  });
  zone.addEventListener('paste', (e) => {
    const pasted = e.clipboardData && imageFromDataTransfer(e.clipboardData);
    if (pasted) {
      e.preventDefault();
      setImage(slot, pasted.image, pasted.preview);
    }
  });
  // A file the browser cannot show (the alert says why) leaves no broken-image icon behind.
  const thumb = $<HTMLImageElement>('.thumb', zone);
  thumb.addEventListener('error', () => (thumb.hidden = true));
  const samples = $('.samples', zone);
  for (const sample of SAMPLE_PHOTOS) {
    const url = new URL(`samples/${sample.file}`, location.href).href;
    samples.append(sampleButton(sample, () => setImage(slot, { url, name: sample.file }, url)));
  }
}

// ---- comparison -----------------------------------------------------------------------------

const fmt = (d: number) => d.toFixed(4);

async function compare() {
  const { a, b } = images;
  if (!a || !b || !models) return;
  compareController?.abort();
  const controller = new AbortController();
  compareController = controller;
  const { robust, baseline } = models;
  const out = { robust: $('#robust-distance'), baseline: $('#baseline-distance') };
  out.robust.textContent = out.baseline.textContent = '…';
  document.body.dataset.state = 'computing';
  const result = $('.result');
  result.setAttribute('aria-busy', 'true');
  try {
    // One request for both models: the worker decodes each image once.
    const {
      results: [r, base],
      timings,
    } = await metric.compare(a, b, { models: [robust.id, baseline.id], signal: controller.signal });
    out.robust.textContent = fmt(r.distance);
    out.robust.dataset.value = String(r.distance);
    out.baseline.textContent = fmt(base.distance);
    out.baseline.dataset.value = String(base.distance);
    const calibration = robust.manifest.calibration;
    $('#verdict').textContent = calibration
      ? `The images look ${verdict(r.distance, calibration).split(':')[0]} to the robust model.`
      : `No verdict: the robust model's manifest has no calibration.`;
    $('#timings').textContent = `Both models: ${timings.totalMs.toFixed(0)} ms (decode ${timings.decodeMs.toFixed(0)} ms once · inference robust ${r.timings.inferenceMs.toFixed(0)} ms, baseline ${base.timings.inferenceMs.toFixed(0)} ms), on ${r.ep === 'webgpu' ? 'WebGPU' : 'wasm'}`;
    compareErrors.clear();
    document.body.dataset.state = 'done';
  } catch (err) {
    if (controller.signal.aborted) return;
    document.body.dataset.state = 'error';
    compareErrors.show(err);
  } finally {
    if (compareController === controller) result.removeAttribute('aria-busy');
  }
}

// ---- start ----------------------------------------------------------------------------------

wireZone('a');
wireZone('b');
mountAttackPanel($('#attack-panel'), { metric, images: () => images, models: () => models });
mountInversionPanel($('#inversion-panel'), { metric, imageA: () => images.a, models: () => models });
const blocklist = mountBlocklistPanel($('#blocklist-panel'), { metric, models: () => models });
void loadModels().then(() => {
  blocklist.refresh();
  return compare();
});

// For end-to-end tests (only in builds with __RCLIP_TEST_HOOKS__): the live metric, the current models, a worker crash.
if (__RCLIP_TEST_HOOKS__) Object.assign(window, { __rclip: { metric, get models() { return models; }, simulateCrash: () => simulateWorkerCrash(metric) } });
