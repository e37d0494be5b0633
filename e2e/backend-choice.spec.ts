/**
 * Execution-provider choice on a software WebGPU adapter. The webgpu project's Chromium has exactly
 * that (SwiftShader, isFallbackAdapter), so 'auto' must pick wasm and say why, in the page's badge,
 * in createMetric's backend() and in the element's; an explicit 'webgpu' still runs on WebGPU
 * (the forced path is also what demo.spec.ts and attack.spec.ts measure against Node there).
 */
import { expect, test, type Page } from '@playwright/test';
import path from 'node:path';

const samples = path.resolve(import.meta.dirname, '../public/samples');

test.beforeEach(({}, testInfo) => test.skip(testInfo.project.name !== 'webgpu', 'needs the --enable-unsafe-webgpu project (a software adapter)'));

/** Opens the demo with `query` and returns its badge, createMetric's backend() and each model's EP. */
async function openDemo(page: Page, query: string) {
  await page.goto(`/${query}`);
  await expect(page.locator('body')).toHaveAttribute('data-ready', 'true', { timeout: 120_000 });
  const choice = await page.evaluate(() => (window as any).__rclip.metric.backend());
  const models = await page.evaluate(() => {
    const m = (window as any).__rclip.models;
    return [m.robust.ep, m.baseline.ep];
  });
  return { badge: page.locator('#ep-badge'), choice, models };
}

test('the demo on a software adapter runs on wasm and says why; createMetric reports the adapter it declined', async ({ page }) => {
  const { badge, choice, models } = await openDemo(page, '');
  await expect(badge).toHaveAttribute('data-ep', 'wasm');
  await expect(badge).toContainText('is a software fallback, no usable GPU');
  await expect(badge).toContainText('?backend=webgpu');
  expect(choice).toMatchObject({ ep: 'wasm', adapter: { isFallbackAdapter: true }, reason: expect.stringContaining('software fallback') });
  expect(models).toEqual(['wasm', 'wasm']);
  // And it works on wasm.
  await page.setInputFiles('#file-a', path.join(samples, 'sunset.jpg'));
  await page.setInputFiles('#file-b', path.join(samples, 'meadow.jpg'));
  await expect(page.locator('body')).toHaveAttribute('data-state', 'done', { timeout: 90_000 });
  await expect(page.locator('#alert')).toBeHidden();
});

test('?backend=webgpu forces WebGPU on the software adapter', async ({ page }) => {
  const { badge, choice, models } = await openDemo(page, '?backend=webgpu');
  await expect(badge).toHaveAttribute('data-ep', 'webgpu');
  await expect(badge).toContainText('software fallback adapter, requested explicitly');
  expect(choice).toMatchObject({ ep: 'webgpu', adapter: { isFallbackAdapter: true } });
  expect(models).toEqual(['webgpu', 'webgpu']);
});

test('<rclip-distance> on a software adapter computes on wasm and exposes the reason', async ({ page }) => {
  await page.goto('/examples/embed.html');
  const near = page.locator('#near');
  await expect(near.locator('[part=value]')).toHaveText(/^\d\.\d{4}$/, { timeout: 90_000 });
  await expect(near.locator('[part=status]')).toContainText('wasm');
  await expect(near.locator('[part=status]')).toHaveAttribute('title', /software fallback/);
  const choice = await near.evaluate((el: any) => el.backend());
  expect(choice).toMatchObject({ ep: 'wasm', adapter: { isFallbackAdapter: true } });
});
