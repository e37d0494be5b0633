#!/usr/bin/env node
// Runs the TypeScript sources directly (tsx's loader, registered for this process only): no build step.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../src/cli/main.ts');
process.exitCode = await main(process.argv.slice(2));
