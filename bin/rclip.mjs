#!/usr/bin/env node
// In a checkout (src/ beside bin/, tsx installed) the TypeScript sources run directly, so tests and
// development never meet a stale build; an installed package runs its built JavaScript (dist/cli/).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { constants, tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

// onnxruntime-node (1.30) overflows the main thread's stack while it creates its environment when
// the process's command line is long: its recursion goes deeper with every byte of
// /proc/self/cmdline (a segfault from ~25 KB, e.g. `rclip embed *.jpg` over 600 photos). Such a
// command runs again with its arguments in a temporary file, so that its own command line is short.
const ARGS_FILE = 'RCLIP_ARGS_FILE';
const LONG_COMMAND_LINE = 8192;
let args = process.argv.slice(2);
if (process.env[ARGS_FILE]) {
  args = JSON.parse(readFileSync(process.env[ARGS_FILE], 'utf8'));
  delete process.env[ARGS_FILE];
} else if (Buffer.byteLength(process.argv.join(' ')) > LONG_COMMAND_LINE) {
  const dir = mkdtempSync(path.join(tmpdir(), 'rclip-args-'));
  const file = path.join(dir, 'args.json');
  writeFileSync(file, JSON.stringify(args));
  const child = spawnSync(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url)], { stdio: 'inherit', env: { ...process.env, [ARGS_FILE]: file } });
  rmSync(dir, { recursive: true, force: true });
  if (child.error) throw child.error;
  process.exit(child.status ?? 128 + (constants.signals[child.signal] ?? 0));
}

const source = new URL('../src/cli/main.ts', import.meta.url);
let main;
if (existsSync(source)) {
  const { register } = await import('tsx/esm/api');
  register();
  ({ main } = await import(source.href));
} else {
  ({ main } = await import('../dist/cli/main.js'));
}
process.exitCode = await main(args);
