#!/usr/bin/env node
// In a checkout (src/ beside bin/, tsx installed) the TypeScript sources run directly, so tests and
// development never meet a stale build; an installed package runs its built JavaScript (dist/cli/).
import { existsSync } from 'node:fs';

const source = new URL('../src/cli/main.ts', import.meta.url);
let main;
if (existsSync(source)) {
  const { register } = await import('tsx/esm/api');
  register();
  ({ main } = await import(source.href));
} else {
  ({ main } = await import('../dist/cli/main.js'));
}
process.exitCode = await main(process.argv.slice(2));
