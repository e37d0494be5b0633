/** DOM pieces the demo's drop zones and long-running panels share. */
import { toRclipError } from '../core/errors';

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

/** How a panel's run ended with an error: "cancelled" is quiet, anything else is shown. */
export function showRunFailure(err: unknown, section: HTMLElement, status: HTMLElement, showError: (err: unknown) => void): void {
  const e = toRclipError(err);
  const cancelled = e.code === 'CANCELLED';
  status.textContent = cancelled ? 'Cancelled.' : '';
  section.dataset.state = cancelled ? 'cancelled' : 'error';
  if (!cancelled) showError(e);
}
