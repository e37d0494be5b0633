/**
 * The demo page in real Chromium, real models, real images. Expected distances are computed in Node
 * (onnxruntime-node + sharp) by the same core code, so the browser path is checked end to end.
 */
import { expect, test, type Page } from '@playwright/test';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { createNodeEngine } from '../src/engine/node';
import { saveScreenshot } from './artifacts';

const root = path.resolve(import.meta.dirname, '..');
const samples = path.join(root, 'public/samples');
const shared = path.resolve(root, '../shared/data');
const index = JSON.parse(readFileSync(path.join(root, 'public/models/index.json'), 'utf8'));

async function nodeDistances(a: string, b: string) {
  const engine = createNodeEngine();
  await engine.loadModel(index.default);
  await engine.loadModel(index.baseline);
  return {
    robust: (await engine.distance(a, b, index.default)).distance,
    baseline: (await engine.distance(a, b, index.baseline)).distance,
  };
}

async function openReady(page: Page, query = '') {
  await page.goto(`/${query}`);
  await expect(page.locator('body')).toHaveAttribute('data-ready', 'true', { timeout: 90_000 });
}

async function compareFiles(page: Page, a: string | { name: string; mimeType: string; buffer: Buffer }, b: string | { name: string; mimeType: string; buffer: Buffer }) {
  await page.setInputFiles('#file-a', a);
  await page.setInputFiles('#file-b', b);
  await expect(page.locator('body')).toHaveAttribute('data-state', /done|error/, { timeout: 90_000 });
}

const shownDistance = async (page: Page, which: 'robust' | 'baseline') => Number(await page.locator(`#${which}-distance`).getAttribute('data-value'));

const pairs: Array<[string, string, string]> = [['samples (JPEG)', path.join(samples, 'sunset.jpg'), path.join(samples, 'meadow.jpg')]];
if (existsSync(path.join(shared, '2afc-examples'))) {
  pairs.push(['BAPPS triplet (PNG)', path.join(shared, '2afc-examples/bapps/ex_ref.png'), path.join(shared, '2afc-examples/bapps/ex_p0.png')]);
}

test.describe('comparison', () => {
  for (const [label, a, b] of pairs) {
    test(`distances equal Node's for ${label}, on the project's EP`, async ({ page }, testInfo) => {
      const expected = await nodeDistances(a, b);
      // The webgpu project's only adapter is SwiftShader, which 'auto' declines (backend-choice.spec.ts),
      // so this forces WebGPU. The engine also checks WebGPU against wasm on a probe image per model and
      // would fall back (saying why); the shipped graphs pass that check, so WebGPU must run.
      await openReady(page, testInfo.project.name === 'webgpu' ? '?backend=webgpu' : '');
      await expect(page.locator('#ep-badge')).toHaveAttribute('data-ep', testInfo.project.name);
      await expect(page.locator('#ep-badge')).not.toContainText(/runs on wasm|using wasm/);
      await compareFiles(page, a, b);
      await expect(page.locator('#alert')).toBeHidden();
      const robust = await shownDistance(page, 'robust');
      const baseline = await shownDistance(page, 'baseline');
      expect(Math.abs(robust - expected.robust), `robust ${robust} vs Node ${expected.robust}`).toBeLessThan(1e-3);
      expect(Math.abs(baseline - expected.baseline), `baseline ${baseline} vs Node ${expected.baseline}`).toBeLessThan(1e-3);
      await expect(page.locator('#verdict')).toContainText('robust model');
      await saveScreenshot(testInfo, `page-after-comparison-${testInfo.project.name}.png`, page, true);
    });
  }

  test('sample buttons and the phone-sized layout work', async ({ page }, testInfo) => {
    test.skip(testInfo.project.name !== 'wasm', 'layout does not depend on the EP');
    await page.setViewportSize({ width: 390, height: 844 });
    await openReady(page);
    await page.locator('#zone-a button[data-sample="cat.jpg"]').click();
    await page.locator('#zone-b button[data-sample="cat-cropped.jpg"]').click();
    await expect(page.locator('body')).toHaveAttribute('data-state', 'done', { timeout: 90_000 });
    const expected = await nodeDistances(path.join(samples, 'cat.jpg'), path.join(samples, 'cat-cropped.jpg'));
    expect(Math.abs((await shownDistance(page, 'robust')) - expected.robust)).toBeLessThan(1e-3);
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    expect(overflow, 'horizontal overflow at 390 px').toBeLessThanOrEqual(0);
    await saveScreenshot(testInfo, 'phone.png', page, true);
  });
});

test.describe('bad input leaves the page working', () => {
  test.beforeEach(({}, testInfo) => test.skip(testInfo.project.name !== 'wasm', 'input handling does not depend on the EP; WebGPU here is slow'));

  const good = path.join(samples, 'meadow.jpg');
  const bad: Array<[string, { name: string; mimeType: string; buffer: Buffer }, string, RegExp]> = [
    ['zero-byte file', { name: 'empty.jpg', mimeType: 'image/jpeg', buffer: Buffer.alloc(0) }, 'IMAGE_EMPTY', /empty \(0 bytes\)/],
    ['corrupt JPEG', { name: 'corrupt.jpg', mimeType: 'image/jpeg', buffer: Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), Buffer.alloc(2000, 0x5a)]) }, 'IMAGE_DECODE_FAILED', /could not be decoded: it is corrupt or truncated/],
    ['non-image file', { name: 'notes.txt', mimeType: 'text/plain', buffer: Buffer.from('these are my notes, not a picture') }, 'IMAGE_UNSUPPORTED_FORMAT', /not a recognised image/],
    ['SVG', { name: 'logo.svg', mimeType: 'image/svg+xml', buffer: Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"/>') }, 'IMAGE_UNSUPPORTED_FORMAT', /SVG \(vector\) image/],
    ['PDF', { name: 'paper.pdf', mimeType: 'application/pdf', buffer: Buffer.from('%PDF-1.7\n1 0 obj\n') }, 'IMAGE_UNSUPPORTED_FORMAT', /PDF document/],
    ['20000×20000 PNG', { name: 'huge.png', mimeType: 'image/png', buffer: hugePngHeader() }, 'IMAGE_TOO_LARGE', /20000×20000 pixels/],
  ];

  test('each bad file gets its specific message, then a good pair works', async ({ page }) => {
    await openReady(page);
    for (const [label, file, code, message] of bad) {
      await compareFiles(page, file, good);
      await expect(page.locator('#alert'), label).toBeVisible();
      await expect(page.locator('#alert'), label).toHaveAttribute('data-code', code);
      await expect(page.locator('#alert'), label).toContainText(message);
      await compareFiles(page, path.join(samples, 'sunset.jpg'), good);
      await expect(page.locator('#alert'), `after ${label}`).toBeHidden();
      expect(await shownDistance(page, 'robust')).toBeGreaterThan(0);
    }
  });

  test('a bad image B after a good pair leaves no stale timing line or broken thumbnail', async ({ page }) => {
    await openReady(page);
    await compareFiles(page, path.join(samples, 'sunset.jpg'), good);
    await expect(page.locator('#timings')).toContainText('Both models');
    await page.setInputFiles('#file-b', { name: 'notimage.jpg', mimeType: 'image/jpeg', buffer: Buffer.from('these are my notes, not a picture') });
    await expect(page.locator('#alert')).toHaveAttribute('data-code', 'IMAGE_UNSUPPORTED_FORMAT', { timeout: 60_000 });
    await expect(page.locator('#alert')).toContainText('"notimage.jpg" is not a recognised image');
    await expect(page.locator('#timings')).toHaveText('');
    await expect(page.locator('#verdict')).toHaveText('');
    await expect(page.locator('#robust-distance')).toHaveText('—');
    await expect(page.locator('#zone-b .thumb')).toBeHidden();
  });

  test('an image link from another origin is refused with a CORS message', async ({ page }) => {
    await openReady(page);
    await page.setInputFiles('#file-b', good);
    // Another port is another origin; nothing listens there, as with a site that sends no CORS headers.
    await page.evaluate(() => {
      const dt = new DataTransfer();
      dt.setData('text/uri-list', 'http://127.0.0.1:9/elsewhere.png');
      document.querySelector('#zone-a')!.dispatchEvent(new DragEvent('drop', { dataTransfer: dt, bubbles: true, cancelable: true }));
    });
    await expect(page.locator('#alert')).toHaveAttribute('data-code', 'IMAGE_CROSS_ORIGIN');
    await expect(page.locator('#alert')).toContainText('another site');
    await compareFiles(page, path.join(samples, 'sunset.jpg'), good);
    await expect(page.locator('#alert')).toBeHidden();
  });

  test('a model whose bytes do not match its sha256 is refused', async ({ page }) => {
    await page.route(`**/models/${index.default}/encoder.onnx`, async (route) => {
      const res = await route.fetch();
      const body = await res.body();
      body[body.length >> 1] ^= 0xff;
      await route.fulfill({ response: res, body });
    });
    await page.goto('/');
    await expect(page.locator('#alert')).toHaveAttribute('data-code', 'MODEL_INTEGRITY', { timeout: 90_000 });
    await expect(page.locator('#alert')).toContainText('does not match its sha256');
    await expect(page.locator('#alert')).toContainText('it was not loaded');
  });

  test('a missing model folder says what is missing', async ({ page }) => {
    await page.goto('/?models=/no-such-folder/');
    await expect(page.locator('#alert')).toHaveAttribute('data-code', 'MODEL_NOT_FOUND', { timeout: 60_000 });
    await expect(page.locator('#alert')).toContainText(/\/no-such-folder\/index.json is missing/);
  });

  test('a crashed worker is reported and the next comparison works', async ({ page }) => {
    await openReady(page);
    await page.evaluate(() => (window as any).__rclip.simulateCrash());
    await expect(page.locator('#alert')).toHaveAttribute('data-code', 'WORKER_CRASHED');
    await compareFiles(page, path.join(samples, 'sunset.jpg'), good);
    await expect(page.locator('#alert')).toBeHidden();
    expect(await shownDistance(page, 'robust')).toBeGreaterThan(0);
  });

  test('verified model bytes come from Cache Storage after a reload', async ({ page, context }) => {
    const onnxRequests: string[] = [];
    context.on('request', (r) => {
      if (r.url().endsWith('.onnx')) onnxRequests.push(r.url());
    });
    await openReady(page);
    expect(onnxRequests.length).toBeGreaterThan(0);
    onnxRequests.length = 0;
    await openReady(page);
    expect(onnxRequests).toEqual([]);
  });
});

function hugePngHeader(): Buffer {
  const b = Buffer.alloc(64);
  Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, 0x49, 0x48, 0x44, 0x52]).copy(b);
  b.writeUInt32BE(20000, 16);
  b.writeUInt32BE(20000, 20);
  return b;
}
