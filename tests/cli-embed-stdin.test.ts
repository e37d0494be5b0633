/**
 * `rclip embed -`, the long-lived pipeline mode, as a real process: each path written to stdin is
 * answered by one JSON line before the next is sent (so a caller can wait for each answer), errors
 * are lines too and the process keeps going; the exit status comes when stdin ends.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { describe, expect, it } from 'vitest';
import { createNodeEngine } from '../src/engine/node';

const root = path.resolve(__dirname, '..');
const index = JSON.parse(readFileSync(path.join(root, 'public/models/index.json'), 'utf8'));
const samples = path.join(root, 'public/samples');

describe('rclip embed -', () => {
  it('answers each stdin path with one JSON line as it comes, errors included, and exits 3 after a skipped one', async () => {
    const child = spawn(process.execPath, [path.join(root, 'bin/rclip.mjs'), 'embed', '-'], { cwd: root, stdio: ['pipe', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
    const exit = new Promise<number>((resolve) => child.on('close', (code) => resolve(code ?? -1)));
    const ask = async (line: string) => {
      child.stdin.write(`${line}\n`);
      const next = await lines.next();
      expect(next.done, stderr).toBe(false);
      return JSON.parse(next.value);
    };
    const engine = createNodeEngine();
    await engine.loadModel(index.default);
    const sunset = path.join(samples, 'sunset.jpg');
    const first = await ask(sunset);
    expect(first.file).toBe(sunset);
    const alone = (await engine.embed(sunset, index.default)).embedding;
    expect(Math.max(...first.embedding.map((v: number, i: number) => Math.abs(v - alone[i])))).toBeLessThan(1e-6);
    expect(await ask(path.join(samples, 'no-such.jpg'))).toEqual({ file: path.join(samples, 'no-such.jpg'), error: { code: 'IMAGE_FETCH_FAILED', message: expect.stringContaining('does not exist') } });
    expect(await ask(path.join(root, 'package.json'))).toMatchObject({ error: { code: 'IMAGE_UNSUPPORTED_FORMAT' } });
    // Windows line ends and blank lines are tolerated.
    expect((await ask(`${path.join(samples, 'meadow.jpg')}\r\n`)).embedding).toHaveLength(alone.length);
    child.stdin.end();
    expect(await exit).toBe(3);
    expect(stderr).toContain('[IMAGE_FETCH_FAILED]');
    expect(stderr).toContain('2 file(s) could not be read');
  });

  it('refuses --out (the output is stdout)', async () => {
    const child = spawn(process.execPath, [path.join(root, 'bin/rclip.mjs'), 'embed', '-', '--out', 'x.jsonl'], { cwd: root });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    child.stdin.end();
    expect(await new Promise((resolve) => child.on('close', resolve))).toBe(2);
    expect(stderr).toContain('drop --out');
  });
});
