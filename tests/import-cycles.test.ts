/**
 * The modules of src/ and workers/ import one another without a cycle (type-only imports count: a
 * cycle of types still ties two files together). engine.ts and engine/attack.ts used to import each
 * other; the attacks now run in the core against an oracle the engine builds.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const root = path.resolve(__dirname, '..');

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = path.join(dir, name);
    return statSync(p).isDirectory() ? sources(p) : p.endsWith('.ts') ? [p] : [];
  });
}

/** Relative imports and re-exports of a file, resolved to the .ts files they name. */
function localImports(file: string, known: Set<string>): string[] {
  const text = readFileSync(file, 'utf8');
  return [...text.matchAll(/^\s*(?:import|export)\s[^'"]*?from\s+'(\.[^']+)'/gms)]
    .map((m) => path.resolve(path.dirname(file), m[1]))
    .map((p) => (existsSync(`${p}.ts`) ? `${p}.ts` : p))
    .filter((p) => known.has(p));
}

function cycles(files: string[]): string[] {
  const known = new Set(files);
  const graph = new Map(files.map((f) => [f, localImports(f, known)]));
  const state = new Map<string, 'open' | 'done'>();
  const stack: string[] = [];
  const found: string[] = [];
  const visit = (f: string) => {
    state.set(f, 'open');
    stack.push(f);
    for (const d of graph.get(f)!) {
      if (state.get(d) === 'open') found.push([...stack.slice(stack.indexOf(d)), d].map((x) => path.relative(root, x)).join(' → '));
      else if (!state.has(d)) visit(d);
    }
    stack.pop();
    state.set(f, 'done');
  };
  for (const f of files) if (!state.has(f)) visit(f);
  return found;
}

describe('module graph', () => {
  it('src/ and workers/ have no import cycle', () => {
    expect(cycles([...sources(path.join(root, 'src')), ...sources(path.join(root, 'workers'))])).toEqual([]);
  });

  it('the check finds a cycle where there is one', () => {
    const fixture = path.join(root, 'tests/fixtures/import-cycle');
    expect(cycles(sources(fixture))).toEqual(['tests/fixtures/import-cycle/a.ts → tests/fixtures/import-cycle/b.ts → tests/fixtures/import-cycle/a.ts']);
  });
});
