import { embedFiles, type EmbeddedFiles, type OpenModel, type SkippedFile } from '../engine/node-model';

/**
 * Progress on stderr, never stdout (stdout carries results and --json). A bar redrawn in place on a
 * terminal; elsewhere (logs, CI, pipes) one line per tenth of the work, so logs stay short.
 */
export interface Progress {
  tick(done: number): void;
  /** An unreadable file, on a line of its own (a bar on a terminal is cleared first; the next tick redraws it). */
  skip(skipped: SkippedFile): void;
  end(): void;
}

/** One skipped file on one line, its path once: the decoders' messages already name the file. */
export const skippedLine = (s: SkippedFile) => `skipped [${s.code}]: ${s.message.includes(s.file) ? s.message : `"${s.file}": ${s.message}`}`;

export function createProgress(label: string, total: number, stream: NodeJS.WriteStream = process.stderr): Progress {
  const tty = Boolean(stream.isTTY);
  let lastTenth = -1;
  // The rate is measured from the first report on: the first item also pays the model's warm-up and
  // the decoders' start, which put the first estimate of an 800-photo run at 27 minutes for 30 seconds.
  let first: { at: number; done: number } | null = null;
  const eta = (done: number) => {
    first ??= { at: Date.now(), done };
    if (done <= first.done) return '';
    const seconds = ((Date.now() - first.at) / 1000 / (done - first.done)) * (total - done);
    return ` eta ${seconds < 60 ? `${seconds.toFixed(0)}s` : `${(seconds / 60).toFixed(1)}min`}`;
  };
  return {
    tick(done) {
      if (total <= 0) return;
      if (tty) {
        const width = 30;
        const filled = Math.round((done / total) * width);
        stream.write(`\r${label} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done}/${total}${eta(done)}\x1b[K`);
        return;
      }
      const tenth = Math.floor((done / total) * 10);
      if (tenth > lastTenth) {
        lastTenth = tenth;
        stream.write(`${label}: ${done}/${total}${done < total ? eta(done) : ''}\n`);
      }
    },
    skip(skipped) {
      stream.write(`${tty ? '\r\x1b[K' : ''}${label}: ${skippedLine(skipped)}\n`);
    },
    end() {
      if (tty && total > 0) stream.write(`\r\x1b[K`);
    },
  };
}

/** embedFiles with a progress bar and each skipped file reported on stderr as it happens: what every folder command runs. */
export async function embedWithProgress(model: OpenModel, files: readonly string[], label: string, strict: boolean): Promise<EmbeddedFiles> {
  const progress = createProgress(label, files.length);
  try {
    return await embedFiles(model, files, { strict, onDone: (done) => progress.tick(done), onSkip: (s) => progress.skip(s) });
  } finally {
    progress.end();
  }
}
