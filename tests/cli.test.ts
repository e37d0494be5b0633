/**
 * `rclip` as users run it: a real process (bin/rclip.mjs), the shipped models, real image files
 * (the repo's samples, ../shared/data when present, and images generated here with sharp).
 */
import { spawn } from 'node:child_process';
import { copyFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as ortWeb from 'onnxruntime-web';
import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import { createNodeEngine, decodeImageFile } from '../src/engine/node';
import { cosineDistance } from '../src/core/distance';
import { per255 } from '../src/core/options';
import { DiskModelSource } from '../src/engine/disk-source';
import { Engine } from '../src/engine/engine';
import { json, runRclip } from './fixtures/rclip-cli';

const root = path.resolve(__dirname, '..');
const models = path.join(root, 'public/models');
const index = JSON.parse(readFileSync(path.join(models, 'index.json'), 'utf8'));
const sunset = path.join(root, 'public/samples/sunset.jpg');
const shifted = path.join(root, 'public/samples/sunset-shifted.jpg');
const meadow = path.join(root, 'public/samples/meadow.jpg');
const bapps = path.resolve(root, '../shared/data/2afc-examples/bapps');

const rclip = (...args: string[]) => runRclip(path.join(dir, 'cache'), args);

let dir: string;

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'rclip-cli-'));
  writeFileSync(path.join(dir, 'not-an-image.jpg'), 'hello, I am text');
  writeFileSync(path.join(dir, 'truncated.jpg'), readFileSync(sunset).subarray(0, 600));
  // A folder of near-duplicates: a photo, its half-size re-encode, and an unrelated photo.
  const dupes = path.join(dir, 'dupes');
  mkdirSync(dupes);
  copyFileSync(sunset, path.join(dupes, 'a.jpg'));
  await sharp(sunset).resize({ width: Math.round(((await sharp(sunset).metadata()).width ?? 256) / 2) }).jpeg({ quality: 80 }).toFile(path.join(dupes, 'a-small.jpg'));
  copyFileSync(meadow, path.join(dupes, 'b.jpg'));
  writeFileSync(path.join(dupes, 'README.txt'), 'not an image, skipped');
  // An eval folder of 10 generated photos-like images: sorted indices 4 and 9 are the evaluation images.
  const evalDir = path.join(dir, 'eval');
  mkdirSync(evalDir);
  for (let i = 0; i < 10; i++) {
    await sharp(i % 2 ? sunset : meadow)
      .rotate(i * 7, { background: '#808080' })
      .modulate({ hue: i * 30 })
      .resize(96, 80)
      .png()
      .toFile(path.join(evalDir, `img${i}.png`));
  }
});

describe('rclip --help', () => {
  it.each(['distance', 'embed', 'dedupe', 'eval'])('%s --help explains the form and exits 0', async (command) => {
    const r = await rclip(command, '--help');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`Usage: rclip ${command}`);
  });

  it('the bare command prints the usage on stderr and exits 2', async () => {
    const r = await rclip();
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('rclip distance <a> <b>');
    expect(r.stdout).toBe('');
  });
});

describe('rclip --version and rclip models', () => {
  it('--version and -V print the package name and version from package.json', async () => {
    const pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8'));
    for (const flag of ['--version', '-V']) {
      const r = await rclip(flag);
      expect(r.code).toBe(0);
      expect(r.stdout).toBe(`${pkg.name} ${pkg.version}\n`);
    }
  });

  it('"rclip models" lists each model of the index: id, role, input size and the radius it holds at (its manifest); so does "models list"', async () => {
    const r = await rclip('models');
    expect(r.code, r.stderr).toBe(0);
    expect((await rclip('models', 'list')).stdout).toBe(r.stdout);
    const lines = r.stdout.split('\n');
    expect(lines[0]).toMatch(/^id +role +input +holds at$/);
    index.models.forEach((entry: { id: string }, i: number) => {
      const m = JSON.parse(readFileSync(path.join(models, entry.id, 'manifest.json'), 'utf8'));
      const role = entry.id === index.default ? 'default' : entry.id === index.baseline ? 'baseline' : '-';
      const held = m.robustness.holds.eps === null ? 'no measured radius' : per255(m.robustness.holds.eps);
      expect(lines[i + 1].split(/ {2,}/)).toEqual([entry.id, role, `${m.input.size}×${m.input.size}`, `${held} (copy R@1 ≥ ${m.robustness.holds.minimum} under ${m.robustness.holds.attack})`]);
    });
  });

  it('"rclip models list --json" gives each model with its manifest\'s figures; the top-level help names list and path', async () => {
    const out = json(await rclip('models', 'list', '--json'));
    expect(out.models_dir).toBe(models);
    expect(out.models.map((m: { id: string }) => m.id)).toEqual(index.models.map((m: { id: string }) => m.id));
    for (const listed of out.models) {
      const m = JSON.parse(readFileSync(path.join(models, listed.id, 'manifest.json'), 'utf8'));
      expect(listed).toEqual({ id: m.id, name: m.name, role: listed.id === index.default ? 'default' : 'baseline', input_size: m.input.size, embedding_size: m.embeddingSize, holds: m.robustness.holds });
    }
    const help = (await rclip('--help')).stdout;
    for (const form of ['rclip models [list] [--json]', 'rclip models path', 'rclip --version']) expect(help).toContain(form);
  });
});

/** A line of a JavaScript stack trace: what a user must never see for a handled error. */
const STACK_FRAME = /^\s+at .*:\d+:\d+\)?$/m;

describe('exit status 2 for bad usage, in every command', () => {
  const folder = () => path.join(dir, 'dupes');
  it.each([
    ['an unknown model id (distance)', () => ['distance', sunset, meadow, '--model', 'no-such-model']],
    ['an unknown model id (embed)', () => ['embed', folder(), '--out', path.join(dir, 'u.jsonl'), '--model', 'no-such-model']],
    ['an unknown model id (dedupe)', () => ['dedupe', folder(), '--model', 'no-such-model']],
    ['an unknown model id (match)', () => ['match', sunset, '--against', folder(), '--model', 'no-such-model']],
    ['an unknown model id (eval)', () => ['eval', '--images', path.join(dir, 'eval'), '--model', 'no-such-model']],
    ['an unknown model id (attack)', () => ['attack', sunset, '--out', path.join(dir, 'u.png'), '--model', 'no-such-model']],
    ['a file where dedupe wants a folder', () => ['dedupe', sunset]],
    ['a file where embed --store wants a folder', () => ['embed', sunset, '--store', path.join(dir, 'u-store')]],
    ['a file as match --against', () => ['match', meadow, '--against', sunset]],
    ['a file as eval --images', () => ['eval', '--images', sunset]],
    ['a bad --shard', () => ['embed', folder(), '--store', path.join(dir, 'u-store'), '--shard', '2/2']],
    ['an unknown models action', () => ['models', 'remove']],
    ['an unknown store action', () => ['store', 'delete']],
    ['an unknown command', () => ['frobnicate']],
  ])('%s', async (_, args) => {
    const r = await rclip(...args());
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).not.toMatch(STACK_FRAME);
  });

  it('a folder that does not exist fails like a missing file (exit 1), in dedupe, match and eval alike', async () => {
    const nowhere = path.join(dir, 'nowhere');
    for (const args of [['dedupe', nowhere], ['match', sunset, '--against', nowhere], ['eval', '--images', nowhere]]) {
      const r = await rclip(...args);
      expect(r.code, args.join(' ')).toBe(1);
      expect(r.stderr).toContain(`Folder "${nowhere}" does not exist.`);
    }
  });
});

/** rclip with its stdout a pipe whose reader has gone (as `rclip … | head -c1` once head has its byte). */
async function withClosedStdout(args: string[]): Promise<{ code: number | null; stderr: string }> {
  const child = spawn(process.execPath, [path.join(root, 'bin/rclip.mjs'), ...args], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, RCLIP_CACHE_DIR: path.join(dir, 'cache') } });
  child.stdout.destroy();
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  return { code, stderr };
}

describe('a reader that exits early', () => {
  it('rclip distance into a closed pipe stops quietly with 141 (128 + SIGPIPE, as the shell reports for other tools), no stack trace', async () => {
    for (const args of [['distance', sunset, meadow, '--json'], ['--version'], ['models', 'list']]) {
      const r = await withClosedStdout(args);
      expect(r.code, r.stderr).toBe(141);
      expect(r.stderr, args.join(' ')).not.toMatch(STACK_FRAME);
      expect(r.stderr).toBe('');
    }
  });
});

describe('rclip distance', () => {
  it('--json prints { model, distance, similarity } for the default model, equal to the Node engine', async () => {
    const r = await rclip('distance', sunset, shifted, '--json');
    expect(r.code).toBe(0);
    const out = json(r);
    expect(Object.keys(out).sort()).toEqual(['distance', 'model', 'similarity']);
    expect(out.model).toBe(index.default);
    expect(out.similarity).toBeCloseTo(1 - out.distance, 12);
    const engine = createNodeEngine();
    await engine.loadModel(index.default);
    expect(out.distance).toBe((await engine.distance(sunset, shifted, index.default)).distance);
  });

  // The browser runs onnxruntime-web; its wasm build runs in Node too. Same files, same decode: the
  // CLI must agree with it within 1e-3 (e2e/demo.spec.ts checks the page against this Node engine).
  it('agrees with onnxruntime-web (the browser runtime) within 1e-3 for both shipped models', async () => {
    ortWeb.env.wasm.numThreads = 1;
    const web = new Engine<string>({ ort: ortWeb, source: new DiskModelSource(models), chooseBackend: async () => ({ ep: 'wasm', reason: 'test', adapter: null, threads: 1 }), decode: decodeImageFile });
    const pairs = [[sunset, meadow]];
    if (existsSync(bapps)) pairs.push([path.join(bapps, 'ex_ref.png'), path.join(bapps, 'ex_p1.png')]);
    for (const id of [index.default, index.baseline]) {
      await web.loadModel(id);
      for (const [a, b] of pairs) {
        const cli = json(await rclip('distance', a, b, '--model', id, '--json'));
        expect(cli.model).toBe(id);
        expect(Math.abs(cli.distance - (await web.distance(a, b, id)).distance)).toBeLessThan(1e-3);
      }
    }
  });

  it('takes a model folder path as --model', async () => {
    const r = await rclip('distance', sunset, meadow, '--model', path.join(models, index.baseline), '--json');
    expect(r.code).toBe(0);
    expect(json(r).model).toBe(index.baseline);
    const byId = json(await rclip('distance', sunset, meadow, '--model', index.baseline, '--json'));
    expect(json(r).distance).toBe(byId.distance);
  });

  it('prints a readable line without --json', async () => {
    const r = await rclip('distance', sunset, meadow);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^\d\.\d{6} {2}\(similarity \d\.\d{6}, model /);
  });

  it('fails clearly on a missing file, an unreadable image and an unknown model', async () => {
    const missing = await rclip('distance', sunset, path.join(dir, 'nope.jpg'));
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('nope.jpg" does not exist');

    const text = await rclip('distance', sunset, path.join(dir, 'not-an-image.jpg'), '--json');
    expect(text.code).toBe(1);
    expect(json(text).error.code).toBe('IMAGE_UNSUPPORTED_FORMAT');
    expect(text.stderr).toContain('not a recognised image');

    const truncated = await rclip('distance', sunset, path.join(dir, 'truncated.jpg'));
    expect(truncated.code).toBe(1);
    expect(truncated.stderr).toContain('IMAGE_DECODE_FAILED');

    // An unknown id is bad usage (exit 2), named with the ids there are; a folder that does not exist fails like a missing file.
    const model = await rclip('distance', sunset, meadow, '--model', 'no-such-model');
    expect(model.code).toBe(2);
    expect(model.stderr).toContain('--model "no-such-model" is not a known model id');
    for (const m of index.models) expect(model.stderr).toContain(m.id);

    const folder = await rclip('distance', sunset, meadow, '--model', './no/such/folder');
    expect(folder.code).toBe(1);
    expect(folder.stderr).toContain('MODEL_NOT_FOUND');
  });

  it('refuses bad usage with exit 2 and the command help', async () => {
    const one = await rclip('distance', sunset);
    expect(one.code).toBe(2);
    expect(one.stderr).toContain('expected two images');
    const unknown = await rclip('distance', sunset, meadow, '--frobnicate');
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('--frobnicate');
  });
});

describe('rclip embed', () => {
  it('writes JSON lines { file, embedding } of unit length, consistent with rclip distance', async () => {
    const out = path.join(dir, 'e.jsonl');
    const r = await rclip('embed', sunset, meadow, '--out', out);
    expect(r.code).toBe(0);
    const rows = readFileSync(out, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(rows.map((x) => x.file)).toEqual([sunset, meadow]);
    for (const row of rows) expect(Math.hypot(...row.embedding)).toBeCloseTo(1, 5);
    const d = json(await rclip('distance', sunset, meadow, '--json')).distance;
    expect(cosineDistance(rows[0].embedding, rows[1].embedding)).toBeCloseTo(d, 6);
  });

  it('writes .npy float32 [N, D] and a sidecar list of files for a folder', async () => {
    const out = path.join(dir, 'e.npy');
    const r = await rclip('embed', path.join(dir, 'dupes'), '--out', out, '--model', index.baseline);
    expect(r.code).toBe(0);
    const files = JSON.parse(readFileSync(path.join(dir, 'e.files.json'), 'utf8'));
    expect(files.map((f: string) => path.basename(f))).toEqual(['a-small.jpg', 'a.jpg', 'b.jpg']);
    const bytes = readFileSync(out);
    expect(bytes.subarray(0, 6).toString('latin1')).toBe('\x93NUMPY');
    const headerLength = bytes.readUInt16LE(8);
    expect((10 + headerLength) % 64).toBe(0);
    const header = bytes.subarray(10, 10 + headerLength).toString('latin1');
    const manifest = JSON.parse(readFileSync(path.join(models, index.baseline, 'manifest.json'), 'utf8'));
    expect(header).toContain(`'descr': '<f4'`);
    expect(header).toContain(`'shape': (3, ${manifest.embeddingSize})`);
    const data = new Float32Array(bytes.buffer.slice(bytes.byteOffset + 10 + headerLength, bytes.byteOffset + bytes.byteLength));
    expect(data.length).toBe(3 * manifest.embeddingSize);
    expect(Math.hypot(...data.subarray(0, manifest.embeddingSize))).toBeCloseTo(1, 5);
  });

  it('takes a command line of hundreds of file names (onnxruntime-node crashed from ~25 KB of it)', async () => {
    // 160 links with 200-character names to one photo: a 33 KB command line, as a shell glob makes.
    const many = path.join(dir, 'many');
    mkdirSync(many, { recursive: true });
    const files = Array.from({ length: 160 }, (_, i) => path.join(many, `${String(i).padStart(3, '0')}-${'x'.repeat(196)}.jpg`));
    for (const f of files) if (!existsSync(f)) symlinkSync(sunset, f);
    expect(files.join(' ').length).toBeGreaterThan(32_000);
    const out = path.join(dir, 'many.jsonl');
    const r = await rclip('embed', ...files, '--out', out, '--json');
    expect(r.code).toBe(0);
    expect(json(r).images).toBe(files.length);
    const rows = readFileSync(out, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(rows.map((x) => x.file)).toEqual(files);
  });

  it('refuses an --out that is neither .jsonl nor .npy, and a folder without images', async () => {
    const r = await rclip('embed', sunset, '--out', path.join(dir, 'e.csv'));
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('.jsonl or .npy');
    const empty = path.join(dir, 'empty');
    mkdirSync(empty, { recursive: true });
    const none = await rclip('embed', empty, '--out', path.join(dir, 'x.jsonl'));
    expect(none.code).toBe(2);
    expect(none.stderr).toContain('holds no images');
  });
});

describe('rclip dedupe', () => {
  it('groups a photo with its re-encoded copy and leaves the other photo alone', async () => {
    // The robust default separates the two synthetic samples; the non-robust baseline puts them
    // 0.087 apart, under its calibrated 0.1, so for it only the copy's grouping is asserted.
    for (const model of [index.default, index.baseline]) {
      const r = await rclip('dedupe', path.join(dir, 'dupes'), '--model', model, '--json');
      expect(r.code).toBe(0);
      const out = json(r);
      expect(out.images).toBe(3);
      expect(out.groups).toHaveLength(1);
      const files = out.groups[0].files.map((f: string) => path.basename(f)).sort();
      if (model === index.default) expect(files).toEqual(['a-small.jpg', 'a.jpg']);
      else expect(files).toEqual(expect.arrayContaining(['a-small.jpg', 'a.jpg']));
      expect(out.groups[0].max_distance).toBeLessThanOrEqual(out.threshold);
    }
  });

  it('--threshold 2 puts everything in one group, --threshold 0 finds nothing', async () => {
    expect(json(await rclip('dedupe', path.join(dir, 'dupes'), '--threshold', '2', '--json')).groups[0].files).toHaveLength(3);
    const none = await rclip('dedupe', path.join(dir, 'dupes'), '--threshold', '0');
    expect(none.stdout).toContain('No near-duplicates');
    expect((await rclip('dedupe', path.join(dir, 'dupes'), '--threshold', 'lots')).code).toBe(2);
  });
});

describe('rclip dedupe and the model calibration', () => {
  it("without --threshold uses the model's calibration.dedupeThreshold; a model without calibration asks for --threshold", async () => {
    const manifest = JSON.parse(readFileSync(path.join(models, index.default, 'manifest.json'), 'utf8'));
    expect(json(await rclip('dedupe', path.join(dir, 'dupes'), '--json')).threshold).toBe(manifest.calibration.dedupeThreshold);
    const folder = path.join(dir, 'uncalibrated');
    cpSync(path.join(models, index.default), folder, { recursive: true });
    delete manifest.calibration;
    writeFileSync(path.join(folder, 'manifest.json'), JSON.stringify(manifest));
    const r = await rclip('dedupe', path.join(dir, 'dupes'), '--model', folder);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('no calibration');
    expect(json(await rclip('dedupe', path.join(dir, 'dupes'), '--model', folder, '--threshold', '0.1', '--json')).groups).toHaveLength(1);
  });
});

/** A 24-bit bottom-up BMP (BITMAPINFOHEADER, BI_RGB) of RGBA pixels, alpha dropped. */
function bmp24(width: number, height: number, rgba: Uint8Array): Buffer {
  const row = Math.ceil((width * 3) / 4) * 4;
  const out = Buffer.alloc(54 + row * height);
  out.write('BM', 0, 'latin1');
  out.writeUInt32LE(out.length, 2);
  out.writeUInt32LE(54, 10);
  out.writeUInt32LE(40, 14);
  out.writeInt32LE(width, 18);
  out.writeInt32LE(height, 22);
  out.writeUInt16LE(1, 26);
  out.writeUInt16LE(24, 28);
  out.writeUInt32LE(row * height, 34);
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++) {
      const src = ((height - 1 - y) * width + x) * 4;
      const dst = 54 + y * row + x * 3;
      out[dst] = rgba[src + 2];
      out[dst + 1] = rgba[src + 1];
      out[dst + 2] = rgba[src];
    }
  return out;
}

describe('BMP in Node', () => {
  it('a BMP decodes to the same pixels as a PNG of them, so rclip gives the same distance', async () => {
    const { data, info } = await sharp(shifted).ensureAlpha().raw().toBuffer({ resolveWithObject: true });
    const bmpFile = path.join(dir, 'shifted.bmp');
    const pngFile = path.join(dir, 'shifted.png');
    writeFileSync(bmpFile, bmp24(info.width, info.height, data));
    await sharp(data, { raw: { width: info.width, height: info.height, channels: 4 } }).png().toFile(pngFile);
    const decoded = await decodeImageFile(bmpFile);
    expect({ width: decoded.width, height: decoded.height }).toEqual({ width: info.width, height: info.height });
    expect(Buffer.from(decoded.data).equals(Buffer.from(data))).toBe(true);
    const viaBmp = json(await rclip('distance', sunset, bmpFile, '--json'));
    const viaPng = json(await rclip('distance', sunset, pngFile, '--json'));
    expect(viaBmp.distance).toBe(viaPng.distance);
  });
});

describe('rclip eval', () => {
  it('clean: { model, n, clean_accuracy, robust_accuracy: null, attack, per_kind }', async () => {
    const r = await rclip('eval', '--images', path.join(dir, 'eval'), '--json');
    expect(r.code).toBe(0);
    const out = json(r);
    expect(out.model).toBe(index.default);
    expect(out.images).toBe(2);
    expect(out.n).toBe(12);
    expect(out.robust_accuracy).toBeNull();
    expect(out.attack).toEqual({ method: 'none' });
    expect(out.clean_accuracy).toBeGreaterThanOrEqual(0);
    expect(out.clean_accuracy).toBeLessThanOrEqual(1);
    expect(Object.keys(out.per_kind)).toEqual(['blur', 'jpeg', 'noise', 'colour', 'geometric', 'augmented']);
    expect(out.per_kind.blur.n).toBe(2);
  });

  it('PGD L2 on the reference: robust ≤ clean, the attack settings reported, the same twice', async () => {
    const args = ['eval', '--images', path.join(dir, 'eval'), '--model', index.baseline, '--attack', 'pgd', '--norm', 'l2', '--eps', '1/2', '--steps', '3', '--seed', '3', '--json'];
    const out = json(await rclip(...args));
    expect(out.attack).toMatchObject({ method: 'pgd', norm: 'l2', eps: 0.5, steps: 3, seed: 3, target: 'reference' });
    expect(out.attack.step_size).toBeCloseTo((2.5 * 0.5) / 3, 12);
    expect(out.robust_accuracy).toBeLessThanOrEqual(out.clean_accuracy);
    for (const k of Object.keys(out.per_kind)) expect(out.per_kind[k].robust_accuracy).toBeLessThanOrEqual(out.per_kind[k].clean_accuracy);
    expect(json(await rclip(...args))).toEqual(out);
  });

  it('--attack apgd: 100 iterations unless --steps, a first step of 2·eps, --restarts reported; robust ≤ clean', async () => {
    const out = json(await rclip('eval', '--images', path.join(dir, 'eval'), '--model', index.default, '--attack', 'apgd', '--steps', '4', '--restarts', '2', '--json'));
    expect(out.attack).toMatchObject({ method: 'apgd', norm: 'linf', steps: 4, restarts: 2, target: 'reference' });
    expect(out.attack.step_size).toBeCloseTo(8 / 255, 12);
    expect(out.robust_accuracy).toBeLessThanOrEqual(out.clean_accuracy);
    expect((await rclip('eval', '--help')).stdout).toContain('100 for apgd');
  });

  it('--limit on the real evaluation split (skipped without ../shared/data/imagenet-sample)', async (ctx) => {
    const images = path.resolve(root, '../shared/data/imagenet-sample');
    if (!existsSync(images)) ctx.skip();
    const r = await rclip('eval', '--images', images, '--limit', '2', '--attack', 'fgsm', '--json');
    expect(r.code).toBe(0);
    expect(json(r)).toMatchObject({ images: 2, n: 12, attack: { method: 'fgsm', norm: 'linf', steps: 1 } });
  });

  it('refuses bad options clearly', async () => {
    expect((await rclip('eval')).stderr).toContain('--images is required');
    const norm = await rclip('eval', '--images', path.join(dir, 'eval'), '--attack', 'pgd', '--norm', 'l3');
    expect(norm.code).toBe(2);
    expect(norm.stderr).toContain('--norm must be one of linf, l2');
    const eps = await rclip('eval', '--images', path.join(dir, 'eval'), '--eps', '4/255');
    expect(eps.code).toBe(2);
    expect(eps.stderr).toContain('only mean');
    const method = await rclip('eval', '--images', path.join(dir, 'eval'), '--attack', 'apgd2');
    expect(method.code).toBe(2);
    expect(method.stderr).toContain('--attack must be one of none, fgsm, pgd, apgd');
    const restarts = await rclip('eval', '--images', path.join(dir, 'eval'), '--attack', 'pgd', '--restarts', '3');
    expect(restarts.code).toBe(2);
    expect(restarts.stderr).toContain('--restarts only means something with apgd');
    const missing = await rclip('eval', '--images', path.join(dir, 'nowhere'));
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('does not exist');
  });
});
