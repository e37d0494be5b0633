/**
 * WordNet 3.0 nouns as the semantic ground truth of the benchmark suite (docs/benchmark-suite.md):
 * a parser for `data.noun` (Debian's wordnet-base, /usr/share/wordnet/data.noun) that keeps each
 * synset's hypernyms, depths in the hypernym graph, the deepest common hypernym of two synsets, and
 * the seeded semantic triplets built from it. Pure: the caller reads the file.
 *
 * ImageNet class ids ("n01440764") are WordNet 3.0 noun offsets with an "n" in front.
 */
import { hashSeed, seededRandom } from './random';

export interface Synset {
  /** The 8-digit offset, e.g. "01440764". */
  offset: string;
  words: string[];
  /** Offsets of the hypernyms: pointers "@" (hypernym) and "@i" (instance hypernym) to nouns. */
  hypernyms: string[];
}

export type Taxonomy = Map<string, Synset>;

/** The root of every noun hierarchy in WordNet 3.0: "entity", depth 0. */
export const ENTITY = '00001740';

/**
 * Parses data.noun (or any excerpt of its lines): `offset lex_filenum ss_type w_cnt word lex_id ...
 * p_cnt [pointer_symbol offset pos source/target]... | gloss`. Licence header lines (they start with
 * spaces) and blank lines are skipped.
 */
export function parseWordNetNouns(text: string): Taxonomy {
  const out: Taxonomy = new Map();
  for (const line of text.split('\n')) {
    if (!/^\d{8} /.test(line)) continue;
    const fields = line.slice(0, line.indexOf(' | ') >= 0 ? line.indexOf(' | ') : line.length).trim().split(/\s+/);
    const offset = fields[0];
    const wordCount = parseInt(fields[3], 16);
    const words = Array.from({ length: wordCount }, (_, i) => fields[4 + 2 * i]);
    let at = 4 + 2 * wordCount;
    const pointerCount = parseInt(fields[at++], 10);
    const hypernyms: string[] = [];
    for (let p = 0; p < pointerCount; p++, at += 4) {
      const [symbol, target, pos] = [fields[at], fields[at + 1], fields[at + 2]];
      if ((symbol === '@' || symbol === '@i') && pos === 'n') hypernyms.push(target);
    }
    out.set(offset, { offset, words, hypernyms });
  }
  return out;
}

/** "n01440764_tench.JPEG" → "01440764"; null when the name does not start with a WordNet noun id. */
export function wnidOffset(name: string): string | null {
  const m = /^n(\d{8})/.exec(name);
  return m ? m[1] : null;
}

/**
 * Every hypernym ancestor of a synset (itself included), each with its depth: the length of the
 * shortest hypernym path from it up to "entity" (entity = 0). Throws on a synset missing from the
 * taxonomy, so a truncated data.noun cannot pass for a shallow hierarchy.
 */
export function ancestorDepths(taxonomy: Taxonomy, offset: string): Map<string, number> {
  const up = new Set<string>();
  const stack = [offset];
  while (stack.length) {
    const s = stack.pop()!;
    if (up.has(s)) continue;
    const synset = taxonomy.get(s);
    if (!synset) throw new Error(`WordNet synset ${s} is not in the taxonomy (is data.noun complete?).`);
    up.add(s);
    stack.push(...synset.hypernyms);
  }
  const depth = new Map<string, number>();
  const visit = (s: string): number => {
    const known = depth.get(s);
    if (known !== undefined) return known;
    const hypernyms = taxonomy.get(s)!.hypernyms;
    const d = hypernyms.length === 0 ? 0 : 1 + Math.min(...hypernyms.map(visit));
    depth.set(s, d);
    return d;
  };
  for (const s of up) visit(s);
  return depth;
}

export interface CommonHypernym {
  offset: string;
  depth: number;
}

/** The deepest common hypernym of two synsets (the lowest common subsumer); ties go to the smaller offset. */
export function deepestCommonHypernym(taxonomy: Taxonomy, a: string, b: string, cache?: Map<string, Map<string, number>>): CommonHypernym {
  const get = (s: string) => {
    let d = cache?.get(s);
    if (!d) {
      d = ancestorDepths(taxonomy, s);
      cache?.set(s, d);
    }
    return d;
  };
  const da = get(a);
  const db = get(b);
  let best: CommonHypernym = { offset: ENTITY, depth: -1 };
  for (const [s, d] of da) {
    if (!db.has(s)) continue;
    if (d > best.depth || (d === best.depth && s < best.offset)) best = { offset: s, depth: d };
  }
  if (best.depth < 0) throw new Error(`Synsets ${a} and ${b} share no hypernym.`);
  return best;
}

/**
 * The suite's thresholds on the depth of the deepest common hypernym (entity = 0, physical entity 1,
 * object 2, whole 3, living thing / artifact 4, ...). Related: at least 9, i.e. two birds ("bird", 9),
 * two reptiles, two fish ("fish", 10), two dogs, two cyprinids (tench and goldfish meet at "cyprinid",
 * depth 15); a frog and a ray that only meet at "vertebrate" (8) are not. Unrelated: at most 3, i.e.
 * they only meet at "whole" or above: tench vs analog clock meet at "whole" (3), a living thing vs an
 * artifact.
 */
export const SEMANTIC_DEPTHS = { minRelated: 9, maxUnrelated: 3 } as const;

export interface SemanticTriplet {
  /** Image names (file names in the folder). */
  ref: string;
  related: string;
  unrelated: string;
  relatedHypernym: CommonHypernym;
  unrelatedHypernym: CommonHypernym;
}

export interface SemanticRule {
  minRelated: number;
  maxUnrelated: number;
  /** Related photos per reference, most closely related first. */
  perReference: number;
}

/**
 * The thresholds and how many related photos each reference is paired with (its most closely related
 * ones, one triplet each). Over the 160 evaluation photos, 72 references have a related photo; 4 a
 * reference gives 260 triplets, where all related pairs would give 1,456, 87 % of them mammal pairs
 * (the 36 mammals are each related to all 35 others). The cap bounds each reference's weight, so the
 * mix follows the references (half of them mammals) rather than the pairs within a large family.
 */
export const SEMANTIC_RULE: SemanticRule = { ...SEMANTIC_DEPTHS, perReference: 4 };

/**
 * Up to `perReference` triplets per reference photo: its related photos are the candidates of other
 * classes whose deepest common hypernym with it is at least minRelated deep, the deepest first (ties
 * in the order of a hash of seed|ref|candidate); each triplet's unrelated photo is drawn among the
 * candidates that meet the reference only at depth maxUnrelated or above, from the triplet's own
 * stream (seed|ref|related|semantic). Nothing depends on the order of `refs` or `candidates` or on
 * how many references are taken. Triplets come per reference, its related photos in that order.
 */
export function semanticTriplets(taxonomy: Taxonomy, refs: readonly string[], candidates: readonly string[], seed: number, rule: SemanticRule = SEMANTIC_RULE): SemanticTriplet[] {
  const cache = new Map<string, Map<string, number>>();
  const offsetOf = (name: string) => {
    const o = wnidOffset(name);
    if (!o) throw new Error(`"${name}" does not start with a WordNet noun id (n########).`);
    return o;
  };
  const sortedCandidates = [...new Set(candidates)].sort();
  const out: SemanticTriplet[] = [];
  for (const ref of refs) {
    const scored = sortedCandidates.filter((c) => offsetOf(c) !== offsetOf(ref)).map((c) => ({ name: c, common: deepestCommonHypernym(taxonomy, offsetOf(ref), offsetOf(c), cache) }));
    const unrelatedPool = scored.filter((s) => s.common.depth <= rule.maxUnrelated);
    if (unrelatedPool.length === 0) continue;
    const tieKey = (name: string) => hashSeed(`${seed}|${ref}|${name}|semantic-related`);
    const related = scored
      .filter((s) => s.common.depth >= rule.minRelated)
      .sort((a, b) => b.common.depth - a.common.depth || tieKey(a.name) - tieKey(b.name) || (a.name < b.name ? -1 : 1))
      .slice(0, rule.perReference);
    for (const r of related) {
      const random = seededRandom(hashSeed(`${seed}|${ref}|${r.name}|semantic`));
      const unrelated = unrelatedPool[Math.floor(random() * unrelatedPool.length)];
      out.push({ ref, related: r.name, unrelated: unrelated.name, relatedHypernym: r.common, unrelatedHypernym: unrelated.common });
    }
  }
  return out;
}

/** The task's words for a rule (a result's definition: two runs are over the same items only if it matches). */
export function semanticDefinition(rule: SemanticRule = SEMANTIC_RULE): string {
  return `reference vs each of its up to ${rule.perReference} most related photos (deepest common WordNet hypernym ≥ ${rule.minRelated}, deepest first), one triplet each with its own unrelated photo (≤ ${rule.maxUnrelated})`;
}
