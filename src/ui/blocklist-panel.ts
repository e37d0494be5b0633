/**
 * The blocklist panel: an uploaded image matched against a list of "blocked" images by the
 * robust encoder, the baseline encoder and a perceptual hash, side by side; Evade runs PGD (L∞) on the
 * upload under each encoder and shows which filters still catch it. The pHash is not differentiable:
 * Evade attacks it with Square (score-based, its own query budget) in the worker, where its
 * thousand-odd hashes cannot stall the page, and also reports the baseline's copy against it (transfer).
 */
import type { AttackOutcome, AttackSize, Metric, ModelInfo } from '../client/metric';
import { decodeOnPage, drawRgba, errorView, type ErrorView, fetchSample, rgbaPng, SAMPLE_PHOTOS, sampleButton, showRunFailure, startRun, wireDropZone } from './panel-kit';
import { RclipError } from '../core/errors';
import { nearestRow, toMatrix } from '../core/nearest';
import { nearestHash, phash, PHASH_BITS, PHASH_MATCH_BITS } from '../core/phash';
import { SQUARE_DEFAULTS } from '../core/square';
import type { RgbaImage } from '../core/preprocess';

export interface BlocklistPanelContext {
  metric: Metric;
  models: () => { robust: ModelInfo; baseline: ModelInfo } | null;
}

type Filter = 'robust' | 'baseline' | 'phash';
type Encoder = 'robust' | 'baseline';

interface Listed {
  name: string;
  blob: Blob;
  /** The thumbnail's object URL, revoked when the entry is removed. */
  thumbUrl: string;
  hash: string;
  embedding: Partial<Record<Encoder, Float32Array>>;
}

interface Verdict {
  nearest: string;
  /** Index into the list (−1: none). */
  row: number;
  /** Cosine distance (encoders) or differing bits (pHash). */
  distance: number;
  threshold: number;
  match: boolean;
}

/** The bundled list: safe sample photos standing in for known images (every sample is offered as the upload). */
const BUNDLED = ['cat.jpg', 'coffee.jpg'];

const FILTERS: readonly Filter[] = ['robust', 'baseline', 'phash'];
const LABEL: Record<Filter, string> = { robust: 'Robust encoder', baseline: 'Baseline encoder', phash: 'Perceptual hash (pHash)' };

const TEMPLATE = `
  <h2>Blocklist: does a perturbed copy slip through?</h2>
  <p class="hint">A filter matches an upload against a list of known images (here: safe samples; add your own). Each filter
  reports the nearest listed image and matches at its own threshold (each encoder's <code>calibration.dedupeThreshold</code>,
  pHash: ≤ ${PHASH_MATCH_BITS} of ${PHASH_BITS} bits). <strong>Evade</strong> perturbs the upload by at most ε (PGD, L∞) to push it away
  from its nearest listed image under each encoder (white-box, each encoder's own gradient). The pHash has no gradient: it is attacked
  with <em>Square</em> (score-based, L∞, the same ε: it only asks the hash), and the verdict also says whether the copy crafted against the
  <em>baseline</em> encoder fools it (a transfer attack). The page decodes an upload at up to 512 px a side: Evade perturbs it at that
  size (full size, through each encoder's resize and crop) or at the encoder's input size, and each copy is matched again at its own size.</p>
  <div class="blocklist-grid">
    <div class="zone blocklist-list" tabindex="0" aria-label="Listed images: drop images here, or press Enter to add files">
      <h3>Listed images</h3>
      <ul class="listed" aria-live="polite"></ul>
      <label class="pick">Add images to the list… <input type="file" class="visually-hidden add-listed" accept="image/*" multiple /></label>
    </div>
    <div class="zone blocklist-upload" tabindex="0" aria-label="Upload: drop an image here, or press Enter to choose a file">
      <h3>Upload</h3>
      <img class="thumb upload-thumb" alt="" hidden />
      <label class="pick">Choose an upload… <input type="file" class="visually-hidden pick-upload" accept="image/*" /></label>
      <div class="samples upload-samples" role="group" aria-label="Sample uploads"></div>
    </div>
  </div>
  <form class="attack-form evade-form" novalidate>
    <label><span>ε = <output name="epsOut">4</output>/255</span>
      <input type="range" name="eps" min="1" max="16" step="1" value="4" />
    </label>
    <label>Steps <input type="number" name="steps" min="1" max="500" value="10" /></label>
    <label>pHash queries <input type="number" name="queries" min="1" max="20000" value="${SQUARE_DEFAULTS.queries}" /></label>
    <label>Seed <input type="number" name="seed" min="0" max="999999" value="0" /></label>
    <label>Copy size
      <select name="size"><option value="full">Full size: the upload's (up to 512 px a side)</option><option value="model">Model size: each encoder's input</option></select>
    </label>
    <div class="actions">
      <button type="submit" class="evade" disabled>Evade</button>
      <button type="button" class="cancel" disabled>Cancel</button>
    </div>
  </form>
  <p class="blocklist-status" role="status" aria-live="polite">Choose an upload.</p>
  <div class="alert panel-alert" role="alert" hidden></div>
  <div class="table-scroll">
  <table class="blocklist-table">
    <caption class="visually-hidden">Nearest listed image and match, per filter, before and after Evade</caption>
    <thead><tr><th scope="col">Filter</th><th scope="col">Nearest listed</th><th scope="col">Upload</th><th scope="col">After Evade</th></tr></thead>
    <tbody>
      ${FILTERS.map((f) => `<tr data-filter="${f}"><th scope="row">${LABEL[f]}</th><td class="nearest">—</td><td class="clean">—</td><td class="after">—</td></tr>`).join('')}
    </tbody>
  </table>
  </div>
  <div class="attack-results evade-images">
    <figure data-side="robust"><canvas width="64" height="64" aria-label="Copy crafted against the robust encoder"></canvas><figcaption>Crafted against robust</figcaption></figure>
    <figure data-side="baseline"><canvas width="64" height="64" aria-label="Copy crafted against the baseline encoder (also shown to the pHash)"></canvas><figcaption>Crafted against baseline (also given to pHash)</figcaption></figure>
    <figure data-side="phash"><canvas width="64" height="64" aria-label="Copy crafted against the pHash with Square"></canvas><figcaption>Crafted against pHash (Square)</figcaption></figure>
  </div>
  <p class="blocklist-verdict"></p>
`;

export function mountBlocklistPanel(section: HTMLElement, ctx: BlocklistPanelContext): { refresh: () => void } {
  section.innerHTML = TEMPLATE;
  section.classList.add('attack', 'blocklist');
  const $ = <T extends Element>(s: string) => section.querySelector(s) as T;
  const form = $<HTMLFormElement>('.evade-form');
  const field = (name: string) => form.elements.namedItem(name) as HTMLInputElement;
  const status = $<HTMLElement>('.blocklist-status');
  const evade = $<HTMLButtonElement>('.evade');
  const cancel = $<HTMLButtonElement>('.cancel');
  const listed: Listed[] = [];
  let upload: { name: string; blob: Blob; rgba: RgbaImage; hash: string } | null = null;
  /** Each encoder's nearest listed image for the current upload: what Evade pushes away from. */
  let matchOf: Partial<Record<Encoder, Listed>> = {};
  let controller: AbortController | null = null;
  let generation = 0;

  const thresholdOf = (m: ModelInfo) => m.manifest.calibration?.dedupeThreshold ?? null;

  async function embed(blob: Blob, side: Encoder, signal?: AbortSignal): Promise<Float32Array> {
    const models = ctx.models()!;
    return (await ctx.metric.embed(blob, { model: models[side].id, signal })).embedding;
  }

  async function ensureListEmbeddings(signal?: AbortSignal) {
    for (const item of listed) for (const side of ['robust', 'baseline'] as Encoder[]) item.embedding[side] ??= await embed(item.blob, side, signal);
  }

  function nearestEncoder(embedding: Float32Array, side: Encoder): Verdict {
    const models = ctx.models()!;
    const t = thresholdOf(models[side]);
    const n = nearestRow(embedding, toMatrix(listed.map((l) => l.embedding[side]!), embedding.length));
    return { nearest: listed[n.index]?.name ?? '—', row: n.index, distance: n.distance, threshold: t ?? NaN, match: t !== null && n.distance <= t };
  }

  function hashVerdict(hash: string): Verdict {
    const n = nearestHash(hash, listed.map((l) => l.hash));
    return { nearest: listed[n.index]?.name ?? '—', row: n.index, distance: n.bits, threshold: PHASH_MATCH_BITS, match: n.bits <= PHASH_MATCH_BITS };
  }

  function cell(filter: Filter, column: 'clean' | 'after', v: Verdict | null) {
    const row = $<HTMLTableRowElement>(`tr[data-filter="${filter}"]`);
    const td = row.querySelector<HTMLElement>(`.${column}`)!;
    if (!v) {
      td.textContent = '—';
      delete row.dataset[column === 'clean' ? 'match' : 'matchAfter'];
      return;
    }
    const d = filter === 'phash' ? `${v.distance} bits` : v.distance.toFixed(4);
    const t = filter === 'phash' ? `${v.threshold}` : Number.isNaN(v.threshold) ? 'no threshold' : v.threshold.toString();
    td.innerHTML = `<span class="${v.match ? 'caught' : 'missed'}">${v.match ? 'MATCH' : 'no match'}</span> <span class="num">${d} (≤ ${t})</span>`;
    td.dataset.distance = String(v.distance);
    row.dataset[column === 'clean' ? 'match' : 'matchAfter'] = String(v.match);
    if (column === 'clean') row.querySelector<HTMLElement>('.nearest')!.textContent = v.nearest;
    else if (v.nearest !== row.querySelector<HTMLElement>('.nearest')!.textContent) td.insertAdjacentText('beforeend', ` nearest: ${v.nearest}`);
  }

  /** Evade's results (the "After Evade" column, the crafted copies, the verdict): stale when the upload, the list or a run changes. */
  function clearEvade() {
    for (const f of FILTERS) cell(f, 'after', null);
    for (const fig of section.querySelectorAll<HTMLElement>('.evade-images figure')) {
      const canvas = fig.querySelector('canvas')!;
      canvas.getContext('2d')!.clearRect(0, 0, canvas.width, canvas.height);
      delete canvas.dataset.size;
      for (const key of ['attackAfter', 'queries', 'transferMatch']) delete fig.dataset[key];
    }
    $<HTMLElement>('.blocklist-verdict').textContent = '';
  }

  /** Everything shown about the upload: its thumbnail, the whole table, Evade's results. */
  function clearUpload() {
    controller?.abort();
    ++generation;
    upload = null;
    matchOf = {};
    evade.disabled = true;
    const thumb = $<HTMLImageElement>('.upload-thumb');
    if (thumb.src.startsWith('blob:')) URL.revokeObjectURL(thumb.src);
    thumb.removeAttribute('src');
    thumb.alt = '';
    thumb.hidden = true;
    for (const f of FILTERS) {
      cell(f, 'clean', null);
      $<HTMLTableRowElement>(`tr[data-filter="${f}"]`).querySelector<HTMLElement>('.nearest')!.textContent = '—';
    }
    clearEvade();
    delete section.dataset.state;
  }

  // One alert for the panel; what an error makes stale depends on what failed.
  const alert = $<HTMLElement>('.panel-alert');
  const listErrors = errorView(alert);
  const uploadErrors = errorView(alert, () => {
    clearUpload();
    status.textContent = 'Choose another upload.';
  });
  const evadeErrors = errorView(alert, clearEvade);

  function renderList() {
    const ul = $<HTMLUListElement>('.listed');
    ul.replaceChildren(
      ...listed.map((l) => {
        const li = document.createElement('li');
        const img = document.createElement('img');
        img.src = l.thumbUrl;
        // Decorative: the name follows as text, and an alt repeating it is read twice.
        img.alt = '';
        const name = document.createElement('span');
        name.className = 'listed-name';
        name.textContent = l.name;
        const remove = document.createElement('button');
        remove.type = 'button';
        remove.className = 'remove';
        remove.textContent = 'Remove';
        remove.setAttribute('aria-label', `Remove ${l.name} from the list`);
        remove.addEventListener('click', () => void removeListed(l));
        li.append(img, name, remove);
        return li;
      }),
    );
  }

  /** Adds one image to the list; a file that is not a readable image is refused by name and the list stays as it was. */
  async function addListed(name: string, blob: Blob) {
    let hash: string;
    try {
      hash = phash(await decodeOnPage(blob, name));
    } catch (err) {
      listErrors.show(err, 'Not added to the list');
      return;
    }
    listErrors.clear();
    listed.push({ name, blob, thumbUrl: URL.createObjectURL(blob), hash, embedding: {} });
    renderList();
    clearEvade();
    await check();
  }

  async function removeListed(item: Listed) {
    const at = listed.indexOf(item);
    if (at < 0) return;
    listed.splice(at, 1);
    URL.revokeObjectURL(item.thumbUrl);
    renderList();
    // Focus stays in the list (the next entry's Remove, else the list's own zone) rather than falling to the page.
    (section.querySelectorAll<HTMLButtonElement>('.listed .remove')[Math.min(at, listed.length - 1)] ?? $<HTMLElement>('.blocklist-list')).focus();
    clearEvade();
    await check();
  }

  async function setUpload(name: string, blob: Blob) {
    clearUpload();
    let rgba: RgbaImage;
    try {
      rgba = await decodeOnPage(blob, name);
    } catch (err) {
      uploadErrors.show(err, 'Upload refused');
      return;
    }
    uploadErrors.clear();
    upload = { name, blob, rgba, hash: phash(rgba) };
    const thumb = $<HTMLImageElement>('.upload-thumb');
    thumb.src = URL.createObjectURL(blob);
    thumb.alt = `Upload: ${name}`;
    thumb.hidden = false;
    await check();
  }

  /** Matches the clean upload under the three filters. */
  async function check() {
    const models = ctx.models();
    if (!upload) return;
    if (!models) {
      status.textContent = 'Waiting for the models to load…';
      return;
    }
    const mine = ++generation;
    if (listed.length === 0) {
      for (const f of FILTERS) {
        cell(f, 'clean', null);
        $<HTMLTableRowElement>(`tr[data-filter="${f}"]`).querySelector<HTMLElement>('.nearest')!.textContent = '—';
      }
      matchOf = {};
      evade.disabled = true;
      status.textContent = `${upload.name}: the list is empty; add images to it.`;
      section.dataset.state = 'matched';
      return;
    }
    section.dataset.state = 'matching';
    status.textContent = 'Matching…';
    try {
      await ensureListEmbeddings();
      const u = upload;
      const verdicts = {
        robust: nearestEncoder(await embed(u.blob, 'robust'), 'robust'),
        baseline: nearestEncoder(await embed(u.blob, 'baseline'), 'baseline'),
        phash: hashVerdict(u.hash),
      };
      if (mine !== generation) return;
      matchOf = { robust: listed[verdicts.robust.row], baseline: listed[verdicts.baseline.row] };
      for (const f of FILTERS) cell(f, 'clean', verdicts[f]);
      const caught = FILTERS.filter((f) => verdicts[f].match).map((f) => LABEL[f]);
      status.textContent = `${u.name}: ${caught.length ? `matched by ${caught.join(', ')}` : 'no filter matches it'} (${listed.length} listed).`;
      section.dataset.state = 'matched';
      evade.disabled = false;
    } catch (err) {
      if (mine !== generation) return;
      section.dataset.state = 'error';
      uploadErrors.show(err);
    }
  }

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const models = ctx.models();
    if (!models || !upload || !matchOf.robust || !matchOf.baseline) return;
    const eps = Number(field('eps').value) / 255;
    const steps = Number(field('steps').value);
    const seed = Number(field('seed').value);
    const queries = Number(field('queries').value);
    const size = (form.elements.namedItem('size') as HTMLSelectElement).value as AttackSize;
    // Step eps/4 (1/255 at the paper's 4/255, 10 steps: the attack panel's and `rclip eval`'s default).
    const settings = { method: 'pgd' as const, norm: 'linf' as const, eps, steps, stepSize: eps / 4, seed };
    controller?.abort();
    controller = new AbortController();
    const signal = controller.signal;
    const done = { robust: 0, baseline: 0, phash: 0 };
    const endRun = startRun(section, { run: evade, cancel }, 'evading', evadeErrors, clearEvade);
    const progress = () => (status.textContent = `Evading… robust ${done.robust}/${steps}, baseline ${done.baseline}/${steps} steps, pHash ${done.phash}/${queries} queries`);
    progress();
    const u = upload;
    // The upload as the page decoded it (up to 512 px a side), losslessly: the pixels Square perturbs for the pHash too.
    const decodedUpload = rgbaPng(u.rgba);
    const attack = async (side: Encoder) =>
      ctx.metric.attack(await decodedUpload, {
        ...settings,
        model: models[side].id,
        objective: 'push-from-target',
        target: matchOf[side]!.blob,
        size,
        signal,
        onStep: (s) => {
          if (signal.aborted) return;
          done[side] = s.step;
          progress();
        },
      });
    const squareOnHash = ctx.metric.evadePhash(u.rgba, listed.map((l) => l.hash), {
      eps,
      queries,
      seed,
      signal,
      onProgress: (p) => {
        if (signal.aborted) return;
        done.phash = p.query;
        progress();
      },
    });
    try {
      const [r, b, h] = await Promise.all([attack('robust'), attack('baseline'), squareOnHash]);
      const copyOf = (o: AttackOutcome) => o.fullSize?.rgba ?? o.adversarialRgba;
      const pngs = { robust: await rgbaPng(copyOf(r)), baseline: await rgbaPng(copyOf(b)), phash: await rgbaPng(h.adversarial) };
      const after = {
        robust: nearestEncoder(await embed(pngs.robust, 'robust', signal), 'robust'),
        baseline: nearestEncoder(await embed(pngs.baseline, 'baseline', signal), 'baseline'),
        phash: hashVerdict(phash(await decodeOnPage(pngs.phash, 'the pHash-crafted copy'))),
      };
      const transfer = hashVerdict(phash(await decodeOnPage(pngs.baseline, 'the baseline-crafted copy')));
      for (const f of FILTERS) cell(f, 'after', after[f]);
      const show = (side: Filter, image: RgbaImage, atFullSize: boolean) => {
        const fig = section.querySelector<HTMLElement>(`.evade-images figure[data-side="${side}"]`)!;
        const canvas = fig.querySelector('canvas')!;
        drawRgba(canvas, image);
        canvas.dataset.size = atFullSize ? 'full' : 'model';
        return fig;
      };
      for (const [side, o] of [['robust', r], ['baseline', b]] as const) show(side, copyOf(o), o.fullSize !== null).dataset.attackAfter = String(o.attacked.after);
      // Square perturbs the decoded upload itself: its copy is always full size.
      const hashFigure = show('phash', h.adversarial, true);
      hashFigure.dataset.queries = String(h.queries);
      hashFigure.dataset.transferMatch = String(transfer.match);
      const still = FILTERS.filter((f) => after[f].match).map((f) => LABEL[f]);
      const evaded = FILTERS.filter((f) => !after[f].match).map((f) => LABEL[f]);
      $<HTMLElement>('.blocklist-verdict').textContent =
        `After Evade (PGD L∞ ε = ${Math.round(eps * 255)}/255, ${steps} steps, seed ${seed}, ${size === 'full' ? `on the ${u.rgba.width}×${u.rgba.height} upload` : "on each encoder's input"}; each copy re-read as an 8-bit PNG): ` +
        `${still.length ? `still caught by ${still.join(', ')}` : 'no filter catches it'}${evaded.length ? `; evaded ${evaded.join(', ')}` : ''}. ` +
        `The pHash was attacked with Square (${h.queries} of ${queries} queries${h.evaded ? ', stopped when no listed hash matched' : ''}); ` +
        `given the baseline-crafted copy instead (transfer), it is ${transfer.distance} bits from ${transfer.nearest}: ${transfer.match ? 'still a match' : 'no match'}.`;
      status.textContent = 'Done.';
      section.dataset.state = 'evaded';
    } catch (err) {
      showRunFailure(err, section, status, evadeErrors);
    } finally {
      endRun();
      // A run ended by a new upload or an emptied list leaves nothing to evade.
      evade.disabled = !upload || !matchOf.robust;
    }
  });
  cancel.addEventListener('click', () => controller?.abort());
  field('eps').addEventListener('input', () => ((form.elements.namedItem('epsOut') as HTMLOutputElement).value = field('eps').value));

  // Adding to the list: pick or drop (several files at once; each bad one is refused by name, the rest are added).
  const addAll = async (files: File[]) => {
    for (const f of files) await addListed(f.name, f);
  };
  const addInput = $<HTMLInputElement>('.add-listed');
  addInput.addEventListener('change', () => {
    const files = [...(addInput.files ?? [])];
    addInput.value = '';
    void addAll(files);
  });
  const uploadInput = $<HTMLInputElement>('.pick-upload');
  uploadInput.addEventListener('change', () => {
    const f = uploadInput.files?.[0];
    uploadInput.value = '';
    if (f) void setUpload(f.name, f);
  });
  // Dropped files are not filtered by their claimed type: the decode names what each really is.
  const wireDrop = (zone: HTMLElement, input: HTMLInputElement, onFiles: (files: File[]) => Promise<void>, errors: ErrorView) =>
    wireDropZone(zone, input, (data) => {
      const files = [...(data?.files ?? [])];
      if (files.length) void onFiles(files);
      else errors.show(new RclipError('IMAGE_UNSUPPORTED_FORMAT', 'Nothing usable was dropped: drop image files.'));
    });
  wireDrop($('.blocklist-list'), addInput, addAll, listErrors);
  wireDrop($('.blocklist-upload'), uploadInput, (files) => setUpload(files[0].name, files[0]), uploadErrors);

  const samples = $<HTMLElement>('.upload-samples');
  for (const sample of SAMPLE_PHOTOS) {
    const label = BUNDLED.includes(sample.file) ? `${sample.label} (listed)` : sample.label;
    samples.append(sampleButton({ file: sample.file, label }, () => void fetchSample(sample.file).then((blob) => setUpload(sample.file, blob), (err) => uploadErrors.show(err))));
  }
  void (async () => {
    for (const file of BUNDLED) await addListed(file, await fetchSample(file));
  })().catch((err) => listErrors.show(err));

  return { refresh: () => void check() };
}
