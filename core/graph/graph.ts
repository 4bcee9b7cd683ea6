import { compareText } from './compare';
import { ProviderIndex, providerKey } from './provider-index';
import { RecipeNode, nodeId } from './recipe';

/**
 * Why one recipe must come before another. `build`: a build dependency (builddeps); `run`: a run-time dependency
 * of an emitted package; `check`: needed only by the check step (the recipe's checkdeps). When several
 * dependencies link the same pair, the edge takes the strongest kind (build > run > check), because that is what
 * cutting it would cost.
 */
export type EdgeKind = 'build' | 'check' | 'run';

/**
 * Strength order used everywhere a kind is compared: cutting a weaker edge is cheaper, so a bootstrap plan cuts
 * check edges first (the first build only skips its test suite), then run edges (a package is published before
 * something it needs at run time, which breaks installing it into a later stage's build root until then), and
 * build edges last (the first build uses the old dependency or none).
 */
export const KIND_RANK: Readonly<Record<EdgeKind, number>> = { check: 0, run: 1, build: 2 };
export const KIND_BY_RANK: readonly EdgeKind[] = ['check', 'run', 'build'];

/** `from` provides something `to` needs: `from` is built first. */
export interface Edge {
  from: string;
  to: string;
  kind: EdgeKind;
  /** The first dependency string (of the edge's kind) that produced the edge, for humans. */
  via: string;
}

/** A dependency no node provides. `external`: a published index has it; `missing`: nobody has it. */
export interface Unresolved {
  dependency: string;
  status: 'external' | 'missing';
  /** Strongest kind among the nodes wanting it. */
  kind: EdgeKind;
  /** Node ids, sorted. */
  wantedBy: string[];
  /** Only for scoped graphs (variants, architectures). */
  scope?: string;
}

export interface BuildGraphOptions {
  /** Providers available from outside (e.g. a published index), to tell `external` from `missing`. */
  external?: ReadonlySet<string> | ((dependency: string) => boolean);
  /** Scopes a node of `scope` resolves from, in any order; default: its own scope only. */
  visibleScopes?: (scope: string) => readonly string[];
}

/**
 * A dependency graph over recipes (or tasks). Node `i` is `nodes[i]`, sorted by id so every result derived from
 * it is deterministic. Edges are also kept as parallel typed arrays and CSR adjacency lists because the order,
 * cycle and critical-path passes walk them millions of times on a distro-sized graph.
 */
export interface DependencyGraph {
  nodes: readonly string[];
  recipes: readonly RecipeNode[];
  indexOf: ReadonlyMap<string, number>;
  /** Sorted by (to, from); edge i is also edgeFrom[i] → edgeTo[i]. */
  readonly edges: readonly Edge[];
  edgeFrom: Int32Array;
  edgeTo: Int32Array;
  /** KIND_RANK of each edge. */
  edgeRank: Uint8Array;
  /** `via` of each edge. */
  edgeVia: readonly string[];
  /** Edges leaving node i: outEdges[outOffsets[i] .. outOffsets[i + 1]] (edge indices). */
  outOffsets: Int32Array;
  outEdges: Int32Array;
  /** Edges entering node i, same layout. */
  inOffsets: Int32Array;
  inEdges: Int32Array;
  unresolved: readonly Unresolved[];
  /** Providers offered by more than one node of a scope (every one of them gets an edge). Made on first use. */
  readonly ambiguous: ReadonlyArray<{ scope: string; provider: string; nodes: string[] }>;
}

export class GraphInputError extends Error {
  override readonly name = 'GraphInputError';
}

/** Resolve every dependency of every node to the nodes providing it. Self-provided dependencies are no edge. */
export function buildGraph(input: readonly RecipeNode[], options: BuildGraphOptions = {}): DependencyGraph {
  const recipes = [...input].sort((a, b) => compareText(nodeId(a), nodeId(b)));
  const nodes = recipes.map(nodeId);
  const indexOf = new Map<string, number>();
  nodes.forEach((id, i) => {
    if (indexOf.has(id)) throw new GraphInputError(`two recipes share the id "${id}"`);
    indexOf.set(id, i);
  });
  const providers = new ProviderIndex(recipes);
  const visible = options.visibleScopes ?? ((scope: string) => [scope]);
  const isExternal = toPredicate(options.external);

  const from: number[] = [];
  const to: number[] = [];
  const rank: number[] = [];
  const via: string[] = [];
  const unresolved = new Map<string, { dependency: string; scope: string; rank: number; wantedBy: Set<number> }>();

  // Per target: strongest kind per provider node and the first dependency of that kind that led there. Shared
  // scratch arrays (reset through `touched`) rather than a map per recipe: this loop runs 50,000 times at scale.
  const linkRank = new Int8Array(recipes.length).fill(-1);
  const linkVia: string[] = new Array(recipes.length);
  const touched: number[] = [];

  // Provider tables each scope resolves from, looked up once per scope rather than once per dependency.
  const tablesOf = new Map<string, ReadonlyArray<ReadonlyMap<string, readonly number[]>>>();
  const found: Array<readonly number[]> = [];

  recipes.forEach((recipe, target) => {
    const scope = recipe.scope ?? '';
    let tables = tablesOf.get(scope);
    if (!tables) tablesOf.set(scope, (tables = visible(scope).map((s) => providers.scope(s))));
    // Each dependency as it comes (no per-recipe map to merge repeats: that map cost more than the lookups it
    // saved). An edge keeps the strongest kind, and as via the first dependency of that kind.
    const check: ReadonlySet<string> = recipe.checkDepends?.length ? new Set(recipe.checkDepends) : NO_CHECKS;
    const visit = (dependency: string, depRank: number): void => {
      const key = providerKey(dependency);
      found.length = 0;
      let self = false;
      for (const table of tables) {
        const list = table.get(key);
        if (list === undefined) continue;
        found.push(list);
        if (list.length === 1 ? list[0] === target : list.includes(target)) self = true;
      }
      // A dependency the recipe satisfies itself (a -devel package of its own, a compiler bootstrapping from
      // its previous build) orders nothing: no edge, even if another recipe provides it too.
      if (self) return;
      for (const list of found) {
        for (const source of list) {
          if (linkRank[source] === -1) touched.push(source);
          if (depRank > linkRank[source]) {
            linkRank[source] = depRank;
            linkVia[source] = dependency;
          }
        }
      }
      if (found.length === 0) {
        const uKey = scope + '\u0000' + key;
        const entry = unresolved.get(uKey);
        if (!entry) unresolved.set(uKey, { dependency: key, scope, rank: depRank, wantedBy: new Set([target]) });
        else {
          entry.wantedBy.add(target);
          if (depRank > entry.rank) entry.rank = depRank;
        }
      }
    };
    // Manifests repeat the build dependencies on every package of a recipe: a list equal to the previous
    // package's adds nothing.
    let previous: readonly string[] | undefined;
    for (const pkg of recipe.packages) {
      const build = pkg.buildDepends;
      if (!sameList(build, previous)) for (const d of build) visit(d, check.has(d) ? KIND_RANK.check : KIND_RANK.build);
      previous = build;
      for (const d of pkg.depends) visit(d, KIND_RANK.run);
    }
    for (const d of check) visit(d, KIND_RANK.check);
    // Insertion sort: a recipe links a handful of sources, and a comparator sort per recipe showed in profiles.
    if (touched.length > 32) touched.sort((a, b) => a - b);
    for (let i = 1; i < touched.length; i++) {
      const x = touched[i];
      let j = i - 1;
      for (; j >= 0 && touched[j] > x; j--) touched[j + 1] = touched[j];
      touched[j + 1] = x;
    }
    for (const source of touched) {
      from.push(source);
      to.push(target);
      rank.push(linkRank[source]);
      via.push(linkVia[source]);
      linkRank[source] = -1;
    }
    touched.length = 0;
  });

  const edgeFrom = Int32Array.from(from);
  const edgeTo = Int32Array.from(to);
  const edgeRank = Uint8Array.from(rank);
  const [outOffsets, outEdges] = adjacency(nodes.length, edgeFrom);
  const [inOffsets, inEdges] = adjacency(nodes.length, edgeTo);
  // Edge objects are made on first use: the order and scheduling passes only need the typed arrays, and a
  // distro-sized graph has a quarter of a million edges.
  let edges: Edge[] | undefined;
  let ambiguous: DependencyGraph['ambiguous'] | undefined;

  return {
    nodes,
    recipes,
    indexOf,
    get edges(): readonly Edge[] {
      return (edges ??= from.map((f, i) => ({ from: nodes[f], to: nodes[to[i]], kind: KIND_BY_RANK[rank[i]], via: via[i] })));
    },
    edgeVia: via,
    edgeFrom,
    edgeTo,
    edgeRank,
    outOffsets,
    outEdges,
    inOffsets,
    inEdges,
    unresolved: [...unresolved.values()]
      .map((u) => ({
        dependency: u.dependency,
        status: isExternal(u.dependency) ? ('external' as const) : ('missing' as const),
        kind: KIND_BY_RANK[u.rank],
        wantedBy: [...u.wantedBy].sort((a, b) => a - b).map((i) => nodes[i]),
        ...(u.scope ? { scope: u.scope } : {}),
      }))
      .sort((a, b) => compareText(a.scope ?? '', b.scope ?? '') || compareText(a.dependency, b.dependency)),
    get ambiguous() {
      return (ambiguous ??= providers.ambiguous().map((a) => ({ scope: a.scope, provider: a.provider, nodes: a.nodes.map((i) => nodes[i]) })));
    },
  };
}

const NO_CHECKS: ReadonlySet<string> = new Set();

/** Whether two dependency lists hold the same strings in the same order. */
function sameList(a: readonly string[], b: readonly string[] | undefined): boolean {
  if (b === undefined || a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function toPredicate(external: BuildGraphOptions['external']): (dependency: string) => boolean {
  if (!external) return () => false;
  if (typeof external === 'function') return external;
  return (dependency) => external.has(dependency);
}

/** Counting sort of edge indices by one endpoint: CSR offsets and the edge list, edges in index order. */
function adjacency(nodeCount: number, endpoint: Int32Array): [Int32Array, Int32Array] {
  const offsets = new Int32Array(nodeCount + 1);
  for (let e = 0; e < endpoint.length; e++) offsets[endpoint[e] + 1]++;
  for (let i = 0; i < nodeCount; i++) offsets[i + 1] += offsets[i];
  const fill = offsets.slice(0, nodeCount);
  const list = new Int32Array(endpoint.length);
  for (let e = 0; e < endpoint.length; e++) list[fill[endpoint[e]]++] = e;
  return [offsets, list];
}
