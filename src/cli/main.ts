/**
 * `rclip`: the metric on the command line. Results go to stdout (one JSON object with --json),
 * progress and errors to stderr; the exit status is 0 on success, 1 on failure, 2 on bad usage, and
 * EXIT_SKIPPED (3) when a command finished but skipped unreadable input files (listed in its output).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { missingDependency, RclipError, toRclipError } from '../core/errors';
import { closeDecodePool } from '../engine/node-decode-pool';
import { COMMANDS, type Command, type Output } from './commands';

const USAGE = `rclip: a robust perceptual image metric (cosine distance of a FARE-fine-tuned encoder), on the CPU

Usage:
  rclip distance <a> <b> [--model ID] [--json]
  rclip embed <dir|files...> --out FILE [--model ID] [--strict] [--json]
  rclip embed - [--model ID] [--strict]        (paths on stdin, one JSON line out per path)
  rclip embed <dir> --store PATH [--shard I/N] [--model ID] [--strict] [--json]
  rclip dedupe <dir> [--threshold T] [--store PATH] [--exact|--index] [--model ID] [--strict] [--json]
  rclip match <images...> --against <dir> [--threshold T] [--store PATH] [--exact|--index] [--model ID] [--strict] [--json]
  rclip match --against <dir> - [--threshold T] [--model ID] [--strict]   (paths on stdin)
  rclip store merge <shard stores...> --out PATH | rclip store info <store>
  rclip attack <image> --out ADV.png [--target B] [--objective push|pull] [--method pgd|apgd|fgsm|square] [--eps 4/255]
               [--steps N] [--queries 1000] [--model ID] [--json]
  rclip eval --images DIR [--model ID] [--attack none|fgsm|pgd|apgd] [--norm linf|l2] [--eps 4/255]
             [--steps N] [--restarts R] [--limit N] [--seed S] [--strict] [--json]
  rclip models [list] [--json]                  (each model's id, role, input size, the radius it holds at)
  rclip models path | rclip models copy <dir>
  rclip --version

--model takes an id from the models' index.json ("rclip models path" prints where) or a path to a model folder; the default is the
index's default (robust) model. "rclip <command> --help" explains each command.

Exit status: 0 success; 1 failure (a path that does not exist included); 2 bad usage (an unknown
option, command or model id, a bad value, a file where a folder is wanted); 3 done, but some input
files could not be read and were skipped (each listed on stderr and, with --json, in "skipped":
[{ "file", "code", "message" }]); 141 stdout closed early (e.g. "| head"): the command stops quietly.
Folder commands take --strict to stop at the first unreadable file instead (exit 1).`;

/** "Done, some files skipped": stable, documented in USAGE and README.md. */
export const EXIT_SKIPPED = 3;

/** 128 + SIGPIPE: what the shell reports for a Unix tool whose reader went away (`yes | head -1`). */
export const EXIT_PIPE_CLOSED = 141;

/**
 * A reader that exits early (`rclip … | head -c1`) closes the pipe: the next write fails with EPIPE,
 * which Node raises as an unhandled 'error' event (a stack trace). Like other Unix tools, rclip stops
 * there, quietly: nothing more can be delivered, and a streaming command would otherwise go on embedding.
 */
function stopOnClosedPipe(stream: NodeJS.WriteStream): void {
  stream.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code !== 'EPIPE') throw err;
    process.exit(EXIT_PIPE_CLOSED);
  });
}

/** The version of the package rclip runs from: ../../package.json from src/cli/ (a checkout) and from dist/cli/ (installed). */
function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(path.resolve(import.meta.dirname, '../../package.json'), 'utf8')) as { name: string; version: string };
  return `${pkg.name} ${pkg.version}`;
}

class UsageError extends Error {}

function parse(command: Command, argv: string[]) {
  try {
    return parseArgs({ args: argv, options: { ...command.options, help: { type: 'boolean', short: 'h' } }, allowPositionals: true, strict: true } as ParseArgsConfig);
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}

function print(out: Output, json: boolean) {
  process.stdout.write(json ? `${JSON.stringify(out.json)}\n` : `${out.text}\n`);
}

export async function main(argv: string[]): Promise<number> {
  stopOnClosedPipe(process.stdout);
  stopOnClosedPipe(process.stderr);
  const [name, ...rest] = argv;
  if (name === '--version' || name === '-V') {
    process.stdout.write(`${packageVersion()}\n`);
    return 0;
  }
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    (name === undefined ? process.stderr : process.stdout).write(`${USAGE}\n`);
    return name === undefined ? 2 : 0;
  }
  const command = COMMANDS[name];
  if (!command) {
    process.stderr.write(`rclip: unknown command "${name}".\n\n${USAGE}\n`);
    return 2;
  }
  let json = rest.includes('--json');
  try {
    const { values, positionals } = parse(command, rest);
    if (values.help) {
      process.stdout.write(`${command.help}\n`);
      return 0;
    }
    json = Boolean(values.json);
    const out = await command.run(values as Record<string, string | boolean | undefined>, positionals);
    if (!out.streamed) print(out, json);
    if (out.skipped) {
      process.stderr.write(`rclip ${name}: ${out.skipped} file(s) could not be read and were skipped (exit status ${EXIT_SKIPPED}).\n`);
      return EXIT_SKIPPED;
    }
    return 0;
  } catch (err) {
    if (err instanceof UsageError || (err instanceof RclipError && err.code === 'INVALID_ARGUMENT')) {
      process.stderr.write(`rclip ${name}: ${err.message}\n\n${command.help}\n`);
      if (json) process.stdout.write(`${JSON.stringify({ error: { code: 'INVALID_ARGUMENT', message: err.message } })}\n`);
      return 2;
    }
    // onnxruntime-node, sharp and bmp-ts are optional dependencies: a missing one is named, with how to install it.
    const e = missingDependency(err) ?? toRclipError(err);
    process.stderr.write(`rclip ${name}: error [${e.code}]: ${e.message}\n`);
    if (json) process.stdout.write(`${JSON.stringify({ error: { code: e.code, message: e.message } })}\n`);
    return 1;
  } finally {
    await closeDecodePool();
  }
}
