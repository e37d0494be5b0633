/**
 * The suite's 95 % intervals (src/core/suite.ts scoreInterval, taskScore) and its committed results:
 * every version 2 result still re-renders to its own table, and renders with intervals from its counts.
 */
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { figureInterval, suiteTables, SUITE_VERSION, type SuiteJson } from '../bench/suite/report';
import { wilsonInterval } from '../src/core/agreement-stats';
import { scoreInterval, taskScore } from '../src/core/suite';
import { semanticDefinition } from '../src/core/wordnet';

const RESULTS = path.resolve(__dirname, '../bench/results');

/** n scores, the first `right` of them 1, the rest 0. */
const scores = (right: number, n: number) => Array.from({ length: n }, (_, i) => (i < right ? 1 : 0));

describe('intervals', () => {
  it("Wilson's interval for 45 of 50 is 78.6–95.7 %; independent items (one a cluster) get exactly it", () => {
    const w = wilsonInterval(45, 50);
    expect(w.low).toBeCloseTo(0.7864, 4);
    expect(w.high).toBeCloseTo(0.9565, 4);
    const keys = Array.from({ length: 50 }, (_, i) => `photo${i}`);
    expect(scoreInterval(scores(45, 50), keys, 0)).toEqual({ ...w, method: 'wilson' });
    // 0 of 20 and 20 of 20 stay inside [0, 1] and away from a point.
    expect(scoreInterval(scores(0, 20), keys.slice(0, 20), 0)).toMatchObject({ low: 0, method: 'wilson' });
    expect(scoreInterval(scores(0, 20), keys.slice(0, 20), 0).high).toBeCloseTo(0.1611, 4);
    expect(scoreInterval(scores(20, 20), keys.slice(0, 20), 0).low).toBeCloseTo(0.8389, 4);
  });

  it('items that come in clusters of identical outcomes count as one item a cluster; clusters of mixed outcomes as more', () => {
    // 50 references, 4 triplets each, all 4 right or all 4 wrong: the information of 50 items, not 200.
    const refs = Array.from({ length: 50 }, (_, i) => `ref${i}`);
    const copies = refs.flatMap((r) => [r, r, r, r]);
    const copied = scores(45, 50).flatMap((s) => [s, s, s, s]);
    const clustered = scoreInterval(copied, copies, 0);
    expect(clustered).toMatchObject({ method: 'wilson-clustered', clusters: 50 });
    expect(clustered.n_eff!).toBeGreaterThan(40);
    expect(clustered.n_eff!).toBeLessThan(60);
    const wilson50 = wilsonInterval(45, 50);
    expect(clustered.low).toBeCloseTo(wilson50.low, 1);
    expect(clustered.high).toBeCloseTo(wilson50.high, 1);
    // Far wider than Wilson over 200 items taken as independent.
    const naive = wilsonInterval(180, 200);
    expect(clustered.high - clustered.low).toBeGreaterThan(1.5 * (naive.high - naive.low));
    // Outcomes that vary within clusters as much as across them: no design effect, Wilson over all 200.
    const mixed = scoreInterval(Array.from({ length: 200 }, (_, i) => (i % 10 === 0 ? 0 : 1)), copies, 0);
    expect(mixed.n_eff!).toBeGreaterThan(150);
    // Seeded: the same seed gives the same interval.
    expect(scoreInterval(copied, copies, 3)).toEqual(scoreInterval(copied, copies, 3));
    // Every item alike: the bootstrap sees no spread, so each cluster counts as one item.
    expect(scoreInterval(new Array(200).fill(1), copies, 0)).toMatchObject({ n_eff: 50, clusters: 50, high: 1 });
    expect(scoreInterval(new Array(200).fill(1), copies, 0).low).toBeCloseTo(wilsonInterval(50, 50).low, 10);
  });

  it('taskScore gives clean, clean-on-attacked and robust their intervals (the attacked subset: the first items)', () => {
    const clean = [1, 1, 0, 1, 1, 1, 0, 1];
    const s = taskScore(clean, [1, 0, 1, 1], false);
    expect(s).toMatchObject({ n: 8, clean: 0.75, attacked_n: 4, clean_on_attacked: 0.75, robust: 0.5 });
    expect(s.ci95!.clean).toEqual({ ...wilsonInterval(6, 8), method: 'wilson' });
    expect(s.ci95!.clean_on_attacked).toEqual({ ...wilsonInterval(3, 4), method: 'wilson' });
    // robust counts the item wrong on clean images wrong (min(robust, clean)): 1, 0, 0, 1.
    expect(s.ci95!.robust).toEqual({ ...wilsonInterval(2, 4), method: 'wilson' });
    expect(taskScore(clean, [], false).ci95).toMatchObject({ clean_on_attacked: null, robust: null });
    expect(taskScore(clean, [1, 0, 1, 1], false, ['a', 'a', 'b', 'b', 'c', 'c', 'd', 'd'], 0).ci95!.clean.method).toBe('wilson-clustered');
  });
});

describe('committed results', () => {
  const files = readdirSync(RESULTS).filter((f) => /^suite-.*\.json$/.test(f));
  const read = (f: string) => JSON.parse(readFileSync(path.join(RESULTS, f), 'utf8')) as SuiteJson;
  // suite-quick.json is a version 2 result from before Square joined the suite (no `square`): its table is the
  // renderer of that time's, kept as it was written.
  const beforeSquare = ['suite-quick.json'];
  const v2 = files.filter((f) => read(f).version === 2 && !beforeSquare.includes(f));

  it('every version 2 result re-renders to its own table (no intervals: they predate them)', () => {
    expect(v2.length).toBeGreaterThan(20);
    for (const f of v2) expect(suiteTables(read(f)), f).toBe(read(f).table);
    for (const f of beforeSquare) expect(read(f).square, f).toBeUndefined();
  });

  it('a version 2 result renders with Wilson intervals from its counts', () => {
    const json = read('suite-full-a9e43012.json');
    const s = json.tasks.find((t) => t.task === 'semantic' && t.attack === 'APGD-100')!.scores!['rclip-mnv2-robust'];
    expect(s).toMatchObject({ n: 72, attacked_n: 72 });
    const w = wilsonInterval(Math.round(s.robust! * 72), 72);
    expect(figureInterval(s, 'robust')).toEqual(w);
    const table = suiteTables(json, true);
    const pct = (x: number) => (100 * x).toFixed(1);
    expect(table).toContain(`${pct(s.clean_on_attacked!)} (${pct(figureInterval(s, 'clean_on_attacked')!.low)}–${pct(figureInterval(s, 'clean_on_attacked')!.high)}) → ${pct(s.robust!)} (${pct(w.low)}–${pct(w.high)})`);
    expect(table).toContain('95 % Wilson score intervals from the counts');
    for (const f of v2) expect(() => suiteTables(read(f), true), f).not.toThrow();
  });

  it(`version ${SUITE_VERSION} results render their stored intervals`, () => {
    const v3 = files.filter((f) => read(f).version === SUITE_VERSION);
    expect(v3.length).toBeGreaterThan(0);
    for (const f of v3) {
      const json = read(f);
      expect(suiteTables(json), f).toBe(json.table);
      for (const t of json.tasks.filter((r) => r.task === 'semantic')) expect(t.definition, f).toBe(semanticDefinition());
      for (const t of json.tasks) for (const s of Object.values(t.scores ?? {})) expect(s.ci95, `${f} ${t.task}`).toBeDefined();
    }
  });

  it("L2 results: each encoder attacked at the paper's 3.0 scaled by its input size / 224, with no Square", () => {
    const l2 = files.filter((f) => read(f).attacks?.[0]?.norm === 'l2');
    expect(l2).toContain('suite-full-mnv2-robust-l2.json');
    for (const f of l2) {
      const json = read(f);
      expect(json.square, f).toBeNull();
      for (const a of json.attacks) {
        expect(a, f).toMatchObject({ norm: 'l2', eps: 3, eps_input_size: 224 });
        for (const m of json.models) expect(a.by_model![m.id].eps, `${f} ${m.id}`).toBeCloseTo((3 * m.input_size) / 224, 12);
      }
      for (const t of json.tasks) expect(t.square, f).toBeUndefined();
      expect(json.table, f).toContain('(ε 3·size/224)');
    }
  });
});
