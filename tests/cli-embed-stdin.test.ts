/**
 * `rclip embed -` and `rclip match --against DIR -`, the long-lived pipeline mode, as real processes: each path written to stdin is
 * answered by one JSON line before the next is sent (so a caller can wait for each answer), errors
 * are lines too and the process keeps going; the exit status comes when stdin ends.
 */
import { spawn } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { describe, expect, it } from 'vitest';
import { createNodeEngine } from '../src/engine/node';

const root = path.resolve(__dirname, '..');
const index = JSON.parse(readFileSync(path.join(root, 'public/models/index.json'), 'utf8'));
const samples = path.join(root, 'public/samples');

/** A running `rclip … -`: ask() writes one path and waits for its answer line. */
function pipeline(args: string[], env: NodeJS.ProcessEnv = process.env) {
  const child = spawn(process.execPath, [path.join(root, 'bin/rclip.mjs'), ...args], { cwd: root, stdio: ['pipe', 'pipe', 'pipe'], env });
  const state = { stderr: '' };
  child.stderr.on('data', (d) => (state.stderr += d));
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  const exit = new Promise<number>((resolve) => child.on('close', (code) => resolve(code ?? -1)));
  const ask = async (line: string) => {
    child.stdin.write(`${line}\n`);
    const next = await lines.next();
    expect(next.done, state.stderr).toBe(false);
    return JSON.parse(next.value);
  };
  return { ask, state, exit, end: () => child.stdin.end() };
}

describe('rclip match --against DIR -', () => {
  it('answers each stdin path with its nearest listed image as it comes; an unreadable one with its error', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'rclip-stdin-'));
    mkdirSync(path.join(dir, 'list'));
    for (const f of ['sunset.jpg', 'meadow.jpg']) copyFileSync(path.join(samples, f), path.join(dir, 'list', f));
    const run = pipeline(['match', '--against', path.join(dir, 'list'), '-', '--threshold', '0.000001'], { ...process.env, RCLIP_CACHE_DIR: path.join(dir, 'cache') });
    expect(await run.ask(path.join(samples, 'meadow.jpg'))).toMatchObject({ file: path.join(samples, 'meadow.jpg'), nearest: path.join(dir, 'list', 'meadow.jpg'), match: true });
    expect(await run.ask(path.join(dir, 'none.jpg'))).toMatchObject({ error: { code: 'IMAGE_FETCH_FAILED' } });
    expect(await run.ask(path.join(samples, 'sunset-shifted.jpg'))).toMatchObject({ nearest: path.join(dir, 'list', 'sunset.jpg'), match: false });
    run.end();
    expect(await run.exit).toBe(3);
  });
});

describe('rclip embed -', () => {
  it('answers each stdin path with one JSON line as it comes, errors included, and exits 3 after a skipped one', async () => {
    const { ask, state, exit, end } = pipeline(['embed', '-']);
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
    end();
    expect(await exit).toBe(3);
    expect(state.stderr).toContain('[IMAGE_FETCH_FAILED]');
    expect(state.stderr).toContain('2 file(s) could not be read');
  });

  it('stops quietly (exit 141, no stack trace) when its reader goes away mid-stream', async () => {
    const child = spawn(process.execPath, [path.join(root, 'bin/rclip.mjs'), 'embed', '-'], { cwd: root, stdio: ['pipe', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    // rclip may be gone before the last paths are written: that is the point, not an error here.
    child.stdin.on('error', () => {});
    const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
    const sunset = path.join(samples, 'sunset.jpg');
    child.stdin.write(`${sunset}\n`);
    expect(JSON.parse((await lines.next()).value).file).toBe(sunset);
    // The reader has what it wanted (as `rclip embed - | head -n1`) and closes its end; more paths come.
    child.stdout.destroy();
    for (let i = 0; i < 50; i++) child.stdin.write(`${sunset}\n`);
    child.stdin.end();
    expect(await new Promise((resolve) => child.on('close', resolve))).toBe(141);
    expect(stderr).not.toContain('EPIPE');
    expect(stderr).not.toMatch(/^\s+at .*:\d+:\d+\)?$/m);
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
