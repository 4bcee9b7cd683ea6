import { DependencyGraph, EdgeKind, KIND_BY_RANK, KIND_RANK } from './graph';
import { MinHeap, NodeMaxHeap } from './heap';

/** An edge a bootstrap plan removes: `to` is first built without (the new build of) `from`. */
export interface CutEdge {
  from: string;
  to: string;
  kind: EdgeKind;
  via: string;
}

/**
 * How to build one dependency cycle. Plain data for the CLI, the dashboard and the pipeline.
 * - `cut`: edges ignored for the first pass; every cut is necessary (putting any one back closes a cycle).
 * - `stages`: members in build order once the cuts are made; a stage only needs earlier stages.
 * - `rebuild`: members built once more after the whole cycle is done, in order, because a build or check
 *   dependency of theirs was cut. A cut run-time edge needs no rebuild: the package was built correctly, it was
 *   only published before something it needs at run time.
 */
export interface BootstrapPlan {
  members: string[];
  cut: CutEdge[];
  stages: string[][];
  rebuild: string[];
}

/**
 * Sifting moves each member at most `window` places, window = max(SIFT_MIN_WINDOW, SIFT_BUDGET / members): a full
 * sift is quadratic in the members of a cycle, so small cycles (the real core has 150) get a full sift, a
 * 600-recipe core about 250 places each way, and a cycle of thousands a short window — O(SIFT_BUDGET) a pass.
 */
const SIFT_BUDGET = 150_000;
const SIFT_MIN_WINDOW = 48;
/** Sifting stops after this many passes even if the last one still improved the order. */
const SIFT_PASSES = 3;

/**
 * Plan one strongly connected component. `members` are node indices (ascending), `internal` the indices of the
 * edges between members. Returns the plan and the cut edge indices.
 *
 * Cuts are chosen lexicographically by kind, strongest first: build edges are considered first and cut only where
 * build edges alone form a cycle; then run edges are added and cut only where they close a cycle with the kept
 * build edges; then check edges likewise. So a check edge is cut before a run edge, and a run edge before a build
 * edge (see KIND_RANK). At each kind:
 * - a greedy order (Kahn over the kept edges, picking the member that the fewest not-yet-placed members point at,
 *   then the one pointing at most of them, then by name: in the spirit of Eades–Lin–Smyth), O(E log V);
 * - improved by sifting within a window (see SIFT_BUDGET; at most SIFT_PASSES passes): O(V · window + E) a pass,
 *   where a full sift would be quadratic;
 * - the edges of that kind pointing backwards in the order are candidates; a pruning pass puts back each one that
 *   closes no cycle with the kept edges, keeping a topological order of the kept edges up to date (Pearce–Kelly):
 *   the search for a cycle only visits members between the edge's two ends in that order, latest first, so it
 *   usually walks straight to the edge's tail when there is a cycle. Not linear: each cut still costs a search,
 *   which is what dominates on cycles of thousands (a 4,000-recipe core: ~0.3 s), and adversarial shapes can make
 *   it quadratic.
 * The kept set only grows, so each cut stays necessary: the cut set is minimal by inclusion (putting any one edge
 * back closes a cycle), though not necessarily minimum: that is NP-hard.
 */
export function planBootstrap(
  graph: DependencyGraph,
  members: readonly number[],
  internal: readonly number[],
  localOf: Int32Array = localIndices(graph.nodes.length, members),
): { plan: BootstrapPlan; cutEdges: number[] } {
  const k = members.length;
  const src = internal.map((e) => localOf[graph.edgeFrom[e]]);
  const dst = internal.map((e) => localOf[graph.edgeTo[e]]);
  // Kept edges as local adjacency (both ways), grown kind by kind.
  const keptOut: number[][] = Array.from({ length: k }, () => []);
  const keptIn: number[][] = Array.from({ length: k }, () => []);
  const keep = (i: number): void => {
    keptOut[src[i]].push(dst[i]);
    keptIn[dst[i]].push(src[i]);
  };
  const cut: number[] = [];
  const byRank: number[][] = KIND_BY_RANK.map(() => []);
  internal.forEach((e, i) => byRank[graph.edgeRank[e]].push(i));

  for (let rank = KIND_BY_RANK.length - 1; rank >= 0; rank--) {
    const ofKind = byRank[rank];
    if (ofKind.length === 0) continue;
    const greedy = greedyOrder(k, keptOut, ofKind, src, dst);
    const position = sift(greedy, keptOut, keptIn, ofKind, src, dst);
    const backward: number[] = [];
    for (const i of ofKind) {
      if (position[src[i]] < position[dst[i]]) keep(i);
      else backward.push(i);
    }
    // Deterministic pruning order: by (from, to) name, i.e. local index.
    backward.sort((a, b) => src[a] - src[b] || dst[a] - dst[b]);
    const topo = new TopologicalOrder(position, keptOut, keptIn);
    for (const i of backward) {
      if (topo.tryAdd(src[i], dst[i])) keep(i);
      else cut.push(i);
    }
  }

  const stageOf = layers(k, keptOut);
  const stageCount = stageOf.reduce((m, s) => Math.max(m, s + 1), 0);
  const stages: string[][] = Array.from({ length: stageCount }, () => []);
  for (let i = 0; i < k; i++) stages[stageOf[i]].push(graph.nodes[members[i]]);

  const rebuildLocal = [...new Set(cut.filter((i) => needsRebuild(graph.edgeRank[internal[i]])).map((i) => dst[i]))];
  rebuildLocal.sort((a, b) => stageOf[a] - stageOf[b] || a - b);

  const cutEdges = cut.map((i) => internal[i]).sort((a, b) => a - b);
  return {
    plan: {
      members: members.map((n) => graph.nodes[n]),
      cut: cutEdges.map((e) => ({
        from: graph.nodes[graph.edgeFrom[e]],
        to: graph.nodes[graph.edgeTo[e]],
        kind: KIND_BY_RANK[graph.edgeRank[e]],
        via: graph.edgeVia[e],
      })),
      stages,
      rebuild: rebuildLocal.map((i) => graph.nodes[members[i]]),
    },
    cutEdges,
  };
}

/**
 * Each member's place among `members`, indexed by node. One array serves every component of a graph (a node is in
 * one component), so the order fills it once instead of a map per cycle.
 */
export function localIndices(nodeCount: number, members: readonly number[], into = new Int32Array(nodeCount)): Int32Array {
  members.forEach((node, i) => (into[node] = i));
  return into;
}

/**
 * A cut build edge means the first build used the old (or no) dependency; a cut check edge means its test suite
 * was skipped: both are built again once the cycle is done. A cut run edge only published a package before
 * something it needs at run time, which the cycle's end repairs without a rebuild.
 */
export function needsRebuild(rank: number): boolean {
  return rank !== KIND_RANK.run;
}

/**
 * A topological order of the kept edges (acyclic) that points as few `soft` edges backwards as it greedily can.
 * Candidates sit in a heap keyed by their current score; a score change pushes a fresh entry and stale ones are
 * skipped when popped, so a cycle of 50,000 stays O((members + edges) log members).
 */
function greedyOrder(k: number, keptOut: number[][], soft: number[], src: number[], dst: number[]): Int32Array {
  const fixedIn = new Int32Array(k);
  for (const outs of keptOut) for (const w of outs) fixedIn[w]++;
  const softIn = new Int32Array(k);
  const softOut = new Int32Array(k);
  const softSucc: number[][] = Array.from({ length: k }, () => []);
  const softPred: number[][] = Array.from({ length: k }, () => []);
  for (const i of soft) {
    softIn[dst[i]]++;
    softOut[src[i]]++;
    softSucc[src[i]].push(dst[i]);
    softPred[dst[i]].push(src[i]);
  }
  // [softIn, softOut, node] at the time of pushing; fewest incoming first, then most outgoing, then by name.
  const heap = new MinHeap<[number, number, number]>((a, b) => (a[0] - b[0] || b[1] - a[1] || a[2] - b[2]) < 0);
  const isReady = new Uint8Array(k);
  const placed = new Uint8Array(k);
  const offer = (v: number): void => {
    if (isReady[v] && !placed[v]) heap.push([softIn[v], softOut[v], v]);
  };
  for (let v = 0; v < k; v++) {
    if (fixedIn[v] === 0) {
      isReady[v] = 1;
      offer(v);
    }
  }
  const position = new Int32Array(k);
  for (let count = 0; count < k; ) {
    const [inAtPush, outAtPush, v] = heap.pop()!;
    if (placed[v] || inAtPush !== softIn[v] || outAtPush !== softOut[v]) continue;
    placed[v] = 1;
    position[v] = count++;
    for (const w of softSucc[v]) {
      softIn[w]--;
      offer(w);
    }
    for (const u of softPred[v]) {
      softOut[u]--;
      offer(u);
    }
    for (const w of keptOut[v]) {
      if (--fixedIn[w] === 0) {
        isReady[w] = 1;
        offer(w);
      }
    }
  }
  return position;
}

/**
 * Local search on an order (position of each node): move one node at a time, at most `window` places, to the
 * place between its kept predecessors and successors where the fewest of its soft edges point backwards, until a
 * pass improves nothing. The classic "sifting" improvement for feedback arc sets, windowed so a pass costs
 * O(V · window + E) instead of O(V²); on the Serpent core cycle it removes about a third of the greedy order's
 * cuts.
 */
function sift(position: Int32Array, keptOut: number[][], keptIn: number[][], soft: number[], src: number[], dst: number[]): Int32Array {
  const k = position.length;
  const softSucc: number[][] = Array.from({ length: k }, () => []);
  const softPred: number[][] = Array.from({ length: k }, () => []);
  for (const i of soft) {
    softSucc[src[i]].push(dst[i]);
    softPred[dst[i]].push(src[i]);
  }
  const window = Math.max(SIFT_MIN_WINDOW, Math.floor(SIFT_BUDGET / k));
  const pos = position.slice();
  const sequence = new Int32Array(k);
  for (let v = 0; v < k; v++) sequence[pos[v]] = v;
  // mark[x]: soft edges x → v minus soft edges v → x for the moving node v. Passing x leftwards turns the first
  // kind backward and the second forward, so the number of backward edges changes by +mark[x]; rightwards, −mark[x].
  const mark = new Int32Array(k);
  // Scratch: the places of v's soft neighbours left and right of it, and which neighbours were listed for v.
  const left = new Int32Array(k);
  const right = new Int32Array(k);
  const listed = new Uint32Array(k);
  for (let pass = 0, improved = true; improved && pass < SIFT_PASSES; pass++) {
    improved = false;
    for (let v = 0; v < k; v++) {
      if (softPred[v].length + softSucc[v].length === 0) continue;
      const at = pos[v];
      // The node must stay after its kept predecessors and before its kept successors.
      let lo = Math.max(0, at - window);
      let hi = Math.min(k - 1, at + window);
      for (const u of keptIn[v]) if (pos[u] + 1 > lo) lo = pos[u] + 1;
      for (const w of keptOut[v]) if (pos[w] - 1 < hi) hi = pos[w] - 1;
      for (const u of softPred[v]) mark[u] += 1;
      for (const w of softSucc[v]) mark[w] -= 1;
      // The count changes only where v passes a soft neighbour, so only their places are looked at (the same
      // answer as walking every place of the window, at the cost of the node's degree): the neighbours left of v
      // nearest first, then those right of it.
      const stamp = v + 1 + pass * k;
      let nl = 0;
      let nr = 0;
      for (let side = 0; side < 2; side++) {
        for (const x of side === 0 ? softPred[v] : softSucc[v]) {
          if (listed[x] === stamp) continue;
          listed[x] = stamp;
          const p = pos[x];
          if (p < at) {
            if (p >= lo) left[nl++] = p;
          } else if (p <= hi) right[nr++] = p;
        }
      }
      const leftSorted = left.subarray(0, nl).sort();
      const rightSorted = right.subarray(0, nr).sort();
      let best = at;
      let bestDelta = 0;
      let delta = 0;
      for (let i = nl - 1; i >= 0; i--) {
        const p = leftSorted[i];
        delta += mark[sequence[p]];
        if (delta < bestDelta) {
          bestDelta = delta;
          best = p;
        }
      }
      delta = 0;
      for (let i = 0; i < nr; i++) {
        const p = rightSorted[i];
        delta -= mark[sequence[p]];
        if (delta < bestDelta) {
          bestDelta = delta;
          best = p;
        }
      }
      for (const u of softPred[v]) mark[u] = 0;
      for (const w of softSucc[v]) mark[w] = 0;
      if (best === at) continue;
      improved = true;
      // Shift the nodes between the old and the new place by one and drop v in.
      if (best < at) {
        for (let p = at; p > best; p--) pos[(sequence[p] = sequence[p - 1])] = p;
      } else {
        for (let p = at; p < best; p++) pos[(sequence[p] = sequence[p + 1])] = p;
      }
      sequence[best] = v;
      pos[v] = best;
    }
  }
  return pos;
}

/**
 * A topological order of a growing acyclic graph (Pearce–Kelly). `tryAdd(u, v)` adds u → v unless it would close
 * a cycle: it searches forward from v and backward from u, visiting only nodes whose position lies between the
 * two (a kept edge always points forward, so any path from v to u stays there), then, if no cycle, moves the
 * nodes reaching u before those reached from v, reusing their positions.
 */
class TopologicalOrder {
  private readonly seen: Uint32Array;
  private stamp = 0;
  /** The forward search's frontier: latest position on top. */
  private readonly frontier: NodeMaxHeap;
  /** The node at each position (the inverse of pos), and scratch for one reordering. */
  private readonly nodeAt: Int32Array;
  private readonly slots: Int32Array;
  private readonly before: Int32Array;
  private readonly after: Int32Array;
  private readonly queue: number[] = [];

  constructor(
    private readonly pos: Int32Array,
    private readonly out: number[][],
    private readonly into: number[][],
  ) {
    this.seen = new Uint32Array(pos.length);
    this.nodeAt = new Int32Array(pos.length);
    for (let x = 0; x < pos.length; x++) this.nodeAt[pos[x]] = x;
    this.slots = new Int32Array(pos.length);
    this.before = new Int32Array(pos.length);
    this.after = new Int32Array(pos.length);
    this.frontier = new NodeMaxHeap(pos);
  }

  /** Adds u → v (to the adjacency the caller owns: the caller pushes the edge) unless v already reaches u. */
  tryAdd(u: number, v: number): boolean {
    const { pos, out, into, seen } = this;
    const upper = pos[u];
    const lower = pos[v];
    if (lower > upper) return true;
    if (u === v) return false;
    const forwardMark = ++this.stamp;
    seen[v] = forwardMark;
    // Best first, latest position first: when v reaches u (the edge is cut, the common case) the search heads
    // straight for u's end of the window instead of flooding it.
    const frontier = this.frontier;
    frontier.clear();
    frontier.push(v);
    while (frontier.size > 0) {
      for (const w of out[frontier.pop()]) {
        if (w === u) return false;
        if (seen[w] !== forwardMark && pos[w] < upper) {
          seen[w] = forwardMark;
          frontier.push(w);
        }
      }
    }
    const backwardMark = ++this.stamp;
    const backward = this.queue;
    backward.length = 0;
    backward.push(u);
    seen[u] = backwardMark;
    for (let head = 0; head < backward.length; head++) {
      for (const w of into[backward[head]]) {
        if (seen[w] !== backwardMark && pos[w] > lower) {
          seen[w] = backwardMark;
          backward.push(w);
        }
      }
    }
    // The two sets are disjoint (a node in both would close a cycle) and lie within [lower, upper]: one scan of
    // that window lists each set in position order and the positions they hold, with no sort. The nodes reaching
    // u take the first of those positions, the nodes reached from v the rest, each set keeping its order.
    const { nodeAt, slots, before, after } = this;
    let held = 0;
    let b = 0;
    let f = 0;
    for (let p = lower; p <= upper; p++) {
      const x = nodeAt[p];
      if (seen[x] === backwardMark) before[b++] = x;
      else if (seen[x] === forwardMark) after[f++] = x;
      else continue;
      slots[held++] = p;
    }
    for (let i = 0; i < b; i++) {
      pos[before[i]] = slots[i];
      nodeAt[slots[i]] = before[i];
    }
    for (let i = 0; i < f; i++) {
      pos[after[i]] = slots[b + i];
      nodeAt[slots[b + i]] = after[i];
    }
    return true;
  }
}

/** Longest-path layer of each node over an acyclic adjacency list. */
function layers(k: number, out: number[][]): Int32Array {
  const indegree = new Int32Array(k);
  for (const outs of out) for (const w of outs) indegree[w]++;
  const layer = new Int32Array(k);
  const queue: number[] = [];
  for (let v = 0; v < k; v++) if (indegree[v] === 0) queue.push(v);
  for (let head = 0; head < queue.length; head++) {
    const v = queue[head];
    for (const w of out[v]) {
      if (layer[v] + 1 > layer[w]) layer[w] = layer[v] + 1;
      if (--indegree[w] === 0) queue.push(w);
    }
  }
  return layer;
}
