/**
 * The long-lived pipeline mode (`rclip embed -`, `rclip match --against DIR -`): paths in on stdin,
 * one per line; one JSON line out per input, errors included, so a caller pays the start-up
 * (~2 s: onnxruntime-node, the model) once and streams as many images as it likes.
 */
import { createInterface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import { embedEach, type OpenModel, type SkippedFile } from '../engine/node-model';
import { skippedLine } from './progress';

/** The lines of `input` (stdin by default) as they arrive: a trailing \r dropped, blank lines skipped. */
export async function* readLines(input: Readable = process.stdin): AsyncGenerator<string> {
  const lines = createInterface({ input, crlfDelay: Infinity, terminal: false });
  for await (const line of lines) {
    if (line.trim() !== '') yield line;
  }
}

/** One JSON value as one line; waits while `output` is backed up, so a slow reader never makes rclip buffer everything. */
export async function writeJsonLine(value: unknown, output: Writable = process.stdout): Promise<void> {
  if (!output.write(`${JSON.stringify(value)}\n`)) await new Promise<void>((resolve) => output.once('drain', resolve));
}

/**
 * The stdin loop: each path read from stdin is embedded (in input order, several in flight) and
 * answered on stdout with `answer(file, embedding)` as one JSON line, or, unreadable, with
 * { file, error: { code, message } } (also on stderr, and the loop goes on; with `strict` it ends).
 * Returns the files skipped.
 */
export async function answerStdinPaths(model: OpenModel, label: string, strict: boolean, answer: (file: string, embedding: Float32Array) => unknown): Promise<SkippedFile[]> {
  const skipped: SkippedFile[] = [];
  for await (const outcome of embedEach(model, readLines(), { strict })) {
    if (outcome.skipped) {
      const { file, code, message } = outcome.skipped;
      skipped.push(outcome.skipped);
      process.stderr.write(`${label}: ${skippedLine(outcome.skipped)}\n`);
      await writeJsonLine({ file, error: { code, message } });
    } else await writeJsonLine(answer(outcome.file, outcome.embedding));
  }
  return skipped;
}
