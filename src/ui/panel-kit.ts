/** DOM pieces the demo's drop zones and long-running panels share. */
import { RclipError, toRclipError } from '../core/errors';
import { corruptImageError, sniffImage } from '../core/image-format';
import type { RgbaImage } from '../core/preprocess';

/**
 * A focusable zone that opens its file input on Enter/Space, highlights while something is dragged
 * over it, and hands a drop to `onDrop`.
 */
export function wireDropZone(zone: HTMLElement, input: HTMLInputElement, onDrop: (data: DataTransfer | null) => void): void {
  zone.addEventListener('keydown', (e) => {
    if (e.target === zone && (e.key === 'Enter' || e.key === ' ')) {
      e.preventDefault();
      input.click();
    }
  });
  zone.addEventListener('dragover', (e) => {
    e.preventDefault();
    zone.classList.add('over');
  });
  zone.addEventListener('dragleave', () => zone.classList.remove('over'));
  zone.addEventListener('drop', (e) => {
    e.preventDefault();
    zone.classList.remove('over');
    onDrop(e.dataTransfer);
  });
}

/**
 * The page's one error display: each panel has an alert element and the results an error makes stale.
 * `show` clears those results first (a failed image must not sit beside the last good run's numbers),
 * then writes the error's message, which names the file and the reason (the engine's wording,
 * src/core/image-format.ts), and its code (src/core/errors.ts), also as `data-code` for tests and scripts.
 */
export interface ErrorView {
  show(err: unknown, context?: string): void;
  clear(): void;
}

export function errorView(alert: HTMLElement, clearStale: () => void = () => {}): ErrorView {
  return {
    show(err, context) {
      const e = toRclipError(err);
      if (e.code === 'CANCELLED') return;
      clearStale();
      const message = document.createElement('span');
      message.className = 'alert-message';
      message.textContent = `${context ? `${context}: ` : ''}${e.message}`;
      const code = document.createElement('code');
      code.className = 'alert-code';
      code.textContent = e.code;
      alert.replaceChildren(message, ' ', code);
      alert.dataset.code = e.code;
      alert.hidden = false;
    },
    clear() {
      alert.hidden = true;
      alert.replaceChildren();
      delete alert.dataset.code;
    },
  };
}

/**
 * A panel's long run begins: Run disabled and Cancel enabled while it lasts, the section marked busy
 * (aria-busy, for assistive technology and the busy style) and in `state`, the last run's error and
 * results cleared. Returns the function that ends it.
 */
export function startRun(section: HTMLElement, buttons: { run: HTMLButtonElement; cancel: HTMLButtonElement }, state: string, errors: ErrorView, clearResults: () => void): () => void {
  const { run, cancel } = buttons;
  run.disabled = true;
  cancel.disabled = false;
  section.setAttribute('aria-busy', 'true');
  section.dataset.state = state;
  errors.clear();
  clearResults();
  return () => {
    run.disabled = false;
    cancel.disabled = true;
    section.removeAttribute('aria-busy');
  };
}

/** Draws 8-bit RGBA pixels on a canvas, resizing the canvas to the image. */
export function drawRgba(canvas: HTMLCanvasElement, image: RgbaImage): void {
  canvas.width = image.width;
  canvas.height = image.height;
  canvas.getContext('2d')!.putImageData(new ImageData(new Uint8ClampedArray(image.data), image.width, image.height), 0, 0);
}

/** 8-bit RGBA pixels as a lossless PNG: what an attacker would upload (a check that re-reads it sees the rounding too). */
export async function rgbaPng(image: RgbaImage): Promise<Blob> {
  const canvas = new OffscreenCanvas(image.width, image.height);
  canvas.getContext('2d')!.putImageData(new ImageData(new Uint8ClampedArray(image.data), image.width, image.height), 0, 0);
  return canvas.convertToBlob({ type: 'image/png' });
}

/** Hands a blob to the browser as a download named `fileName`. */
export function downloadBlob(blob: Blob, fileName: string): void {
  const url = URL.createObjectURL(blob);
  const link = document.createElement('a');
  link.href = url;
  link.download = fileName;
  link.click();
  // Chromium reads a blob URL's download asynchronously: revoking at once can fail it, so a while later.
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}

/** How a panel's run ended with an error: "cancelled" is quiet, anything else is shown. */
export function showRunFailure(err: unknown, section: HTMLElement, status: HTMLElement, errors: ErrorView): void {
  const e = toRclipError(err);
  const cancelled = e.code === 'CANCELLED';
  status.textContent = cancelled ? 'Cancelled.' : '';
  section.dataset.state = cancelled ? 'cancelled' : 'error';
  if (!cancelled) errors.show(e);
}

/**
 * Decodes an image on the page (the blocklist's pHash needs its pixels there), with the worker's
 * checks and wording: the format from the magic bytes first, so a text file renamed .jpg is named as
 * such, and a header the decoder then rejects is reported as corrupt or truncated, by file name.
 */
export async function decodeOnPage(blob: Blob, fileName: string, maxSide = 512): Promise<RgbaImage> {
  const name = `"${fileName}"`;
  const header = sniffImage(new Uint8Array(await blob.arrayBuffer()), name);
  let bitmap: ImageBitmap;
  try {
    bitmap = await createImageBitmap(blob, { imageOrientation: 'from-image' });
  } catch (err) {
    throw corruptImageError(name, header.format, err);
  }
  const scale = Math.min(1, maxSide / Math.max(bitmap.width, bitmap.height));
  const width = Math.max(1, Math.round(bitmap.width * scale));
  const height = Math.max(1, Math.round(bitmap.height * scale));
  const canvas = new OffscreenCanvas(width, height);
  const g = canvas.getContext('2d')!;
  g.drawImage(bitmap, 0, 0, width, height);
  bitmap.close();
  return { width, height, data: g.getImageData(0, 0, width, height).data };
}

/** A bundled sample's bytes (public/samples/). */
export async function fetchSample(file: string, signal?: AbortSignal): Promise<Blob> {
  const res = await fetch(new URL(`samples/${file}`, location.href), { signal });
  if (!res.ok) throw new RclipError('IMAGE_FETCH_FAILED', `The sample "${file}" could not be loaded (HTTP ${res.status}).`);
  return res.blob();
}

/** The photos the page offers as samples (public/samples/CREDITS.md): a near-duplicate pair and two others. */
export const SAMPLE_PHOTOS = [
  { file: 'cat.jpg', label: 'Cat' },
  { file: 'cat-cropped.jpg', label: 'Cat, cropped' },
  { file: 'coffee.jpg', label: 'Coffee' },
  { file: 'rocket.jpg', label: 'Rocket' },
] as const;

/** A sample button showing the photo itself (decorative thumbnail; the label is the button's name). */
export function sampleButton(sample: { file: string; label: string }, onClick: () => void): HTMLButtonElement {
  const button = document.createElement('button');
  button.type = 'button';
  button.className = 'sample';
  button.dataset.sample = sample.file;
  const img = document.createElement('img');
  img.src = new URL(`samples/${sample.file}`, location.href).href;
  img.alt = '';
  img.width = 48;
  img.height = 32;
  const label = document.createElement('span');
  label.textContent = sample.label;
  button.append(img, label);
  button.addEventListener('click', onClick);
  return button;
}
