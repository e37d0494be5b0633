/**
 * The package as a user gets it: `npm pack` of the built repository, installed into a fresh folder
 * (dependencies from the npm cache or registry, at the repository's lockfile versions: e2e/installed-package.ts), then
 *  - a Vite app importing `rclip-web` and `rclip-web/element`, built and previewed, and in `vite dev`;
 *  - a plain static page loading dist/lib/ straight from node_modules (no bundler);
 *  - `npx rclip distance` from the installed package;
 * all giving the distance the repository's own page gives. Needs `npm run build` first (scripts/test.sh does).
 */
import { expect, test, type Page } from '@playwright/test';
import { execFile } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { build, createServer, preview, type PreviewServer, type ViteDevServer } from 'vite';
import { installPackedPackage } from './installed-package';

const root = path.resolve(import.meta.dirname, '..');
const samples = path.join(root, 'public/samples');
const run = promisify(execFile);
const MAX_TARBALL_BYTES = 25 * 1024 * 1024;

test.describe.configure({ mode: 'serial' });
const onlyOnce = (name: string) => test.skip(name !== 'wasm', 'the package is checked once, on wasm');
test.beforeEach(({}, testInfo) => onlyOnce(testInfo.project.name));

let dir: string;
let app: string;
let tarball: string;
let reference: number;
const servers: Array<{ close: () => Promise<unknown> | void }> = [];
const urls: Record<'build' | 'dev' | 'plain', string> = { build: '', dev: '', plain: '' };

const APP_HTML = `<!doctype html>
<html><head><meta charset="utf-8"><link rel="icon" href="data:,"><title>rclip-web in a Vite app</title></head>
<body>
  <rclip-distance id="el" a="img/sunset.jpg" b="img/sunset-shifted.jpg" models-base="models/"></rclip-distance>
  <script type="module" src="/main.js"></script>
</body></html>`;

const RESULTS = `const el = document.querySelector('#el');
el.addEventListener('rclip-distance', (e) => (window.elementResult = e.detail));
el.addEventListener('rclip-error', (e) => (window.elementResult = { error: e.detail }));
createMetric({ modelsBase: new URL('models/', location.href).href })
  .distance({ url: 'img/sunset.jpg' }, { url: 'img/sunset-shifted.jpg' })
  .then((r) => (window.apiResult = r), (e) => (window.apiResult = { error: { code: e.code, message: e.message } }));`;

// What a user writes: the two documented imports, nothing configured.
const APP_JS = `import { createMetric } from 'rclip-web';
import 'rclip-web/element';
${RESULTS}`;

// The plain page: dist/lib/ served as files, models from the package's own copy.
const lib = '/node_modules/rclip-web/dist/lib/';
const PLAIN_HTML = `<!doctype html>
<html><head><meta charset="utf-8"><link rel="icon" href="data:,"><title>rclip-web on a plain page</title>
<script type="module" src="${lib}rclip-element.js"></script></head>
<body>
  <rclip-distance id="el" a="/public/img/sunset.jpg" b="/public/img/sunset-shifted.jpg" models-base="${lib}models/"></rclip-distance>
  <script type="module">
    import { createMetric } from '${lib}rclip-web.js';
    ${RESULTS.replace("new URL('models/', location.href).href", `'${lib}models/'`).replaceAll("'img/", "'/public/img/")}
  </script>
</body></html>`;

const TYPES: Record<string, string> = { '.html': 'text/html', '.js': 'text/javascript', '.mjs': 'text/javascript', '.wasm': 'application/wasm', '.json': 'application/json', '.jpg': 'image/jpeg' };

function staticServer(folder: string): Promise<{ server: Server; url: string }> {
  const server = createHttpServer((req, res) => {
    const file = path.join(folder, decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname));
    try {
      const body = readFileSync(file);
      res.writeHead(200, { 'content-type': TYPES[path.extname(file)] ?? 'application/octet-stream' });
      res.end(body);
    } catch {
      res.writeHead(404).end();
    }
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({ server, url: `http://127.0.0.1:${(server.address() as { port: number }).port}/` })));
}

test.beforeAll(async ({ browser }, testInfo) => {
  onlyOnce(testInfo.project.name);
  test.setTimeout(180_000);
  // The repository's own page (the example served from dist/) gives the reference distance.
  const page = await browser.newPage();
  await page.goto('/examples/embed.html');
  await expect.poll(() => page.locator('#near').evaluate((el: any) => el.distance), { timeout: 90_000 }).not.toBeNull();
  reference = await page.locator('#near').evaluate((el: any) => el.distance);
  await page.close();

  dir = mkdtempSync(path.join(tmpdir(), 'rclip-package-'));
  ({ tarball, app } = await installPackedPackage(dir, { alsoInstall: ['vite'] }));
  mkdirSync(path.join(app, 'public/img'), { recursive: true });
  for (const name of ['sunset.jpg', 'sunset-shifted.jpg']) copyFileSync(path.join(samples, name), path.join(app, 'public/img', name));
  // The documented way to put the models where the app serves them.
  await run('npx', ['rclip', 'models', 'copy', 'public/models'], { cwd: app });
  writeFileSync(path.join(app, 'index.html'), APP_HTML);
  writeFileSync(path.join(app, 'main.js'), APP_JS);
  writeFileSync(path.join(app, 'plain.html'), PLAIN_HTML);

  await build({ root: app, configFile: false, logLevel: 'warn' });
  const previewServer: PreviewServer = await preview({ root: app, configFile: false, logLevel: 'warn', preview: { port: 0, host: '127.0.0.1' } });
  servers.push({ close: () => previewServer.close() });
  urls.build = previewServer.resolvedUrls!.local[0];
  const devServer: ViteDevServer = await createServer({ root: app, configFile: false, logLevel: 'warn', server: { port: 0, host: '127.0.0.1' } });
  await devServer.listen();
  servers.push({ close: () => devServer.close() });
  urls.dev = devServer.resolvedUrls!.local[0];
  const plain = await staticServer(app);
  servers.push({ close: () => new Promise((resolve) => plain.server.close(resolve)) });
  urls.plain = `${plain.url}plain.html`;
});

test.afterAll(async () => {
  for (const s of servers) await s.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

test('the tarball is at most 25 MB and holds the library, the CLI, the types and one copy of the models', async () => {
  const bytes = statSync(tarball).size;
  console.log(`package: ${path.basename(tarball)} ${(bytes / 1024 / 1024).toFixed(1)} MiB`);
  expect(bytes).toBeLessThanOrEqual(MAX_TARBALL_BYTES);
  const { stdout } = await run('tar', ['-tzf', tarball], { maxBuffer: 1 << 24 });
  const files = stdout.split('\n');
  expect(files).toEqual(expect.arrayContaining(['package/dist/lib/rclip-web.js', 'package/dist/lib/rclip-element.js', 'package/dist/lib/rclip.worker.js', 'package/dist/cli/main.js', 'package/dist/types/src/index.d.ts', 'package/dist/lib/models/index.json']));
  expect(files.filter((f) => f.endsWith('encoder.onnx')).every((f) => f.startsWith('package/dist/lib/models/'))).toBe(true);
  expect(files.some((f) => f.startsWith('package/src/') || f.startsWith('package/public/') || f.endsWith('.map') || f.endsWith('index.html'))).toBe(false);
});

async function results(page: Page, url: string) {
  const failed: string[] = [];
  page.on('response', (r) => r.status() >= 400 && failed.push(`${r.status()} ${r.url()}`));
  await page.goto(url);
  const read = () => page.evaluate(() => ({ api: (window as any).apiResult, element: (window as any).elementResult }));
  await expect.poll(async () => Boolean((await read()).api && (await read()).element), { timeout: 90_000 }).toBe(true);
  const r = await read();
  expect(failed, 'no request failed').toEqual([]);
  expect(r.api.error, 'createMetric().distance').toBeUndefined();
  expect(r.element.error, '<rclip-distance>').toBeUndefined();
  return { api: r.api.distance as number, element: r.element.distance as number };
}

for (const kind of ['build', 'dev', 'plain'] as const) {
  test(`${kind === 'plain' ? 'a plain static page' : `a Vite app (${kind === 'build' ? 'vite build + preview' : 'vite dev'})`}: createMetric().distance and <rclip-distance> give the repository page's distance`, async ({ page }) => {
    const r = await results(page, urls[kind]);
    expect(Math.abs(r.api - reference)).toBeLessThan(1e-5);
    expect(Math.abs(r.element - reference)).toBeLessThan(1e-5);
  });
}

test('npx rclip distance from the installed package prints the same distance', async () => {
  const { stdout } = await run('npx', ['rclip', 'distance', 'public/img/sunset.jpg', 'public/img/sunset-shifted.jpg', '--json'], { cwd: app });
  const out = JSON.parse(stdout);
  expect(out.model).toBe(JSON.parse(readFileSync(path.join(app, 'public/models/index.json'), 'utf8')).default);
  expect(Math.abs(out.distance - reference)).toBeLessThan(1e-3);
});

test('without an optional runtime package, rclip names it and how to install it', async () => {
  const sharp = path.join(app, 'node_modules/sharp');
  renameSync(sharp, `${sharp}.away`);
  try {
    const r = await run('npx', ['rclip', 'distance', 'public/img/sunset.jpg', 'public/img/sunset-shifted.jpg'], { cwd: app }).then(
      () => ({ code: 0, stderr: '' }),
      (err: { code: number; stderr: string }) => err,
    );
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('[DEPENDENCY_MISSING]');
    expect(r.stderr).toContain('npm install sharp');
  } finally {
    renameSync(`${sharp}.away`, sharp);
  }
});
