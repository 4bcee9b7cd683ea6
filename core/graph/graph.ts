import { compareText } from './compare';
import { ProviderIndex, Providers, providerKey } from './provider-index';
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

  const links = new EdgeCollector(recipes.length);
  const unresolved = new Map<string, UnresolvedEntry>();
  // Provider tables each scope resolves from, looked up once per scope rather than once per dependency.
  const tablesOf = new Map<string, ReadonlyArray<ReadonlyMap<string, Providers>>>();

  for (let target = 0; target < recipes.length; target++) {
    const recipe = recipes[target];
    const scope = recipe.scope ?? '';
    let tables = tablesOf.get(scope);
    if (!tables) tablesOf.set(scope, (tables = visible(scope).map((s) => providers.scope(s))));
    // Each dependency as it comes (no per-recipe map to merge repeats: that map cost more than the lookups it
    // saved). An edge keeps the strongest kind, and as via the first dependency of that kind.
    const check: ReadonlySet<string> = recipe.checkDepends?.length ? new Set(recipe.checkDepends) : NO_CHECKS;
    const visit = (dependency: string, depRank: number): void => {
      if (!resolve(tables, target, dependency, depRank, links)) {
        const key = providerKey(dependency);
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
    links.flush(target);
  }
  const { from, to, rank, via } = links;

  const edgeFrom = Int32Array.from(from);
  const edgeTo = Int32Array.from(to);
  const [outOffsets, outEdges] = adjacency(nodes.length, edgeFrom);
  const [inOffsets, inEdges] = adjacency(nodes.length, edgeTo);
  return new BuiltGraph({
    nodes,
    recipes,
    indexOf,
    edgeVia: via,
    edgeFrom,
    edgeTo,
    edgeRank: Uint8Array.from(rank),
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
    providers,
  });
}

type GraphFields = Omit<DependencyGraph, 'edges' | 'ambiguous'> & { providers: ProviderIndex };

/**
 * The graph `buildGraph` returns. A class, not an object literal: a literal with getters is a dictionary-mode
 * object in V8, and the order, cycle and critical-path passes read its arrays millions of times. Edge objects
 * and the ambiguous list are made on first use: those passes only need the typed arrays, and a distro-sized
 * graph has a quarter of a million edges.
 */
class BuiltGraph implements DependencyGraph {
  declare readonly nodes: readonly string[];
  declare readonly recipes: readonly RecipeNode[];
  declare readonly indexOf: ReadonlyMap<string, number>;
  declare readonly edgeFrom: Int32Array;
  declare readonly edgeTo: Int32Array;
  declare readonly edgeRank: Uint8Array;
  declare readonly edgeVia: readonly string[];
  declare readonly outOffsets: Int32Array;
  declare readonly outEdges: Int32Array;
  declare readonly inOffsets: Int32Array;
  declare readonly inEdges: Int32Array;
  declare readonly unresolved: readonly Unresolved[];
  declare private readonly providers: ProviderIndex;
  private edgeList: Edge[] | undefined;
  private ambiguousList: DependencyGraph['ambiguous'] | undefined;

  constructor(fields: GraphFields) {
    // Every graph gets its fields in the same order (buildGraph's one literal), so all share one hidden class.
    Object.assign(this, fields);
  }

  get edges(): readonly Edge[] {
    const { nodes, edgeFrom, edgeTo, edgeRank, edgeVia } = this;
    return (this.edgeList ??= Array.from(edgeFrom, (f, i) => ({
      from: nodes[f],
      to: nodes[edgeTo[i]],
      kind: KIND_BY_RANK[edgeRank[i]],
      via: edgeVia[i],
    })));
  }

  get ambiguous(): DependencyGraph['ambiguous'] {
    const { nodes } = this;
    return (this.ambiguousList ??= this.providers
      .ambiguous()
      .map((a) => ({ scope: a.scope, provider: a.provider, nodes: a.nodes.map((i) => nodes[i]) })));
  }
}

const NO_CHECKS: ReadonlySet<string> = new Set();

interface UnresolvedEntry {
  dependency: string;
  scope: string;
  rank: number;
  wantedBy: Set<number>;
}

/**
 * Links `dependency` of node `target` to every node providing it in `tables`; false when nobody provides it. A
 * dependency the node satisfies itself (a -devel package of its own, a compiler bootstrapping from its previous
 * build) orders nothing: no edge, even if another node provides it too. One table (the usual, unscoped graph)
 * is the fast path: this runs for every dependency string of a distribution.
 */
function resolve(
  tables: ReadonlyArray<ReadonlyMap<string, Providers>>,
  target: number,
  dependency: string,
  depRank: number,
  links: EdgeCollector,
): boolean {
  const key = providerKey(dependency);
  if (tables.length === 1) {
    const found = tables[0].get(key);
    if (found === undefined) return false;
    if (typeof found === 'number') {
      if (found !== target) links.add(found, depRank, dependency);
    } else if (!found.includes(target)) for (const source of found) links.add(source, depRank, dependency);
    return true;
  }
  let found = false;
  for (const table of tables) {
    const held = table.get(key);
    if (held === undefined) continue;
    if (typeof held === 'number' ? held === target : held.includes(target)) return true;
    found = true;
  }
  if (found) {
    for (const table of tables) {
      const held = table.get(key);
      if (typeof held === 'number') links.add(held, depRank, dependency);
      else if (held !== undefined) for (const source of held) links.add(source, depRank, dependency);
    }
  }
  return found;
}

/**
 * The edges into one target at a time: per source the strongest kind and the first dependency of that kind
 * that led there, in scratch arrays reset through `touched` (not a map per node: this runs 50,000 times at
 * scale); `flush` appends them as edges sorted by source.
 */
class EdgeCollector {
  readonly from: number[] = [];
  readonly to: number[] = [];
  readonly rank: number[] = [];
  readonly via: string[] = [];
  private readonly linkRank: Int8Array;
  private readonly linkVia: string[];
  private readonly touched: Int32Array;
  private count = 0;

  constructor(nodeCount: number) {
    this.linkRank = new Int8Array(nodeCount).fill(-1);
    this.linkVia = new Array<string>(nodeCount);
    this.touched = new Int32Array(nodeCount);
  }

  add(source: number, depRank: number, dependency: string): void {
    const held = this.linkRank[source];
    if (held === -1) this.touched[this.count++] = source;
    if (depRank > held) {
      this.linkRank[source] = depRank;
      this.linkVia[source] = dependency;
    }
  }

  flush(target: number): void {
    const touched = this.touched;
    const count = this.count;
    // Insertion sort: a node links a handful of sources, and a comparator sort per node showed in profiles.
    if (count > 32) touched.subarray(0, count).sort();
    else {
      for (let i = 1; i < count; i++) {
        const x = touched[i];
        let j = i - 1;
        for (; j >= 0 && touched[j] > x; j--) touched[j + 1] = touched[j];
        touched[j + 1] = x;
      }
    }
    for (let i = 0; i < count; i++) {
      const source = touched[i];
      this.from.push(source);
      this.to.push(target);
      this.rank.push(this.linkRank[source]);
      this.via.push(this.linkVia[source]);
      this.linkRank[source] = -1;
    }
    this.count = 0;
  }
}

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
