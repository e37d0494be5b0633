/** Drives bench/browser/ in headless Chromium: a Vite server on port 4176 (COOP/COEP from vite.config.ts), Playwright, CDP heap metrics. */
import { chromium, type Browser, type Page } from '@playwright/test';
import { existsSync, realpathSync, statSync } from 'node:fs';
import path from 'node:path';
import { createServer, type ViteDevServer } from 'vite';
import type { BenchBackend, BrowserModelResult, ComparisonResult, MemoryResult } from './browser/bench-page';
import type { ModelIndex } from '../src/core/manifest';

export const PORT = 4176;
const root = path.resolve(import.meta.dirname, '..');
const CHROMIUM_ARGS = ['--no-sandbox', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];

/**
 * How a page's /models/ requests are answered: from disk, every one logged. `index` replaces
 * index.json; `folders` serves a model folder from elsewhere on disk (a candidate outside
 * public/models, as if it were installed there); everything else comes from public/models.
 */
export interface ModelServing {
  index?: ModelIndex;
  folders?: Record<string, string>;
}

/** One file the page fetched under /models/ (not what it read from its Cache Storage). */
export interface ModelFetch {
  path: string;
  bytes: number;
  /** ms since the page was opened. */
  atMs: number;
}

export interface RunOptions {
  /** The page to open (default: the bench page, ready when window.rclipBench is); `work` waits for any other page itself. */
  path?: string;
  models?: ModelServing;
}

export interface BrowserSession {
  version: string;
  run<T>(backend: BenchBackend, work: (page: Page, fetched: ModelFetch[]) => Promise<T>, options?: RunOptions): Promise<T>;
  close(): Promise<void>;
}

async function serveModels(page: Page, serving: ModelServing, fetched: ModelFetch[], opened: number) {
  await page.context().route('**/models/**', async (route) => {
    const { pathname } = new URL(route.request().url());
    if (!pathname.startsWith('/models/')) return route.continue();
    const rel = decodeURIComponent(pathname.slice('/models/'.length));
    if (rel === 'index.json' && serving.index) {
      const body = JSON.stringify(serving.index);
      fetched.push({ path: rel, bytes: Buffer.byteLength(body), atMs: performance.now() - opened });
      return route.fulfill({ contentType: 'application/json', body });
    }
    const [folder, ...rest] = rel.split('/');
    const file = serving.folders?.[folder] ? path.join(serving.folders[folder], ...rest) : path.join(root, 'public/models', rel);
    if (!existsSync(file) || !statSync(file).isFile()) return route.fulfill({ status: 404, contentType: 'text/plain', body: `${rel} not found` });
    fetched.push({ path: rel, bytes: statSync(file).size, atMs: performance.now() - opened });
    return route.fulfill({ path: file, contentType: file.endsWith('.json') ? 'application/json' : 'application/octet-stream' });
  });
}

export async function startBrowserBench(): Promise<BrowserSession> {
  // No HMR: others edit this checkout while a bench runs, and a reload would end the page mid-measure.
  // node_modules may be a symlink out of the checkout (a git worktree): Vite must be allowed its real folder.
  const server: ViteDevServer = await createServer({ root, configFile: path.join(root, 'vite.config.ts'), logLevel: 'error', server: { port: PORT, strictPort: true, host: '127.0.0.1', hmr: false, fs: { allow: [root, realpathSync(path.join(root, 'node_modules'))] } } });
  await server.listen();
  const browsers = new Map<boolean, Browser>();
  const browserFor = async (webgpu: boolean) => {
    let b = browsers.get(webgpu);
    if (!b) {
      b = await chromium.launch({ executablePath: '/usr/bin/chromium', args: webgpu ? [...CHROMIUM_ARGS, '--enable-unsafe-webgpu'] : CHROMIUM_ARGS });
      browsers.set(webgpu, b);
    }
    return b;
  };
  const version = (await browserFor(false)).version();
  return {
    version,
    async run(backend, work, options = {}) {
      // Each page has a context of its own: an empty Cache Storage, so models come over the network.
      const page = await (await browserFor(backend === 'webgpu')).newPage();
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(e.message));
      const fetched: ModelFetch[] = [];
      try {
        if (options.models) await serveModels(page, options.models, fetched, performance.now());
        await page.goto(`http://127.0.0.1:${PORT}${options.path ?? '/bench/browser/index.html'}`);
        if (!options.path) await page.waitForFunction(() => 'rclipBench' in window, null, { timeout: 120_000 });
        return await work(page, fetched);
      } catch (err) {
        throw new Error(`${backend}: ${(err as Error).message}${errors.length ? ` (page errors: ${errors.join('; ')})` : ''}`);
      } finally {
        await page.close();
      }
    },
    async close() {
      for (const b of browsers.values()) await b.close();
      await server.close();
    },
  };
}

export function browserLatency(session: BrowserSession, backend: BenchBackend, models: string[], images: string[], runs: number, steps: number, serving?: ModelServing): Promise<BrowserModelResult[]> {
  return session.run(backend, (page) => page.evaluate(({ backend, models, images, runs, steps }) => window.rclipBench.latency(backend, models, images, runs, steps), { backend, models, images, runs, steps }), { models: serving });
}

export function browserComparison(session: BrowserSession, backend: BenchBackend, models: string[], images: string[], runs: number): Promise<ComparisonResult> {
  return session.run(backend, (page) => page.evaluate(({ backend, models, images, runs }) => window.rclipBench.comparison(backend, models, images, runs), { backend, models, images, runs }));
}

export interface HeapMark {
  label: string;
  jsHeapUsedBytes: number;
}

/** Live GPU buffers from the page's createBuffer/destroy count; JS heap after a forced GC, from CDP, at each checkpoint. */
export function browserMemory(session: BrowserSession, backend: BenchBackend, models: string[], images: string[], comparisons: number, steps: number): Promise<MemoryResult & { heap: HeapMark[] }> {
  return session.run(backend, async (page) => {
    const cdp = await page.context().newCDPSession(page);
    await cdp.send('Performance.enable');
    const heap: HeapMark[] = [];
    await page.exposeFunction('rclipMark', async (label: string) => {
      await cdp.send('HeapProfiler.collectGarbage');
      const { metrics } = await cdp.send('Performance.getMetrics');
      heap.push({ label, jsHeapUsedBytes: metrics.find((m) => m.name === 'JSHeapUsedSize')?.value ?? NaN });
    });
    const result = await page.evaluate(({ backend, models, images, comparisons, steps }) => window.rclipBench.memory(backend, models, images, comparisons, steps), { backend, models, images, comparisons, steps });
    return { ...result, heap };
  });
}
