/**
 * Proof that the WebGPU EP runs the shipped graphs: ORT's verbose log lists where every node went.
 * Served by a bare static server (not Vite) so the graphs are loaded exactly as files.
 */
import { expect, test } from '@playwright/test';
import { readFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';

const root = path.resolve(import.meta.dirname, '..');
const types: Record<string, string> = { '.mjs': 'text/javascript', '.js': 'text/javascript', '.wasm': 'application/wasm', '.html': 'text/html', '.json': 'application/json' };

let server: http.Server;
let base: string;

test.beforeAll(async () => {
  server = http.createServer(async (req, res) => {
    const file = path.join(root, decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname));
    if (!file.startsWith(root)) return void res.writeHead(403).end();
    try {
      const body = await readFile(file);
      res.writeHead(200, { 'content-type': types[path.extname(file)] ?? 'application/octet-stream' }).end(body);
    } catch {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

test.afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

interface Placement {
  ep: string;
  nodes: Array<{ op: string; name: string }>;
}

function parsePlacements(lines: string[]): Placement[] {
  const out: Placement[] = [];
  for (const line of lines) {
    const group = line.match(/Node\(s\) placed on \[(\w+)\]/) ?? line.match(/All nodes placed on \[(\w+)\]/);
    if (group) {
      out.push({ ep: group[1], nodes: [] });
      continue;
    }
    const node = line.match(/VerifyEachNodeIsAssignedToAnEp\]\s+(\w+) \((.+)\)$/);
    if (node && out.length) out[out.length - 1].nodes.push({ op: node[1], name: node[2] });
  }
  return out;
}

test('every node of the shipped graphs runs on the WebGPU EP', async ({ page }, testInfo) => {
  test.skip(testInfo.project.name !== 'webgpu', 'needs the --enable-unsafe-webgpu project');
  const index = JSON.parse(await readFile(path.join(root, 'public/models/index.json'), 'utf8'));
  const lines: string[] = [];
  page.on('console', (m) => lines.push(m.text()));
  await page.goto(`${base}/e2e/fixtures/placement.html`);
  await page.waitForFunction(() => (window as unknown as { ready?: boolean }).ready === true);

  const report: Record<string, Placement[]> = {};
  for (const model of [index.default, index.baseline]) {
    for (const graph of ['encoder.onnx', 'attack.onnx']) {
      lines.length = 0;
      const io = await page.evaluate((url) => (window as any).createSession(url), `/public/models/${model}/${graph}`);
      expect(io.inputs[0]).toBe('input');
      const placements = parsePlacements(lines);
      report[`${model}/${graph}`] = placements;
      expect(placements.length, `no placement log for ${model}/${graph}`).toBeGreaterThan(0);
      const gpu = placements.find((p) => p.ep === 'WebGpuExecutionProvider');
      expect(gpu, `${model}/${graph}: nothing on WebGPU`).toBeTruthy();
      // Every node, shape computations included: the exporter folds GroupNorm's Shape→Reshape into constants.
      for (const p of placements.filter((p) => p.ep !== 'WebGpuExecutionProvider')) {
        expect(p.nodes, `${model}/${graph}: nodes on ${p.ep}`).toEqual([]);
      }
    }
  }
  await testInfo.attach('placement.json', { body: JSON.stringify(report, null, 2), contentType: 'application/json' });
});
