/**
 * Images/s of a piece of work over a list of files, and the pieces `rclip embed` is measured by:
 * sharp's decode (the CLI's decodeImageFile) with K files in flight, and `rclip embed` itself as a
 * new process. Shared by bench/embed-throughput.ts and bench/model-budget.ts.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';

export interface RateSample {
  imagesPerSecond: number;
  /** CPU of every thread of this process (or, for a new process, of that child), per image; null off Linux for a child. */
  cpuMsPerImage: number | null;
}

/** CPU ms of this process's waited-for children (user + system, every thread), or null off Linux. */
const TICKS = existsSync('/proc/self/stat') ? Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' })) : 0;
function childrenCpuMs(): number | null {
  if (!TICKS) return null;
  const fields = readFileSync('/proc/self/stat', 'utf8').split(') ')[1].split(' ');
  // Fields 16 and 17 of proc(5), cutime and cstime; fields[0] is field 3.
  return ((Number(fields[13]) + Number(fields[14])) * 1000) / TICKS;
}

/** `newProcess`: the work is a child process; its CPU is counted, not this process's. */
export async function measureRate(images: number, work: () => Promise<unknown>, newProcess: boolean): Promise<RateSample> {
  const cpu0 = process.cpuUsage();
  const children0 = childrenCpuMs();
  const t0 = performance.now();
  await work();
  const seconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const children = childrenCpuMs();
  const cpuMs = newProcess ? (children === null || children0 === null ? null : children - children0) : (cpu.user + cpu.system) / 1000;
  return { imagesPerSecond: images / seconds, cpuMsPerImage: cpuMs === null ? null : cpuMs / images };
}

/** Runs `each` over `files` with `k` in flight. */
export async function inFlight(files: readonly string[], k: number, each: (file: string) => Promise<unknown>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: k }, async () => {
      while (next < files.length) await each(files[next++]);
    }),
  );
}

/** What `rclip embed --json` prints. */
export interface RclipEmbedPrinted {
  model: string;
  images: number;
}

/**
 * `rclip embed DIR --out NPY --json [--model M]` as a new process: `command` and `args` start the CLI
 * (node bin/rclip.mjs, or an installed bin); `model` is an id or a model folder.
 */
export function runRclipEmbed(command: string, args: string[], images: string, out: string, model?: string, options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): RclipEmbedPrinted {
  const stdout = execFileSync(command, [...args, 'embed', images, '--out', out, '--json', ...(model ? ['--model', model] : [])], {
    ...options,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  return JSON.parse(stdout);
}
