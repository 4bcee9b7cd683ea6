import { BootstrapPlan, localIndices, planBootstrap } from './bootstrap';
import { DependencyGraph } from './graph';
import { stronglyConnected } from './scc';

/**
 * The build order of a whole graph: batches of node ids such that every edge that no bootstrap plan cuts goes
 * from an earlier batch to a later one. Within a batch, nodes are independent and sorted by id.
 */
export interface BuildOrder {
  batches: string[][];
  /** Batch number of each node, by node index. */
  batchOf: Int32Array;
  /** One plan per cycle (strongly connected component of two or more nodes), ordered by first member. */
  cycles: BootstrapPlan[];
  /** 1 for each edge index a plan cuts. */
  isCut: Uint8Array;
}

export function planOrder(graph: DependencyGraph): BuildOrder {
  const n = graph.nodes.length;
  const { componentOf, components } = stronglyConnected(n, graph.outOffsets, graph.outEdges, graph.edgeTo);
  const isCut = new Uint8Array(graph.edgeFrom.length);

  // Gather each component's internal edges in one pass over the edges.
  const internalOf = new Map<number, number[]>();
  for (let e = 0; e < graph.edgeFrom.length; e++) {
    const c = componentOf[graph.edgeFrom[e]];
    if (c !== componentOf[graph.edgeTo[e]]) continue;
    const list = internalOf.get(c);
    if (list) list.push(e);
    else internalOf.set(c, [e]);
  }
  const cycles: BootstrapPlan[] = [];
  const localOf = new Int32Array(n);
  components.forEach((members, c) => {
    if (members.length < 2) return;
    const { plan, cutEdges } = planBootstrap(graph, members, internalOf.get(c) ?? [], localIndices(n, members, localOf));
    for (const e of cutEdges) isCut[e] = 1;
    cycles.push(plan);
  });

  const batchOf = longestPathLayers(graph, isCut);
  let batchCount = 0;
  for (let v = 0; v < n; v++) if (batchOf[v] + 1 > batchCount) batchCount = batchOf[v] + 1;
  const batches: string[][] = Array.from({ length: batchCount }, () => []);
  // Nodes are sorted by id, so each batch comes out sorted.
  for (let v = 0; v < n; v++) batches[batchOf[v]].push(graph.nodes[v]);
  return { batches, batchOf, cycles, isCut };
}

/**
 * The length of the longest chain of uncut edges leading to each node: the earliest batch it can go in.
 */
function longestPathLayers(graph: DependencyGraph, isCut: Uint8Array): Int32Array {
  const order = topologicalOrder(graph, isCut);
  const layer = new Int32Array(graph.nodes.length);
  for (const v of order) {
    for (let j = graph.outOffsets[v]; j < graph.outOffsets[v + 1]; j++) {
      const e = graph.outEdges[j];
      if (isCut[e]) continue;
      const w = graph.edgeTo[e];
      if (layer[v] + 1 > layer[w]) layer[w] = layer[v] + 1;
    }
  }
  return layer;
}

/**
 * A topological order of the node indices over the uncut edges (Kahn, first-in first-out, sources by index).
 * Throws if a cycle is left: a bug there would otherwise silently drop recipes from the order.
 */
export function topologicalOrder(graph: DependencyGraph, isCut: Uint8Array): Int32Array {
  const n = graph.nodes.length;
  const indegree = new Int32Array(n);
  for (let e = 0; e < graph.edgeTo.length; e++) if (!isCut[e]) indegree[graph.edgeTo[e]]++;
  const order = new Int32Array(n);
  let tail = 0;
  for (let v = 0; v < n; v++) if (indegree[v] === 0) order[tail++] = v;
  for (let head = 0; head < tail; head++) {
    const v = order[head];
    for (let j = graph.outOffsets[v]; j < graph.outOffsets[v + 1]; j++) {
      const e = graph.outEdges[j];
      if (!isCut[e] && --indegree[graph.edgeTo[e]] === 0) order[tail++] = graph.edgeTo[e];
    }
  }
  if (tail !== n) throw new Error(`build order: ${n - tail} nodes still in a cycle after the bootstrap cuts`);
  return order;
}
