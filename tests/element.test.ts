// @vitest-environment happy-dom
/**
 * DOM wiring of <rclip-distance>: reflection, events, error shape, release on removal. The model is
 * not under test here (e2e/element.spec.ts runs the real one), so the shared Metric is a stub.
 */
import { afterEach, beforeEach, describe, expect, expectTypeOf, it, vi } from 'vitest';
import { RclipError } from '../src/core/errors';

const calls: Array<{ a: unknown; b: unknown; model?: string }> = [];
let failWith: RclipError | null = null;
const released: string[] = [];

const TIMINGS = { decodeMs: 1, preprocessMs: 1, inferenceMs: 1, totalMs: 3 };
const stubDistance = (model?: string) => ({ distance: model === 'base' ? 0.5 : 0.25, similarity: model === 'base' ? 0.5 : 0.75, model, ep: 'wasm', timings: TIMINGS });
/** Requests to the metric: the element asks for all its models in one compare() (one decode per image). */
const requests: Array<{ method: string; models: Array<string | undefined> }> = [];

vi.mock('../src/element/metric-registry', () => ({
  acquireMetric: () => ({
    backend: async () => ({ ep: 'wasm', reason: 'The only WebGPU adapter is a software fallback (stub).', adapter: null, threads: 1 }),
    loadModel: async (id?: string) => ({ id: id ?? 'robust-default' }),
    distance: async (a: unknown, b: unknown, opts: { model?: string }) => {
      requests.push({ method: 'distance', models: [opts.model] });
      calls.push({ a, b, model: opts.model });
      if (failWith) throw failWith;
      return stubDistance(opts.model);
    },
    compare: async (a: unknown, b: unknown, opts: { models: string[] }) => {
      requests.push({ method: 'compare', models: opts.models });
      for (const model of opts.models) calls.push({ a, b, model });
      if (failWith) throw failWith;
      return { results: opts.models.map(stubDistance), timings: TIMINGS };
    },
  }),
  releaseMetric: (base: string) => released.push(base),
}));

const { RclipDistanceElement } = await import('../src/element/index');

function nextEvent(type: string): Promise<CustomEvent> {
  return new Promise((resolve) => document.addEventListener(type, (e) => resolve(e as CustomEvent), { once: true }));
}

describe('<rclip-distance>', () => {
  let el: InstanceType<typeof RclipDistanceElement>;

  beforeEach(() => {
    calls.length = 0;
    requests.length = 0;
    released.length = 0;
    failWith = null;
    el = document.createElement('rclip-distance') as InstanceType<typeof RclipDistanceElement>;
  });
  afterEach(() => el.remove());

  it('its events are typed on every element and the document (GlobalEventHandlersEventMap)', async () => {
    // Compile-time checks (npm run typecheck): no casts needed to read the details.
    document.addEventListener('rclip-error', (e) => expectTypeOf(e.detail.code).toEqualTypeOf<import('../src/core/errors').ErrorCode>());
    el.addEventListener('rclip-progress', (e) => expectTypeOf(e.detail.overall.total).toEqualTypeOf<number>());
    const got = new Promise<number>((resolve) => el.addEventListener('rclip-distance', (e) => resolve(e.detail.distance), { once: true }));
    el.a = 'x.png';
    el.b = 'y.png';
    document.body.append(el);
    expect(await got).toBe(0.25);
    // The status line carries why this EP runs (the metric's backend reason) as its tooltip.
    expect(el.shadowRoot!.querySelector('[part=status]')!.getAttribute('title')).toContain('software fallback (stub)');
  });

  it('is defined and reflects string properties to attributes', () => {
    expect(customElements.get('rclip-distance')).toBe(RclipDistanceElement);
    el.model = 'm1';
    el.baseline = 'base';
    el.modelsBase = '/somewhere/';
    el.a = 'x.png';
    expect(el.getAttribute('model')).toBe('m1');
    expect(el.getAttribute('baseline')).toBe('base');
    expect(el.getAttribute('models-base')).toBe('/somewhere/');
    expect(el.getAttribute('a')).toBe('x.png');
    el.setAttribute('b', 'y.png');
    expect(el.b).toBe('y.png');
    el.model = null;
    expect(el.hasAttribute('model')).toBe(false);
    expect(el.modelsBase).toBe('/somewhere/');
  });

  it('takes Blobs as properties without touching the attribute', () => {
    const blob = new Blob([new Uint8Array([1, 2, 3])]);
    el.a = blob;
    expect(el.a).toBe(blob);
    expect(el.hasAttribute('a')).toBe(false);
  });

  it('has a read-only distance, null before a result', () => {
    expect(el.distance).toBeNull();
    expect(() => ((el as unknown as { distance: number }).distance = 1)).toThrow(TypeError);
  });

  it('fires rclip-distance with the documented detail, bubbling out of the shadow root', async () => {
    el.setAttribute('a', 'a.png');
    el.setAttribute('b', 'b.png');
    const event = nextEvent('rclip-distance');
    document.body.append(el);
    const e = await event;
    expect(e.bubbles && e.composed).toBe(true);
    expect(e.detail).toEqual({ distance: 0.25, similarity: 0.75, model: 'robust-default', ep: 'wasm', timings: { decodeMs: 1, preprocessMs: 1, inferenceMs: 1, totalMs: 3 }, baseline: null });
    expect(el.distance).toBe(0.25);
    expect(el.shadowRoot!.querySelector('[part=value]')!.textContent).toBe('0.2500');
    expect(calls[0].a).toEqual({ url: new URL('a.png', document.baseURI).href, name: 'a.png' });
  });

  it('adds the baseline when asked, and recomputes once per batch of changes', async () => {
    el.setAttribute('a', 'a.png');
    el.setAttribute('b', 'b.png');
    el.setAttribute('baseline', 'base');
    const event = nextEvent('rclip-distance');
    document.body.append(el);
    expect((await event).detail.baseline).toEqual({ distance: 0.5, similarity: 0.5, model: 'base' });
    calls.length = 0;
    const again = nextEvent('rclip-distance');
    el.setAttribute('a', 'c.png');
    el.setAttribute('b', 'd.png');
    await again;
    expect(calls.map((c) => c.model)).toEqual(['robust-default', 'base']);
    expect(requests.slice(-1)).toEqual([{ method: 'compare', models: ['robust-default', 'base'] }]);
  });

  it('fires rclip-error with code and message, and clears the distance', async () => {
    failWith = new RclipError('IMAGE_DECODE_FAILED', 'corrupt');
    el.setAttribute('a', 'a.png');
    el.setAttribute('b', 'b.png');
    const event = nextEvent('rclip-error');
    document.body.append(el);
    const e = await event;
    expect(e.detail).toEqual({ code: 'IMAGE_DECODE_FAILED', message: 'corrupt' });
    expect(el.distance).toBeNull();
  });

  it('releases the shared metric when removed', () => {
    document.body.append(el);
    el.remove();
    expect(released).toEqual(['models/']);
  });
});
