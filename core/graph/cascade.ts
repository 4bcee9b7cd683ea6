import { compareText } from './compare';
import { DependencyGraph, EdgeKind, KIND_RANK } from './graph';

export interface CascadeOptions {
  /** Dependents of dependents too (default false: only direct dependents). */
  transitive?: boolean;
  /**
   * Edge kinds that make a dependent stale. Default build and run: a library's ABI reaches its users through
   * both (run-time soname dependencies are what a package links against); a check-only dependency changes no
   * output, so it is left out unless asked for.
   */
  kinds?: readonly EdgeKind[];
}

export interface CascadeEntry {
  id: string;
  /** 1 for a direct dependent of a changed recipe, 2 for a dependent of that, … */
  depth: number;
  /** The changed recipe it was first reached from (breadth-first, visiting in id order). */
  cause: string;
}

/**
 * Reverse-dependency rebuild cascade: which recipes must be rebuilt because `changed` ones changed. Changed
 * recipes themselves are never listed (they are rebuilt anyway); ids not in the graph come back in `unknown`.
 * Sorted by depth, then id. Cuts of bootstrap plans do not matter here: a cut edge is still a real dependency.
 */
export function rebuildCascade(
  graph: DependencyGraph,
  changed: readonly string[],
  options: CascadeOptions = {},
): { rebuild: CascadeEntry[]; unknown: string[] } {
  const kinds = new Set((options.kinds ?? ['build', 'run']).map((k) => KIND_RANK[k]));
  const unknown: string[] = [];
  const starts: number[] = [];
  for (const id of [...new Set(changed)].sort(compareText)) {
    const index = graph.indexOf.get(id);
    if (index === undefined) unknown.push(id);
    else starts.push(index);
  }
  const depth = new Int32Array(graph.nodes.length).fill(-1);
  const cause = new Int32Array(graph.nodes.length).fill(-1);
  for (const s of starts) {
    depth[s] = 0;
    cause[s] = s;
  }
  // Breadth-first, so each recipe gets its smallest depth; the frontier stays sorted by index for determinism.
  let frontier = starts;
  for (let level = 1; frontier.length > 0 && (level === 1 || options.transitive); level++) {
    const next: number[] = [];
    for (const v of frontier) {
      for (let j = graph.outOffsets[v]; j < graph.outOffsets[v + 1]; j++) {
        const e = graph.outEdges[j];
        if (!kinds.has(graph.edgeRank[e])) continue;
        const w = graph.edgeTo[e];
        if (depth[w] !== -1) continue;
        depth[w] = level;
        cause[w] = cause[v];
        next.push(w);
      }
    }
    frontier = next.sort((a, b) => a - b);
  }
  const rebuild: CascadeEntry[] = [];
  for (let v = 0; v < graph.nodes.length; v++) {
    if (depth[v] > 0) rebuild.push({ id: graph.nodes[v], depth: depth[v], cause: graph.nodes[cause[v]] });
  }
  rebuild.sort((a, b) => a.depth - b.depth || compareText(a.id, b.id));
  return { rebuild, unknown };
}
