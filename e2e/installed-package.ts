/**
 * The package as a user installs it, shared by e2e/package.spec.ts and bench/embed-throughput.ts:
 * `npm pack` of this checkout (built beforehand: `npm run build`, or `npm run build:lib` for the
 * package alone), installed into a fresh folder `<dir>/app` with `npm install` (dependencies from the
 * npm cache or registry), the CLI's optional runtime packages pinned to the versions the repository
 * is tested with, and onnxruntime-node's install-time download skipped (its CPU runtime is in the
 * package).
 */
import { execFile } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';

const root = path.resolve(import.meta.dirname, '..');
const run = promisify(execFile);

/** The version of a package in this checkout's node_modules. */
export const checkoutVersion = (pkg: string) => JSON.parse(readFileSync(path.join(root, 'node_modules', pkg, 'package.json'), 'utf8')).version as string;

/** The optional packages rclip loads at run time (decode, inference, BMP). */
const CLI_RUNTIME = ['onnxruntime-node', 'sharp', 'bmp-ts'];

export interface InstalledPackage {
  /** The packed tarball, in `dir`. */
  tarball: string;
  /** The folder it is installed in (its node_modules/rclip-web, node_modules/.bin/rclip). */
  app: string;
}

/**
 * Packs the checkout (as built: `npm pack --ignore-scripts`) into `dir` and installs the tarball into
 * `<dir>/app`, a `type: module` project depending on it and on `alsoInstall` (packages of this
 * checkout, at its versions: e.g. vite for an app that bundles it).
 */
export async function installPackedPackage(dir: string, { alsoInstall = [] as string[] } = {}): Promise<InstalledPackage> {
  const { stdout } = await run('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', dir], { cwd: root, maxBuffer: 1 << 24 });
  const tarball = path.join(dir, JSON.parse(stdout)[0].filename);
  const app = path.join(dir, 'app');
  mkdirSync(app, { recursive: true });
  const dependencies = { 'rclip-web': `file:${tarball}`, ...Object.fromEntries(alsoInstall.map((p) => [p, checkoutVersion(p)])) };
  // The package's optional runtime for the CLI, pinned to the versions the repository is tested with.
  const overrides = Object.fromEntries(CLI_RUNTIME.map((p) => [p, checkoutVersion(p)]));
  writeFileSync(path.join(app, 'package.json'), JSON.stringify({ name: 'rclip-user-app', private: true, type: 'module', dependencies, overrides }, null, 2));
  await run('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund'], { cwd: app, env: { ...process.env, ONNXRUNTIME_NODE_INSTALL: 'skip' }, maxBuffer: 1 << 24 });
  return { tarball, app };
}
