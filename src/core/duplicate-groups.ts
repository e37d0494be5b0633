/** Near-duplicate groups from the edges "distance ≤ threshold", whichever search found them (exact or an index). */
export interface DuplicateGroup {
  files: string[];
  /** The largest distance between two linked members (a chain can span more than T end to end). */
  max_distance: number;
}

export type Edge = [i: number, j: number, distance: number];

/** Connected components by union–find; groups of one are dropped. Groups come in order of their first member. */
export function groupsFromEdges(files: readonly string[], edges: Iterable<Edge>): DuplicateGroup[] {
  const parent = files.map((_, i) => i);
  const find = (i: number): number => {
    while (parent[i] !== i) i = parent[i] = parent[parent[i]];
    return i;
  };
  const kept: Edge[] = [];
  for (const e of edges) {
    kept.push(e);
    const a = find(e[0]);
    const b = find(e[1]);
    if (a !== b) parent[Math.max(a, b)] = Math.min(a, b);
  }
  const linkMax = new Map<number, number>();
  for (const [i, , d] of kept) linkMax.set(find(i), Math.max(linkMax.get(find(i)) ?? 0, d));
  const members = new Map<number, string[]>();
  files.forEach((f, i) => {
    if (!linkMax.has(find(i))) return;
    const list = members.get(find(i));
    if (list) list.push(f);
    else members.set(find(i), [f]);
  });
  return [...members.entries()].map(([root, fs]) => ({ files: fs, max_distance: linkMax.get(root)! }));
}
