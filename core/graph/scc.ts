/**
 * Strongly connected components (Tarjan), iterative: a 50,000-recipe chain would overflow the call stack of a
 * recursive version. Works on CSR adjacency (`offsets`, `edgeList` of edge indices, `edgeTarget` per edge) so the
 * same code serves the whole graph and a bootstrap plan's kept edges.
 */
export interface Components {
  /** Component number of each node. */
  componentOf: Int32Array;
  /** Members of each component, ascending; components ordered by their smallest member. */
  components: number[][];
}

export function stronglyConnected(
  nodeCount: number,
  offsets: Int32Array,
  edgeList: Int32Array,
  edgeTarget: Int32Array,
  keepEdge: (edge: number) => boolean = () => true,
): Components {
  const UNSEEN = -1;
  const index = new Int32Array(nodeCount).fill(UNSEEN);
  const low = new Int32Array(nodeCount);
  const onStack = new Uint8Array(nodeCount);
  const stack = new Int32Array(nodeCount);
  let stackTop = 0;
  // The explicit call stack: the node being visited and how far through its edge list it has got.
  const callNode = new Int32Array(nodeCount);
  const callEdge = new Int32Array(nodeCount);
  const componentOf = new Int32Array(nodeCount).fill(UNSEEN);
  const found: number[][] = [];
  let counter = 0;

  for (let root = 0; root < nodeCount; root++) {
    if (index[root] !== UNSEEN) continue;
    let depth = 0;
    callNode[0] = root;
    callEdge[0] = offsets[root];
    index[root] = low[root] = counter++;
    stack[stackTop++] = root;
    onStack[root] = 1;
    while (depth >= 0) {
      const v = callNode[depth];
      const end = offsets[v + 1];
      let descended = false;
      while (callEdge[depth] < end) {
        const e = edgeList[callEdge[depth]++];
        if (!keepEdge(e)) continue;
        const w = edgeTarget[e];
        if (index[w] === UNSEEN) {
          index[w] = low[w] = counter++;
          stack[stackTop++] = w;
          onStack[w] = 1;
          depth++;
          callNode[depth] = w;
          callEdge[depth] = offsets[w];
          descended = true;
          break;
        }
        if (onStack[w] && index[w] < low[v]) low[v] = index[w];
      }
      if (descended) continue;
      if (low[v] === index[v]) {
        const members: number[] = [];
        let w: number;
        do {
          w = stack[--stackTop];
          onStack[w] = 0;
          componentOf[w] = found.length;
          members.push(w);
        } while (w !== v);
        found.push(members.sort((a, b) => a - b));
      }
      depth--;
      if (depth >= 0) {
        const parent = callNode[depth];
        if (low[v] < low[parent]) low[parent] = low[v];
      }
    }
  }

  // Renumber by smallest member so the numbering does not depend on traversal details.
  const order = found.map((members, i) => i).sort((a, b) => found[a][0] - found[b][0]);
  const renumber = new Int32Array(found.length);
  order.forEach((old, i) => (renumber[old] = i));
  for (let v = 0; v < nodeCount; v++) componentOf[v] = renumber[componentOf[v]];
  return { componentOf, components: order.map((i) => found[i]) };
}
