/**
 * WebGPU: an L∞ PGD step or APGD iterate through attack_step.onnx reads back at most one small tensor
 * (the distance and ‖δ‖∞); the image stays in GPU buffers between steps and comes back once at the
 * end, and no GPU buffer outlives an attack.
 * Fixture: e2e/fixtures/models (a random 16 px ConvEncoder with its step graph). Served by Vite's dev
 * server, because the page runs the engine's TypeScript on the main thread so it can count mapAsync.
 */
import { expect, test, type Page } from '@playwright/test';
import { realpathSync } from 'node:fs';
import path from 'node:path';
import { createServer, type ViteDevServer } from 'vite';
import type { AttackRun } from './fixtures/attack-step-page';

const root = path.resolve(import.meta.dirname, '..');
let server: ViteDevServer;
let base: string;

test.beforeAll(async ({}, testInfo) => {
  if (testInfo.project.name !== 'webgpu') return;
  // node_modules may be a symlink out of the checkout (a worktree): allow its real folder too.
  server = await createServer({ root, configFile: path.join(root, 'vite.config.ts'), logLevel: 'error', server: { port: 0, host: '127.0.0.1', fs: { allow: [root, realpathSync(path.join(root, 'node_modules'))] } } });
  await server.listen();
  base = server.resolvedUrls!.local[0];
});

test.afterAll(async () => {
  await server?.close();
});

// Both tests need the WebGPU project, and SwiftShader is slow.
test.beforeEach(({}, testInfo) => {
  test.skip(testInfo.project.name !== 'webgpu', 'needs the --enable-unsafe-webgpu project');
  test.setTimeout(300_000);
});

async function openStepPage(page: Page) {
  await page.goto(`${base}e2e/fixtures/attack-step.html`);
  await page.waitForFunction(() => 'rclipStep' in window, null, { timeout: 120_000 });
}

const runAttack = (page: Page, kind: 'webgpu' | 'wasm', graph: 'webgpu' | 'never', steps: number, models?: string, method: 'pgd' | 'apgd' = 'pgd', eps?: number) =>
  page.evaluate(([k, g, n, m, a, e]) => (window as unknown as { rclipStep: { attack: (...a: unknown[]) => Promise<AttackRun> } }).rclipStep.attack(k, g, n, m, a, e), [kind, graph, steps, models, method, eps] as const);

const readbacksPerStep = (run: AttackRun) => run.readbacksAtStep.slice(1).map((n, i) => n - run.readbacksAtStep[i]);

test('PGD on WebGPU through attack_step.onnx: ≤ 1 readback per step, the same distances as wasm', async ({ page }, testInfo) => {
  const steps = 5;
  await openStepPage(page);
  const run = (kind: 'webgpu' | 'wasm', graph: 'webgpu' | 'never') => runAttack(page, kind, graph, steps);

  // RCLIP_DEBUG_STEP=1 prints ORT's node placement and the readback counts (a node on the CPU costs a readback).
  if (process.env.RCLIP_DEBUG_STEP) {
    page.on('console', (m) => /placed on|VerifyEachNode/.test(m.text()) && console.log(`[page] ${m.text()}`));
    await page.evaluate(() => ((window as any).placementLog = true));
  }
  const gpu = await run('webgpu', 'webgpu');
  const gpuJs = await run('webgpu', 'never');
  const wasm = await run('wasm', 'never');
  if (process.env.RCLIP_DEBUG_STEP) console.log(JSON.stringify({ gpu: gpu.readbacksAtStep, gpuEnd: gpu.readbacksAtEnd, js: gpuJs.readbacksAtStep, jsEnd: gpuJs.readbacksAtEnd }));
  await testInfo.attach('readbacks.json', { body: JSON.stringify({ stepGraph: gpu.readbacksAtStep, jsProjection: gpuJs.readbacksAtStep, endStepGraph: gpu.readbacksAtEnd, endJs: gpuJs.readbacksAtEnd }), contentType: 'application/json' });
  expect(gpu.ep).toBe('webgpu');
  expect(gpu.steps).toHaveLength(steps + 1);

  // Readbacks between consecutive step records: the step graph reads back one tensor (stats) per step.
  const perStep = gpu.readbacksAtStep.slice(1).map((n, i) => n - gpu.readbacksAtStep[i]);
  expect(perStep.every((n) => n <= 1), `readbacks per step: ${perStep}`).toBe(true);
  // …and the image once at the end.
  expect(gpu.readbacksAtEnd - gpu.readbacksAtStep[steps]).toBeLessThanOrEqual(1);
  // The JS projection needs the gradient on the CPU every step: more readbacks than the step graph.
  const perStepJs = gpuJs.readbacksAtStep.slice(1).map((n, i) => n - gpuJs.readbacksAtStep[i]);
  expect(perStepJs.reduce((a, b) => a + b, 0)).toBeGreaterThan(perStep.reduce((a, b) => a + b, 0));

  for (const [i, s] of gpu.steps.entries()) {
    expect(Math.abs(s.distance - wasm.steps[i].distance), `step ${i}`).toBeLessThan(1e-3);
    expect(Math.abs(s.deltaNorm - wasm.steps[i].deltaNorm)).toBeLessThan(1e-6);
  }
});

test('the shipped default on WebGPU: no fallback, the same PGD distances as wasm, ≤ 1 readback per step', async ({ page }) => {
  const steps = 3;
  await openStepPage(page);
  const gpu = await runAttack(page, 'webgpu', 'webgpu', steps, '/models/');
  const wasm = await runAttack(page, 'wasm', 'never', steps, '/models/');
  // The engine's load-time probe compares WebGPU with wasm; a wrong kernel would show up here as a fallback.
  expect(gpu.fallbackReason).toBeNull();
  expect(gpu.ep).toBe('webgpu');
  const perStep = gpu.readbacksAtStep.slice(1).map((n, i) => n - gpu.readbacksAtStep[i]);
  expect(perStep.every((n) => n <= 1), `readbacks per step: ${perStep}`).toBe(true);
  for (const [i, s] of gpu.steps.entries()) expect(Math.abs(s.distance - wasm.steps[i].distance), `step ${i}: ${s.distance} vs wasm ${wasm.steps[i].distance}`).toBeLessThan(1e-3);
});

test('APGD on WebGPU through attack_step.onnx: ≤ 1 readback per iterate, the same distances as wasm, no GPU buffer left behind', async ({ page }, testInfo) => {
  // 6 iterates at 16/255: every iterate from the 1st is a checkpoint, and on the fixture the 4th falls
  // back (measured with the step graph on wasm in Node), so the step is halved after it and retaken
  // from the best point: a run whose stats are not read back.
  const iterates = 6;
  await openStepPage(page);
  const gpu = await runAttack(page, 'webgpu', 'webgpu', iterates, undefined, 'apgd', 16 / 255);
  const wasm = await runAttack(page, 'wasm', 'never', iterates, undefined, 'apgd', 16 / 255);
  const perIterate = readbacksPerStep(gpu);
  await testInfo.attach('apgd-readbacks.json', { body: JSON.stringify({ perIterate, end: gpu.readbacksAtEnd - gpu.readbacksAtStep[iterates], gpuBuffers: [gpu.gpuBuffersAfterWarmup, gpu.gpuBuffersAtEnd] }), contentType: 'application/json' });
  expect(gpu.ep).toBe('webgpu');
  expect(gpu.steps).toHaveLength(iterates + 1);
  expect(perIterate.every((n) => n <= 1), `readbacks per iterate: ${perIterate}`).toBe(true);
  expect(gpu.readbacksAtEnd - gpu.readbacksAtStep[iterates], 'the best point, once').toBeLessThanOrEqual(1);
  expect(gpu.gpuBuffersAtEnd, 'live GPU buffers after the attack vs after the warm-up one').toBeLessThanOrEqual(gpu.gpuBuffersAfterWarmup);
  for (const [i, s] of gpu.steps.entries()) {
    expect(Math.abs(s.distance - wasm.steps[i].distance), `iterate ${i}: ${s.distance} vs wasm ${wasm.steps[i].distance}`).toBeLessThan(1e-3);
    expect(Math.abs(s.deltaNorm - wasm.steps[i].deltaNorm)).toBeLessThan(1e-6);
  }
  // The halving happened (the 4th iterate is below the 3rd), so the count above includes the retaken step.
  expect(gpu.steps[4].distance).toBeLessThan(gpu.steps[3].distance);
});

test('APGD-100 on WebGPU: GPU buffers do not grow over 100 iterates', async ({ page }) => {
  await openStepPage(page);
  const gpu = await runAttack(page, 'webgpu', 'webgpu', 100, undefined, 'apgd');
  expect(gpu.ep).toBe('webgpu');
  expect(gpu.steps).toHaveLength(101);
  expect(gpu.gpuBuffersAtEnd, `live GPU buffers: ${gpu.gpuBuffersAfterWarmup} after a first APGD-100, ${gpu.gpuBuffersAtEnd} after a second`).toBeLessThanOrEqual(gpu.gpuBuffersAfterWarmup);
});
