/** The feature inversion panel in real Chromium: both inversions get closer to the target (a sample, then the user's image A), cancel works, screenshot. */
import { expect, test } from '@playwright/test';
import path from 'node:path';
import { saveScreenshot } from './artifacts';

const samples = path.resolve(import.meta.dirname, '../public/samples');

const panel = '#inversion-panel';

test('inversion pulls both models towards the target, is cancellable, and shows the images', async ({ page }, testInfo) => {
  test.skip(testInfo.project.name !== 'wasm', 'SwiftShader WebGPU is too slow for many steps');
  await page.goto('/');
  await expect(page.locator('body')).toHaveAttribute('data-ready', 'true', { timeout: 90_000 });
  await page.locator(`${panel} input[name="steps"]`).fill('500');
  await page.locator(`${panel} .run`).click();
  await expect(page.locator(`${panel} .inversion-status`)).toContainText(/robust [1-9]\d*\/500/, { timeout: 60_000 });
  await page.locator(`${panel} .cancel`).click();
  await expect(page.locator(panel)).toHaveAttribute('data-state', 'cancelled');
  await expect(page.locator(`${panel} .run`)).toBeEnabled();

  await page.locator(`${panel} input[name="steps"]`).fill('20');
  await page.locator(`${panel} .run`).click();
  await expect(page.locator(panel)).toHaveAttribute('data-state', 'done', { timeout: 110_000 });
  for (const side of ['robust', 'baseline']) {
    const fig = page.locator(`${panel} figure[data-side="${side}"]`);
    const first = Number(await fig.getAttribute('data-first'));
    const last = Number(await fig.getAttribute('data-last'));
    expect(last, `${side}: ${first} → ${last}`).toBeLessThan(first);
  }
  await expect(page.locator(`${panel} progress`)).toHaveJSProperty('value', 1);
  await saveScreenshot(testInfo, 'inversion-panel.png', page.locator(panel));
});

test('inversion targets the user’s own image A: refused until A is chosen, then pulled towards it', async ({ page }, testInfo) => {
  test.skip(testInfo.project.name !== 'wasm', 'SwiftShader WebGPU is too slow for many steps');
  await page.goto('/');
  await expect(page.locator('body')).toHaveAttribute('data-ready', 'true', { timeout: 90_000 });
  await page.locator(`${panel} select[name="target"]`).selectOption('image-a');
  await page.locator(`${panel} input[name="steps"]`).fill('5');
  await page.locator(`${panel} .run`).click();
  await expect(page.locator(`${panel} .inversion-status`)).toContainText('Choose image A above first');
  await page.setInputFiles('#file-a', path.join(samples, 'coffee.jpg'));
  await page.locator(`${panel} .run`).click();
  await expect(page.locator(panel)).toHaveAttribute('data-state', 'done', { timeout: 110_000 });
  await expect(page.locator(`${panel} .inversion-target`)).toHaveAttribute('src', /^blob:/);
  for (const side of ['robust', 'baseline']) {
    const fig = page.locator(`${panel} figure[data-side="${side}"]`);
    const first = Number(await fig.getAttribute('data-first'));
    const last = Number(await fig.getAttribute('data-last'));
    expect(last, `${side} towards image A: ${first} → ${last}`).toBeLessThan(first);
  }
});
