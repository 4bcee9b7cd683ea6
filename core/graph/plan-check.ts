import { needsRebuild } from './bootstrap';
import { DependencyGraph, KIND_BY_RANK, KIND_RANK } from './graph';
import { BuildOrder } from './order';
import { stronglyConnected } from './scc';

export interface CheckPlanOptions {
  /**
   * Also check that every cut is necessary (putting it back alone closes a cycle with the kept edges): one search
   * per cut edge, so O(cuts × internal edges). On by default.
   */
  minimality?: boolean;
  /** Stop after this many problems; default 20. */
  limit?: number;
}

/**
 * Everything a build order and its bootstrap plans promise, checked against the graph they came from. Returns
 * the problems found, in words (empty: the order is valid):
 * - every node is in exactly one batch, and `batchOf` agrees with `batches`;
 * - every edge no plan cuts goes from an earlier batch to a later one;
 * - the plans are exactly the strongly connected components of two or more nodes, in order of first member;
 * - a plan's cut edges are edges between its members, named with their kind and `via` as in the graph, and are
 *   exactly the edges `isCut` marks;
 * - its stages hold each member once, and every kept edge between members goes from an earlier stage to a later;
 * - its rebuild list is the targets of its cut build and check edges, in stage order;
 * - (minimality) every cut edge, put back alone, closes a cycle with the kept edges.
 */
export function checkPlan(graph: DependencyGraph, order: BuildOrder, options: CheckPlanOptions = {}): string[] {
  const problems: string[] = [];
  const limit = options.limit ?? 20;
  const report = (message: string): boolean => {
    if (problems.length < limit) problems.push(message);
    return problems.length < limit;
  };
  const n = graph.nodes.length;
  const edgeCount = graph.edgeFrom.length;
  const name = (e: number): string =>
    `${graph.nodes[graph.edgeFrom[e]]} → ${graph.nodes[graph.edgeTo[e]]} (${KIND_BY_RANK[graph.edgeRank[e]]})`;

  const batch = new Int32Array(n).fill(-1);
  order.batches.forEach((ids, b) => {
    for (const id of ids) {
      const v = graph.indexOf.get(id);
      if (v === undefined) report(`batch ${b} holds "${id}", which is not in the graph`);
      else if (batch[v] !== -1) report(`"${id}" is in batches ${batch[v]} and ${b}`);
      else batch[v] = b;
    }
  });
  for (let v = 0; v < n; v++) {
    if (batch[v] === -1) report(`"${graph.nodes[v]}" is in no batch`);
    else if (order.batchOf[v] !== batch[v]) report(`batchOf says ${order.batchOf[v]} for "${graph.nodes[v]}", batches say ${batch[v]}`);
  }
  for (let e = 0; e < edgeCount; e++) {
    if (order.isCut[e]) continue;
    if (batch[graph.edgeFrom[e]] >= batch[graph.edgeTo[e]] && !report(`kept edge ${name(e)} does not go to a later batch`)) break;
  }
  if (problems.length > 0) return problems;

  const { componentOf, components } = stronglyConnected(n, graph.outOffsets, graph.outEdges, graph.edgeTo);
  const cycles = components.filter((c) => c.length > 1);
  if (cycles.length !== order.cycles.length) report(`${order.cycles.length} plans for ${cycles.length} cycles`);
  const planned = new Uint8Array(edgeCount);
  cycles.forEach((members, c) => {
    const plan = order.cycles[c];
    if (!plan) return;
    const ids = members.map((v) => graph.nodes[v]);
    if (plan.members.join('\u0000') !== ids.join('\u0000')) {
      report(`plan ${c} names members ${plan.members.slice(0, 3).join(', ')}…, the cycle is ${ids.slice(0, 3).join(', ')}…`);
      return;
    }
    const label = `the cycle of ${members.length} starting at ${ids[0]}`;
    const stage = new Map<number, number>();
    plan.stages.forEach((names, s) => {
      for (const id of names) {
        const v = graph.indexOf.get(id);
        if (v === undefined || componentOf[v] !== componentOf[members[0]]) report(`${label}: stage ${s} holds "${id}", not a member`);
        else if (stage.has(v)) report(`${label}: "${id}" is in two stages`);
        else stage.set(v, s);
      }
    });
    if (stage.size !== members.length) report(`${label}: ${members.length - stage.size} members in no stage`);
    const cutHere = new Set<number>();
    for (const c of plan.cut) {
      const from = graph.indexOf.get(c.from);
      const to = graph.indexOf.get(c.to);
      const e = from === undefined || to === undefined ? -1 : findEdge(graph, from, to);
      if (e < 0 || componentOf[from!] !== componentOf[members[0]] || componentOf[to!] !== componentOf[members[0]]) {
        report(`${label}: cut ${c.from} → ${c.to} is not an edge between members`);
        continue;
      }
      if (KIND_RANK[c.kind] !== graph.edgeRank[e] || c.via !== graph.edgeVia[e]) {
        report(`${label}: cut ${name(e)} is named ${c.kind} via "${c.via}", the graph says via "${graph.edgeVia[e]}"`);
      }
      if (!order.isCut[e]) report(`${label}: cut ${name(e)} is not marked in isCut`);
      cutHere.add(e);
      planned[e] = 1;
    }
    // Kept internal edges, as local adjacency for the stage and minimality checks.
    const local = new Map<number, number>();
    members.forEach((v, i) => local.set(v, i));
    const keptOut: number[][] = members.map(() => []);
    for (const v of members) {
      for (let j = graph.outOffsets[v]; j < graph.outOffsets[v + 1]; j++) {
        const e = graph.outEdges[j];
        const w = graph.edgeTo[e];
        if (componentOf[w] !== componentOf[v] || cutHere.has(e)) continue;
        keptOut[local.get(v)!].push(local.get(w)!);
        if ((stage.get(v) ?? -1) >= (stage.get(w) ?? -1)) report(`${label}: kept edge ${name(e)} does not go to a later stage`);
      }
    }
    const rebuild = [...new Set([...cutHere].filter((e) => needsRebuild(graph.edgeRank[e])).map((e) => graph.edgeTo[e]))];
    rebuild.sort((a, b) => stage.get(a)! - stage.get(b)! || a - b);
    const expected = rebuild.map((v) => graph.nodes[v]).join(', ');
    if (plan.rebuild.join(', ') !== expected) report(`${label}: rebuild lists ${plan.rebuild.join(', ')}, expected ${expected}`);
    if (options.minimality ?? true) {
      for (const e of cutHere) {
        if (!reaches(keptOut, local.get(graph.edgeTo[e])!, local.get(graph.edgeFrom[e])!)) report(`${label}: cut ${name(e)} closes no cycle`);
      }
    }
  });
  for (let e = 0; e < edgeCount; e++) {
    if (order.isCut[e] && !planned[e] && !report(`isCut marks ${name(e)}, which no plan cuts`)) break;
  }
  return problems;
}

function findEdge(graph: DependencyGraph, from: number, to: number): number {
  for (let j = graph.outOffsets[from]; j < graph.outOffsets[from + 1]; j++) if (graph.edgeTo[graph.outEdges[j]] === to) return graph.outEdges[j];
  return -1;
}

function reaches(out: number[][], start: number, target: number): boolean {
  const seen = new Uint8Array(out.length);
  const stack = [start];
  seen[start] = 1;
  while (stack.length > 0) {
    for (const w of out[stack.pop()!]) {
      if (w === target) return true;
      if (!seen[w]) {
        seen[w] = 1;
        stack.push(w);
      }
    }
  }
  return false;
}
