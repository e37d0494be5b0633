/**
 * The attack panel in real Chromium: PGD-10 and APGD (L∞, 4/255, push apart) on a bundled image,
 * checked against the same seeded attack run in Node by the same core code.
 */
import { expect, test, type Page } from '@playwright/test';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { attackSettings, PAPER_DEFAULTS, type AttackSettings } from '../src/core/attack';
import * as ortWeb from 'onnxruntime-web';
import type { RgbaImage } from '../src/core/preprocess';
import { DiskModelSource } from '../src/engine/disk-source';
import { Engine } from '../src/engine/engine';
import { createNodeEngine, decodeImageFile } from '../src/engine/node';
import { saveScreenshot } from './artifacts';

const root = path.resolve(import.meta.dirname, '..');
const sunset = path.join(root, 'public/samples/sunset.jpg');

async function nodeAttack(settings: AttackSettings) {
  const engine = createNodeEngine();
  const index = await engine.index();
  await engine.loadModel(index.default);
  await engine.loadModel(index.baseline);
  const image = await decodeImageFile(sunset);
  const run = (model: string, other: string) => engine.attackDecoded(image, null, { model, otherModel: other, objective: 'push-apart', settings });
  return { robust: await run(index.default, index.baseline), baseline: await run(index.baseline, index.default) };
}

async function openWithImage(page: Page, query = '') {
  await page.goto(`/${query}`);
  await expect(page.locator('body')).toHaveAttribute('data-ready', 'true', { timeout: 90_000 });
  await page.setInputFiles('#file-a', sunset);
}

/** The Node references attack the model-size input (the panel's default is full size). */
const modelSize = (page: Page) => page.locator('#attack-panel select[name="size"]').selectOption('model');

const after = async (page: Page, side: 'robust' | 'baseline') =>
  Number(await page.locator(`#attack-panel figure[data-side="${side}"] .final`).getAttribute('data-after'));

test('PGD-10 L∞ 4/255 push-apart: the baseline moves far more than the robust model, as in Node', async ({ page }, testInfo) => {
  test.skip(testInfo.project.name !== 'wasm', 'SwiftShader WebGPU is too slow for 2×11 attack steps; see the short WebGPU check below');
  const expected = await nodeAttack(PAPER_DEFAULTS);
  await openWithImage(page);
  await modelSize(page);
  await page.locator('#attack-panel .run').click();
  await expect(page.locator('#attack-panel')).toHaveAttribute('data-state', 'done', { timeout: 90_000 });
  const robust = await after(page, 'robust');
  const baseline = await after(page, 'baseline');
  // 10 sign steps on a ReLU6 network amplify the tiny float differences between wasm and
  // onnxruntime-node kernels (measured 2.5e-3 on a distance of 1.12): 1e-2 here, 1e-3 for plain distances.
  expect(Math.abs(robust - expected.robust.attacked.after), `robust ${robust} vs Node ${expected.robust.attacked.after}`).toBeLessThan(1e-2);
  expect(Math.abs(baseline - expected.baseline.attacked.after), `baseline ${baseline} vs Node ${expected.baseline.attacked.after}`).toBeLessThan(1e-2);
  // Push-apart starts at distance 0, so "after" is how far each model's distance moved.
  expect(baseline, 'baseline should move far more than the robust model').toBeGreaterThan(2 * robust);
  await expect(page.locator('#attack-panel .attack-verdict')).toContainText('less for the robust model');
  await saveScreenshot(testInfo, 'attack-panel.png', page.locator('#attack-panel'));
});

/** The same attack in Node on onnxruntime-web's wasm (the page's runtime and kernels), for a comparison that isolates the code. */
async function nodeWasmAttack(settings: AttackSettings) {
  ortWeb.env.wasm.numThreads = 1;
  const engine = new Engine<RgbaImage>({
    ort: ortWeb,
    source: new DiskModelSource(path.join(root, 'public/models')),
    chooseBackend: async () => ({ ep: 'wasm', reason: 'e2e reference', adapter: null, threads: 1 }),
    decode: async (image) => image,
  });
  const index = await engine.index();
  await engine.loadModel(index.baseline);
  return engine.attackDecoded(await decodeImageFile(sunset), null, { model: index.baseline, objective: 'push-apart', settings });
}

test('APGD-10 L∞ 4/255 push-apart: the page equals Node, every iterate charted', async ({ page }, testInfo) => {
  test.skip(testInfo.project.name !== 'wasm', 'SwiftShader WebGPU is too slow for 2×11 attack steps');
  const steps = 10;
  const settings = attackSettings('apgd', 'linf', 4 / 255, steps, 0);
  const expected = await nodeAttack(settings);
  const sameKernels = await nodeWasmAttack(settings);
  await openWithImage(page);
  await modelSize(page);
  await page.locator('#attack-panel select[name="method"]').selectOption('apgd');
  await expect(page.locator('#attack-panel input[name="steps"]')).toHaveValue('100');
  await expect(page.locator('#attack-panel .step-size')).toBeHidden();
  await page.locator('#attack-panel input[name="steps"]').fill(String(steps));
  await page.locator('#attack-panel .run').click();
  await expect(page.locator('#attack-panel')).toHaveAttribute('data-state', 'done', { timeout: 110_000 });
  await expect(page.locator('#attack-panel .attack-status')).toContainText(`APGD-${steps}`);
  const robust = await after(page, 'robust');
  const baseline = await after(page, 'baseline');
  console.info(`APGD-${steps} page vs Node: robust ${robust} vs ${expected.robust.attacked.after}; baseline ${baseline} vs ${expected.baseline.attacked.after} (onnxruntime-node), ${sameKernels.attacked.after} (onnxruntime-web wasm)`);
  // The shipped default against onnxruntime-node: measured 2e-6 apart.
  expect(Math.abs(robust - expected.robust.attacked.after), `robust ${robust} vs Node ${expected.robust.attacked.after}`).toBeLessThan(1e-3);
  // On the baseline, sign steps amplify the last-bit differences between onnxruntime-node's and wasm's
  // kernels chaotically (measured 4e-2 apart after APGD-10, 1e-2 mid-run for PGD-10), so it is held
  // to Node running the page's own runtime: the same code on the same kernels.
  expect(Math.abs(baseline - sameKernels.attacked.after), `baseline ${baseline} vs Node wasm ${sameKernels.attacked.after}`).toBeLessThan(1e-4);
  // One chart point per iterate and model: the start and the iterations.
  for (const polyline of await page.locator('#attack-panel .attack-chart polyline').all()) expect((await polyline.getAttribute('points'))!.trim().split(' ')).toHaveLength(steps + 1);
});

test('full size (the default): PGD-1 copies are image A\'s size, within ε of it, and Download saves them as PNGs of that size', async ({ page }, testInfo) => {
  test.skip(testInfo.project.name !== 'wasm', 'the copy size does not depend on the EP');
  test.setTimeout(240_000);
  const clean = await decodeImageFile(sunset);
  await openWithImage(page);
  await expect(page.locator('#attack-panel select[name="size"]')).toHaveValue('full');
  // One step: this test is about the copy's size and download; a full-size step costs several model-size ones.
  await page.locator('#attack-panel input[name="steps"]').fill('1');
  await page.locator('#attack-panel .run').click();
  await expect(page.locator('#attack-panel')).toHaveAttribute('data-state', 'done', { timeout: 200_000 });
  // The L∞ gain of each encoder's resize and crop, as the outcome carries it.
  await expect(page.locator('#attack-panel .size-note')).toContainText(`ε bounds the full-size image (${clean.width}×${clean.height}); the model's input moves by at most g·ε, g = `);
  for (const side of ['robust', 'baseline'] as const) {
    const figure = page.locator(`#attack-panel figure[data-side="${side}"]`);
    const adv = figure.locator('canvas.adv');
    await expect(adv).toHaveAttribute('data-size', 'full');
    expect([Number(await adv.getAttribute('width')), Number(await adv.getAttribute('height'))]).toEqual([clean.width, clean.height]);
    const [download] = await Promise.all([page.waitForEvent('download'), figure.locator('.download').click()]);
    expect(download.suggestedFilename()).toBe(`adversarial-a-${side}-${clean.width}x${clean.height}.png`);
    const file = await download.path();
    expect(readFileSync(file).subarray(0, 8)).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
    const saved = await decodeImageFile(file);
    expect([saved.width, saved.height]).toEqual([clean.width, clean.height]);
    // Within ε = 4/255 of image A, and moved: the attack's copy, not the original.
    let maxDiff = 0;
    for (let i = 0; i < saved.data.length; i++) if (i % 4 !== 3) maxDiff = Math.max(maxDiff, Math.abs(saved.data[i] - clean.data[i]));
    console.info(`${side}: the downloaded full-size copy is at most ${maxDiff}/255 from sunset.jpg as sharp decodes it`);
    expect(maxDiff).toBeGreaterThan(0);
    // 4/255 plus one level: Chromium's and sharp's JPEG decoders may round a pixel differently.
    expect(maxDiff).toBeLessThanOrEqual(5);
  }
});

test('cancelling mid-run stops the attack and leaves the page usable', async ({ page }, testInfo) => {
  test.skip(testInfo.project.name !== 'wasm', 'cancellation does not depend on the EP');
  await openWithImage(page);
  await page.locator('#attack-panel input[name="steps"]').fill('200');
  await page.locator('#attack-panel .run').click();
  await expect(page.locator('#attack-panel .attack-status')).toContainText(/robust [1-9]\d*\/200/, { timeout: 60_000 });
  await page.locator('#attack-panel .cancel').click();
  await expect(page.locator('#attack-panel')).toHaveAttribute('data-state', 'cancelled');
  await expect(page.locator('#attack-panel .attack-status')).toHaveText('Cancelled.');
  await expect(page.locator('#attack-panel .run')).toBeEnabled();
  // The queue is free again: a comparison and a short attack both finish.
  await page.setInputFiles('#file-b', path.join(root, 'public/samples/meadow.jpg'));
  await expect(page.locator('body')).toHaveAttribute('data-state', 'done', { timeout: 60_000 });
  await page.locator('#attack-panel input[name="steps"]').fill('2');
  await page.locator('#attack-panel .run').click();
  await expect(page.locator('#attack-panel')).toHaveAttribute('data-state', 'done', { timeout: 60_000 });
});

test('a worker that dies mid-attack is reported, nothing stays stuck, and the next attack runs', async ({ page }, testInfo) => {
  test.skip(testInfo.project.name !== 'wasm', 'crash recovery does not depend on the EP');
  await openWithImage(page);
  await page.locator('#attack-panel input[name="steps"]').fill('200');
  await page.locator('#attack-panel .run').click();
  await expect(page.locator('#attack-panel .attack-status')).toContainText(/robust [1-9]\d*\/200/, { timeout: 60_000 });
  await page.evaluate(() => (window as any).__rclip.simulateCrash());
  await expect(page.locator('#alert')).toHaveAttribute('data-code', 'WORKER_CRASHED');
  await expect(page.locator('#attack-panel')).toHaveAttribute('data-state', 'error');
  await expect(page.locator('#attack-panel .run')).toBeEnabled();
  await expect(page.locator('#attack-panel .cancel')).toBeDisabled();
  await page.locator('#attack-panel input[name="steps"]').fill('2');
  await page.locator('#attack-panel .run').click();
  await expect(page.locator('#attack-panel')).toHaveAttribute('data-state', 'done', { timeout: 90_000 });
  expect(await after(page, 'baseline')).toBeGreaterThan(0);
});

test('bad settings get a clear message', async ({ page }, testInfo) => {
  test.skip(testInfo.project.name !== 'wasm', 'validation does not depend on the EP');
  await openWithImage(page);
  await page.locator('#attack-panel select[name="norm"]').selectOption('l2');
  await page.locator('#attack-panel input[name="epsL2"]').evaluate((el: HTMLInputElement) => (el.value = '-1'));
  await page.locator('#attack-panel form').evaluate((f: HTMLFormElement) => f.requestSubmit());
  // Each panel shows its own errors (the top alert is the compare area's).
  await expect(page.locator('#attack-panel .panel-alert')).toHaveAttribute('data-code', 'INVALID_ARGUMENT');
  await expect(page.locator('#attack-panel .panel-alert')).toContainText('eps must be a positive number');
  await expect(page.locator('#attack-panel .run')).toBeEnabled();
});

test('a short attack on WebGPU gives the Node numbers', async ({ page }, testInfo) => {
  test.skip(testInfo.project.name !== 'webgpu', 'the WebGPU project');
  // Here WebGPU is SwiftShader (software): the baseline's 160 px steps run far slower than on wasm, and a quiet
  // machine's 2 steps of both models outran 110 s in a full run (1.8 min alone, the Node reference included).
  test.setTimeout(330_000);
  const settings = { ...PAPER_DEFAULTS, steps: 2 };
  const expected = await nodeAttack(settings);
  // SwiftShader is a software adapter, which 'auto' declines: force WebGPU.
  await openWithImage(page, '?backend=webgpu');
  await expect(page.locator('#ep-badge')).toHaveAttribute('data-ep', 'webgpu');
  // Model size: the copy Node's reference attacks, and the one the WebGPU device steps (attack_step.onnx) run on.
  await modelSize(page);
  await page.locator('#attack-panel input[name="steps"]').fill('2');
  await page.locator('#attack-panel .run').click();
  await expect(page.locator('#attack-panel')).toHaveAttribute('data-state', 'done', { timeout: 300_000 });
  expect(Math.abs((await after(page, 'robust')) - expected.robust.attacked.after)).toBeLessThan(1e-3);
  expect(Math.abs((await after(page, 'baseline')) - expected.baseline.attacked.after)).toBeLessThan(1e-3);
});
