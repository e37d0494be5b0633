/**
 * The long-lived pipeline mode (`rclip embed -`, and `rclip match --against DIR -` to come): paths
 * in on stdin, one per line; one JSON line out per input, errors included, so a caller pays the
 * start-up (~2 s: onnxruntime-node, the model) once and streams as many images as it likes.
 */
import { createInterface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';

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

/** What a failed input's line carries. */
export const errorLine = (file: string, code: string, message: string) => ({ file, error: { code, message } });
