import { compareText } from './compare';
import { DependencyGraph } from './graph';

/**
 * An acyclic graph of tasks by index (the dependency graph minus the bootstrap cuts, or a variant fan-out):
 * what the critical path, the dispatcher and the simulator need, and nothing else.
 */
export interface TaskDag {
  ids: readonly string[];
  /** Successors (dependents) of task i: succ[succOffsets[i] .. succOffsets[i + 1]]. */
  succOffsets: Int32Array;
  succ: Int32Array;
  /** Number of predecessors (dependencies) of each task. */
  predCount: Int32Array;
}

/** The graph's uncut edges as a TaskDag (parallel pairs cannot occur: the graph has one edge per pair). */
export function dagFromGraph(graph: DependencyGraph, isCut: Uint8Array): TaskDag {
  const pairs: Array<[number, number]> = [];
  for (let e = 0; e < graph.edgeFrom.length; e++) if (!isCut[e]) pairs.push([graph.edgeFrom[e], graph.edgeTo[e]]);
  return dagFromPairs(graph.nodes, pairs);
}

export function dagFromPairs(ids: readonly string[], pairs: ReadonlyArray<readonly [number, number]>): TaskDag {
  const n = ids.length;
  const succOffsets = new Int32Array(n + 1);
  const predCount = new Int32Array(n);
  for (const [from, to] of pairs) {
    succOffsets[from + 1]++;
    predCount[to]++;
  }
  for (let i = 0; i < n; i++) succOffsets[i + 1] += succOffsets[i];
  const fill = succOffsets.slice(0, n);
  const succ = new Int32Array(pairs.length);
  for (const [from, to] of pairs) succ[fill[from]++] = to;
  return { ids, succOffsets, succ, predCount };
}

/** Kahn order of a TaskDag; throws if it has a cycle (callers must pass an acyclic graph). */
export function dagOrder(dag: TaskDag): Int32Array {
  const n = dag.ids.length;
  const indegree = dag.predCount.slice();
  const order = new Int32Array(n);
  let tail = 0;
  for (let v = 0; v < n; v++) if (indegree[v] === 0) order[tail++] = v;
  for (let head = 0; head < tail; head++) {
    const v = order[head];
    for (let j = dag.succOffsets[v]; j < dag.succOffsets[v + 1]; j++) if (--indegree[dag.succ[j]] === 0) order[tail++] = dag.succ[j];
  }
  if (tail !== n) throw new Error(`task graph has a cycle through ${n - tail} tasks`);
  return order;
}

/**
 * Critical path of each task: its own estimated duration plus the longest chain of estimated durations from it
 * to any sink. A task on a long chain delays everything after it, so it goes first; this is the classic
 * HLFET/“bottom level” priority of list scheduling, which stays within a few percent of optimal on wide graphs.
 */
export function criticalPaths(dag: TaskDag, duration: ArrayLike<number>): Float64Array {
  const order = dagOrder(dag);
  const cp = new Float64Array(order.length);
  for (let k = order.length - 1; k >= 0; k--) {
    const v = order[k];
    let longest = 0;
    for (let j = dag.succOffsets[v]; j < dag.succOffsets[v + 1]; j++) if (cp[dag.succ[j]] > longest) longest = cp[dag.succ[j]];
    cp[v] = duration[v] + longest;
  }
  return cp;
}

/**
 * Ready tasks in dispatch order: highest critical path first, then by id so equal priorities are deterministic.
 */
export function byPriority(ids: readonly string[], cp: ArrayLike<number>): (a: number, b: number) => number {
  return (a, b) => cp[b] - cp[a] || compareText(ids[a], ids[b]);
}

/** The two classic lower bounds of any schedule on `slots` parallel slots, and the larger of them. */
export function lowerBound(cp: ArrayLike<number>, duration: ArrayLike<number>, slots: number): { criticalPath: number; totalWork: number; bound: number } {
  let criticalPath = 0;
  let totalWork = 0;
  for (let i = 0; i < duration.length; i++) {
    totalWork += duration[i];
    if (cp[i] > criticalPath) criticalPath = cp[i];
  }
  return { criticalPath, totalWork, bound: Math.max(criticalPath, slots > 0 ? totalWork / slots : Infinity) };
}
