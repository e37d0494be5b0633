/**
 * <rclip-distance> from the library build (dist/rclip-element.js) on the plain example page.
 */
import { expect, test } from '@playwright/test';
import path from 'node:path';
import { createNodeEngine } from '../src/engine/node';

const samples = path.resolve(import.meta.dirname, '../public/samples');

test.beforeEach(({}, testInfo) => test.skip(testInfo.project.name !== 'wasm', 'the element does not depend on the EP'));

test.beforeEach(async ({ page }) => {
  await page.addInitScript(() => {
    const w = window as unknown as { events: Array<{ type: string; id: string; detail: unknown }> };
    w.events = [];
    for (const type of ['rclip-distance', 'rclip-error', 'rclip-progress']) {
      document.addEventListener(type, (e) => w.events.push({ type, id: (e.target as HTMLElement).id, detail: (e as CustomEvent).detail }));
    }
  });
});

const events = (page: import('@playwright/test').Page, type: string, id?: string) =>
  page.evaluate(([t, i]) => (window as any).events.filter((e: any) => e.type === t && (!i || e.id === i)), [type, id] as const);

test('two elements show the same distances as the engine in Node, with the documented event detail, from one worker', async ({ page }) => {
  const ourWorkers: string[] = [];
  page.on('worker', async (w) => {
    const name = await w.evaluate(() => self.name).catch(() => '');
    if (!name.startsWith('em-pthread')) ourWorkers.push(w.url());
  });
  const engine = createNodeEngine();
  const index = await engine.index();
  await engine.loadModel(index.default);
  await engine.loadModel(index.baseline);
  const near = await engine.distance(path.join(samples, 'sunset.jpg'), path.join(samples, 'sunset-shifted.jpg'), index.default);
  const nearBase = await engine.distance(path.join(samples, 'sunset.jpg'), path.join(samples, 'sunset-shifted.jpg'), index.baseline);
  const far = await engine.distance(path.join(samples, 'sunset.jpg'), path.join(samples, 'meadow.jpg'), index.default);

  await page.goto('/examples/embed.html');
  await expect.poll(async () => (await events(page, 'rclip-distance')).length, { timeout: 90_000 }).toBe(2);
  const [nearEvent] = await events(page, 'rclip-distance', 'near');
  const [farEvent] = await events(page, 'rclip-distance', 'far');
  expect(Math.abs(nearEvent.detail.distance - near.distance)).toBeLessThan(1e-3);
  expect(Math.abs(farEvent.detail.distance - far.distance)).toBeLessThan(1e-3);
  expect(Math.abs(nearEvent.detail.baseline.distance - nearBase.distance)).toBeLessThan(1e-3);
  expect(nearEvent.detail).toMatchObject({ model: index.default, ep: 'wasm', similarity: expect.any(Number), timings: { totalMs: expect.any(Number) } });
  expect(farEvent.detail.baseline).toBeNull();
  expect(await page.locator('#far').evaluate((el: any) => el.distance)).toBeCloseTo(farEvent.detail.distance, 10);
  expect((await events(page, 'rclip-progress')).length).toBeGreaterThan(0);
  await expect(page.locator('#log')).toContainText('near: distance');
  expect(ourWorkers, 'one shared worker for both elements').toHaveLength(1);
});

test('a bad URL fires rclip-error with a code, and the other instance keeps working', async ({ page }) => {
  await page.goto('/examples/embed.html');
  await expect.poll(async () => (await events(page, 'rclip-distance')).length, { timeout: 90_000 }).toBe(2);
  await page.locator('#near').evaluate((el) => el.setAttribute('a', '../samples/no-such-image.jpg'));
  await expect.poll(async () => (await events(page, 'rclip-error', 'near')).length, { timeout: 30_000 }).toBe(1);
  const [err] = await events(page, 'rclip-error', 'near');
  expect(err.detail).toEqual({ code: 'IMAGE_FETCH_FAILED', message: expect.stringContaining('was not found') });
  expect(await page.locator('#near').evaluate((el: any) => el.distance)).toBeNull();
  await page.locator('#far').evaluate((el: any) => (el.b = '../samples/sunset-shifted.jpg'));
  await expect.poll(async () => (await events(page, 'rclip-distance', 'far')).length, { timeout: 30_000 }).toBe(2);
});
