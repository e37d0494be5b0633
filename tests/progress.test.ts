/** The CLI's progress lines (src/cli/progress.ts): what a user reads on stderr during a long run. */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createProgress } from '../src/cli/progress';

const stream = () => {
  const lines: string[] = [];
  return { lines, stream: { isTTY: false, write: (s: string) => lines.push(s) } as unknown as NodeJS.WriteStream };
};

afterEach(() => vi.useRealTimers());

describe('createProgress', () => {
  it('estimates the time left from the rate after the first item, which pays the warm-up', () => {
    vi.useFakeTimers();
    const { lines, stream: out } = stream();
    const progress = createProgress('embedding', 100, out);
    vi.advanceTimersByTime(10_000); // the model's warm-up: 10 s for the first item
    progress.tick(1);
    vi.advanceTimersByTime(1_000); // then 10 items a second
    progress.tick(11);
    vi.advanceTimersByTime(1_000);
    progress.tick(21);
    expect(lines).toEqual(['embedding: 1/100\n', 'embedding: 11/100 eta 9s\n', 'embedding: 21/100 eta 8s\n']);
  });

  it('writes one line per tenth off a terminal, and no estimate on the last', () => {
    const { lines, stream: out } = stream();
    const progress = createProgress('indexing', 20, out);
    for (let done = 1; done <= 20; done++) progress.tick(done);
    expect(lines.length).toBe(11);
    expect(lines.at(-1)).toBe('indexing: 20/20\n');
  });
});
