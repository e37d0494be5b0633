/**
 * Progress on stderr, never stdout (stdout carries results and --json). A bar redrawn in place on a
 * terminal; elsewhere (logs, CI, pipes) one line per tenth of the work, so logs stay short.
 */
export interface Progress {
  tick(done: number): void;
  end(): void;
}

export function createProgress(label: string, total: number, stream: NodeJS.WriteStream = process.stderr): Progress {
  const start = Date.now();
  const tty = Boolean(stream.isTTY);
  let lastTenth = -1;
  const eta = (done: number) => {
    if (done === 0) return '';
    const seconds = ((Date.now() - start) / 1000 / done) * (total - done);
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
    end() {
      if (tty && total > 0) stream.write(`\r\x1b[K`);
    },
  };
}
