/**
 * <rclip-distance a="x.jpg" b="y.jpg" [model="id"] [baseline="id"] [models-base="models/"]>
 * Shows the robust distance of two images (and optionally a baseline's), computed in a shared worker.
 * Events (bubbling, composed): rclip-distance, rclip-progress, rclip-error.
 * Theming: --rclip-font, --rclip-fg, --rclip-bg, --rclip-accent, --rclip-muted; parts: root, value, baseline, label, status.
 */
import type { BackendChoice, DistanceResult, ImageInput, LoadProgress, Metric } from '../client/metric';
import { toRclipError, type ErrorCode } from '../core/errors';
import { acquireMetric, releaseMetric } from './metric-registry';

export type ElementImage = string | File | Blob | ImageBitmap | null;

export interface RclipDistanceDetail {
  distance: number;
  similarity: number;
  model: string;
  ep: DistanceResult['ep'];
  timings: DistanceResult['timings'];
  baseline: { distance: number; similarity: number; model: string } | null;
}

export interface RclipErrorDetail {
  code: ErrorCode;
  message: string;
}

export type RclipProgressDetail = LoadProgress;

const DEFAULT_MODELS_BASE = 'models/';

const STYLE = `
  :host { display: inline-block; font-family: var(--rclip-font, system-ui, sans-serif); color: var(--rclip-fg, #1d1d1f); }
  [part=root] { display: grid; gap: 0.15rem; padding: 0.6rem 0.8rem; border-radius: 8px; background: var(--rclip-bg, #f4f3ef); min-width: 9rem; }
  [part=label] { font-size: 0.75rem; color: var(--rclip-muted, #5c5c66); }
  [part=value] { font-size: 1.8rem; font-weight: 700; font-variant-numeric: tabular-nums; color: var(--rclip-accent, #1f7a4d); }
  [part=baseline] { font-size: 0.85rem; color: var(--rclip-muted, #5c5c66); font-variant-numeric: tabular-nums; }
  [part=status] { font-size: 0.75rem; color: var(--rclip-muted, #5c5c66); }
  [part=status][data-error] { color: #b3261e; }
`;

export class RclipDistanceElement extends HTMLElement {
  static readonly observedAttributes = ['a', 'b', 'model', 'baseline', 'models-base'];

  private images: { a: ElementImage; b: ElementImage } = { a: null, b: null };
  private metric: Metric | null = null;
  private metricBase: string | null = null;
  private controller: AbortController | null = null;
  private scheduled = false;
  private value: number | null = null;
  private readonly els: Record<'value' | 'baseline' | 'status' | 'label', HTMLElement>;

  constructor() {
    super();
    const root = this.attachShadow({ mode: 'open' });
    root.innerHTML = `<style>${STYLE}</style><div part="root"><span part="label">robust distance</span><output part="value" aria-live="polite">—</output><span part="baseline" hidden></span><span part="status" role="status"></span></div>`;
    const part = (name: string) => root.querySelector(`[part=${name}]`) as HTMLElement;
    this.els = { value: part('value'), baseline: part('baseline'), status: part('status'), label: part('label') };
  }

  /** The last robust distance, or null before the first result and after an error. */
  get distance(): number | null {
    return this.value;
  }

  /** The execution provider this element's metric runs on and why (null while disconnected). */
  backend(): Promise<BackendChoice> | null {
    return this.metric?.backend() ?? null;
  }

  get a(): ElementImage {
    return this.images.a;
  }
  set a(v: ElementImage) {
    this.setImage('a', v);
  }
  get b(): ElementImage {
    return this.images.b;
  }
  set b(v: ElementImage) {
    this.setImage('b', v);
  }

  get model(): string | null {
    return this.getAttribute('model');
  }
  set model(v: string | null) {
    this.reflect('model', v);
  }
  get baseline(): string | null {
    return this.getAttribute('baseline');
  }
  set baseline(v: string | null) {
    this.reflect('baseline', v);
  }
  get modelsBase(): string {
    return this.getAttribute('models-base') ?? DEFAULT_MODELS_BASE;
  }
  set modelsBase(v: string | null) {
    this.reflect('models-base', v);
  }

  private reflect(name: string, v: string | null) {
    if (v === null) this.removeAttribute(name);
    else this.setAttribute(name, v);
  }

  private setImage(slot: 'a' | 'b', v: ElementImage) {
    if (typeof v === 'string' || v === null) {
      // Strings live in the attribute; attributeChangedCallback picks them up.
      this.reflect(slot, v);
      return;
    }
    this.images[slot] = v;
    this.schedule();
  }

  attributeChangedCallback(name: string, _old: string | null, value: string | null) {
    if (name === 'a' || name === 'b') this.images[name] = value;
    if (name === 'models-base' && this.metric) this.switchMetric();
    this.schedule();
  }

  connectedCallback() {
    this.switchMetric();
    this.schedule();
  }

  disconnectedCallback() {
    this.controller?.abort();
    this.controller = null;
    if (this.metricBase !== null) releaseMetric(this.metricBase);
    this.metric = null;
    this.metricBase = null;
  }

  private switchMetric() {
    if (this.metricBase === this.modelsBase) return;
    if (this.metricBase !== null) releaseMetric(this.metricBase);
    this.metricBase = this.modelsBase;
    this.metric = acquireMetric(this.metricBase);
  }

  /** Coalesces attribute and property changes made in one task into one computation. */
  private schedule() {
    if (this.scheduled) return;
    this.scheduled = true;
    queueMicrotask(() => {
      this.scheduled = false;
      if (this.isConnected) void this.compute();
    });
  }

  private emit<K extends keyof RclipEventMap>(type: K, detail: RclipEventMap[K]['detail']) {
    this.dispatchEvent(new CustomEvent(type, { detail, bubbles: true, composed: true }));
  }

  private async compute() {
    const { a, b } = this.images;
    this.controller?.abort();
    if (!a || !b || !this.metric) return;
    const controller = new AbortController();
    this.controller = controller;
    const metric = this.metric;
    const signal = controller.signal;
    this.els.status.removeAttribute('data-error');
    this.els.status.textContent = 'computing…';
    try {
      const [ia, ib] = await Promise.all([toInput(a), toInput(b)]);
      const onProgress = (p: LoadProgress) => this.emit('rclip-progress', p);
      const model = (await metric.loadModel(this.model ?? undefined, { onProgress })).id;
      if (this.baseline) await metric.loadModel(this.baseline, { onProgress });
      // One request for the model and its baseline: each image is decoded once in the worker.
      const {
        results: [r, base],
      } = await metric.compare(ia, ib, { models: this.baseline ? [model, this.baseline] : [model], signal });
      const baseline: RclipDistanceDetail['baseline'] = base ? { distance: base.distance, similarity: base.similarity, model: base.model } : null;
      if (signal.aborted) return;
      this.value = r.distance;
      this.els.value.textContent = r.distance.toFixed(4);
      this.els.baseline.hidden = baseline === null;
      this.els.baseline.textContent = baseline ? `baseline ${baseline.distance.toFixed(4)}` : '';
      this.els.status.textContent = `${r.model} · ${r.ep === 'webgpu' ? 'WebGPU' : r.ep}`;
      this.els.status.title = (await metric.backend()).reason;
      this.emit('rclip-distance', { distance: r.distance, similarity: r.similarity, model: r.model, ep: r.ep, timings: r.timings, baseline });
    } catch (err) {
      if (signal.aborted) return;
      const e = toRclipError(err);
      this.value = null;
      this.els.value.textContent = '—';
      this.els.status.dataset.error = e.code;
      this.els.status.textContent = e.message;
      this.emit('rclip-error', { code: e.code, message: e.message });
    }
  }
}

/** URLs resolve against the page; an ImageBitmap becomes a PNG once, because a transferred bitmap can be used only once. */
async function toInput(v: Exclude<ElementImage, null>): Promise<ImageInput> {
  if (typeof v === 'string') return { url: new URL(v, document.baseURI).href, name: v };
  if (typeof ImageBitmap !== 'undefined' && v instanceof ImageBitmap) {
    const canvas = new OffscreenCanvas(v.width, v.height);
    canvas.getContext('2d')!.drawImage(v, 0, 0);
    return canvas.convertToBlob({ type: 'image/png' });
  }
  return v as Blob;
}

export function defineRclipDistance(tag = 'rclip-distance'): void {
  if (!customElements.get(tag)) customElements.define(tag, RclipDistanceElement);
}

/** The element's events by name and detail. */
export interface RclipEventMap {
  'rclip-distance': CustomEvent<RclipDistanceDetail>;
  'rclip-progress': CustomEvent<RclipProgressDetail>;
  'rclip-error': CustomEvent<RclipErrorDetail>;
}

declare global {
  interface HTMLElementTagNameMap {
    'rclip-distance': RclipDistanceElement;
  }
  // The events bubble and are composed, so any element or document listener receives them typed:
  // el.addEventListener('rclip-distance', (e) => e.detail.distance).
  interface GlobalEventHandlersEventMap extends RclipEventMap {}
}
