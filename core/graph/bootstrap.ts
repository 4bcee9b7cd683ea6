import { DependencyGraph, EdgeKind, KIND_BY_RANK, KIND_RANK } from './graph';
import { MinHeap } from './heap';

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
 * Sifting is quadratic in the members of a cycle; real cycles have tens to a few hundred, a pathological one
 * (a generated ring of 50,000) keeps the greedy order alone so planning stays fast.
 */
const SIFT_LIMIT = 2000;

/**
 * Plan one strongly connected component. `members` are node indices (ascending), `internal` the indices of the
 * edges between members. Returns the plan and the cut edge indices.
 *
 * Cuts are chosen lexicographically by kind: build edges are considered first and cut only where build edges
 * alone form a cycle; then check edges are added and cut only where they close a cycle with the kept build edges;
 * then run edges likewise. At each kind a greedy order (Kahn over the kept edges, picking the member that the
 * fewest not-yet-placed members point at, then the one pointing at most of them, then by name: in the spirit of
 * Eades–Lin–Smyth), improved by sifting, decides which edges of that kind point backwards; a pruning pass then
 * puts back every backward edge that closes no cycle. So the cut set is minimal by inclusion (the kept set only
 * grows, so each cut stays necessary), though not necessarily minimum: that is NP-hard, and greedy is plenty
 * for cycles of tens to a few hundred recipes.
 */
export function planBootstrap(
  graph: DependencyGraph,
  members: readonly number[],
  internal: readonly number[],
): { plan: BootstrapPlan; cutEdges: number[] } {
  const k = members.length;
  const local = new Map<number, number>();
  members.forEach((node, i) => local.set(node, i));
  const src = internal.map((e) => local.get(graph.edgeFrom[e])!);
  const dst = internal.map((e) => local.get(graph.edgeTo[e])!);
  // Kept edges as local adjacency, grown kind by kind.
  const keptOut: number[][] = Array.from({ length: k }, () => []);
  const cut: number[] = [];

  for (let rank = KIND_RANK.build; rank >= KIND_RANK.run; rank--) {
    const ofKind = internal.map((e, i) => i).filter((i) => graph.edgeRank[internal[i]] === rank);
    if (ofKind.length === 0) continue;
    const greedy = greedyOrder(k, keptOut, ofKind, src, dst);
    const position = k <= SIFT_LIMIT ? sift(greedy, keptOut, ofKind, src, dst) : greedy;
    const backward: number[] = [];
    for (const i of ofKind) {
      if (position[src[i]] < position[dst[i]]) keptOut[src[i]].push(dst[i]);
      else backward.push(i);
    }
    // Deterministic pruning order: by (from, to) name, i.e. local index.
    backward.sort((a, b) => src[a] - src[b] || dst[a] - dst[b]);
    for (const i of backward) {
      if (reaches(keptOut, dst[i], src[i])) cut.push(i);
      else keptOut[src[i]].push(dst[i]);
    }
  }

  const stageOf = layers(k, keptOut);
  const stageCount = stageOf.reduce((m, s) => Math.max(m, s + 1), 0);
  const stages: string[][] = Array.from({ length: stageCount }, () => []);
  for (let i = 0; i < k; i++) stages[stageOf[i]].push(graph.nodes[members[i]]);

  const rebuildLocal = [...new Set(cut.filter((i) => graph.edgeRank[internal[i]] >= KIND_RANK.check).map((i) => dst[i]))];
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
 * Local search on an order (position of each node): move one node at a time to the place between its kept
 * predecessors and successors where the fewest of its soft edges point backwards, until a pass improves
 * nothing. The classic "sifting" improvement for feedback arc sets; on the Serpent core cycle it removes about
 * a third of the greedy order's cuts.
 */
function sift(position: Int32Array, keptOut: number[][], soft: number[], src: number[], dst: number[]): Int32Array {
  const k = position.length;
  const keptIn: number[][] = Array.from({ length: k }, () => []);
  keptOut.forEach((outs, v) => outs.forEach((w) => keptIn[w].push(v)));
  const softSucc: number[][] = Array.from({ length: k }, () => []);
  const softPred: number[][] = Array.from({ length: k }, () => []);
  for (const i of soft) {
    softSucc[src[i]].push(dst[i]);
    softPred[dst[i]].push(src[i]);
  }
  const sequence = Array.from({ length: k }, (_, v) => v).sort((a, b) => position[a] - position[b]);
  // +1: a soft predecessor of the moving node (passing it turns that edge forward); -1: a soft successor.
  const mark = new Int32Array(k);
  const fence = new Uint8Array(k);
  const maxPasses = 20;
  for (let pass = 0, improved = true; improved && pass < maxPasses; pass++) {
    improved = false;
    for (let v = 0; v < k; v++) {
      const at = sequence.indexOf(v);
      sequence.splice(at, 1);
      for (const u of softPred[v]) mark[u] += 1;
      for (const w of softSucc[v]) mark[w] -= 1;
      // The node must stay after its kept predecessors and before its kept successors.
      for (const u of keptIn[v]) fence[u] = 1;
      for (const w of keptOut[v]) fence[w] = 2;
      let lo = 0;
      let hi = sequence.length;
      for (let p = 0; p < sequence.length; p++) {
        const f = fence[sequence[p]];
        if (f === 1) lo = p + 1;
        else if (f === 2 && p < hi) hi = p;
      }
      for (const u of keptIn[v]) fence[u] = 0;
      for (const w of keptOut[v]) fence[w] = 0;
      // Cost of inserting at slot lo: soft predecessors placed after it plus soft successors placed before it.
      let cost = 0;
      for (let p = 0; p < sequence.length; p++) {
        const m = mark[sequence[p]];
        if (m > 0 && p >= lo) cost += m;
        if (m < 0 && p < lo) cost -= m;
      }
      let best = lo;
      let bestCost = cost;
      let currentCost = Number.POSITIVE_INFINITY;
      for (let slot = lo; slot <= hi; slot++) {
        if (slot === at) currentCost = cost;
        if (cost < bestCost) {
          bestCost = cost;
          best = slot;
        }
        if (slot < hi) cost -= mark[sequence[slot]];
      }
      if (bestCost < currentCost) improved = true;
      else best = at;
      sequence.splice(best, 0, v);
      for (const u of softPred[v]) mark[u] = 0;
      for (const w of softSucc[v]) mark[w] = 0;
    }
  }
  const out = new Int32Array(k);
  sequence.forEach((v, i) => (out[v] = i));
  return out;
}

/** Is `target` reachable from `start` over the kept edges? */
function reaches(out: number[][], start: number, target: number): boolean {
  if (start === target) return true;
  const seen = new Uint8Array(out.length);
  const stack = [start];
  seen[start] = 1;
  while (stack.length > 0) {
    const v = stack.pop()!;
    for (const w of out[v]) {
      if (w === target) return true;
      if (!seen[w]) {
        seen[w] = 1;
        stack.push(w);
      }
    }
  }
  return false;
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
