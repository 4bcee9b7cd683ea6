import { TaskDag, dagOrder } from './critical-path';

/**
 * A lower bound on the makespan of any schedule of a task DAG on `slots` identical slots, tighter than
 * max(critical path, total work / slots) when the two are close — exactly the shape of a distribution whose
 * toolchain bootstrap is a long chain that most of the tree waits for.
 *
 * Head bound: task v cannot start before es(v), the longest chain of durations leading to it. So for any time h,
 * at least min(d(v), max(0, es(v) + d(v) − h)) of v's work happens after h, and the slots need
 * h + (that work summed over all tasks) / slots to finish. Tail bound: the mirror image with q(v) = critical path
 * of v minus its duration (what must still run after v ends): at least min(d(v), max(0, q(v) + d(v) − h)) of v's
 * work happens more than h before the end. Each is maximised with one sweep over the 2n breakpoints
 * (Fernandez–Bussell style energetic reasoning, restricted to prefixes and suffixes so it stays O(n log n)).
 */
export function loadBound(dag: TaskDag, duration: ArrayLike<number>, cp: ArrayLike<number>, slots: number): number {
  const n = dag.ids.length;
  if (n === 0 || slots <= 0) return 0;
  const head = new Float64Array(n);
  for (const v of dagOrder(dag)) {
    const end = head[v] + duration[v];
    for (let j = dag.succOffsets[v]; j < dag.succOffsets[v + 1]; j++) if (end > head[dag.succ[j]]) head[dag.succ[j]] = end;
  }
  const tail = new Float64Array(n);
  for (let v = 0; v < n; v++) tail[v] = cp[v] - duration[v];
  return Math.max(sweep(head, duration, slots), sweep(tail, duration, slots));
}

/** max over h of h + (Σ_v |[release(v), release(v) + d(v)] ∩ [h, ∞)|) / slots. */
function sweep(release: Float64Array, duration: ArrayLike<number>, slots: number): number {
  const n = release.length;
  // Events sorted by time, descending: at release + d a task's interval starts (sweeping down), at release it ends.
  const time = new Float64Array(2 * n);
  const delta = new Int8Array(2 * n);
  for (let v = 0; v < n; v++) {
    time[2 * v] = release[v] + duration[v];
    delta[2 * v] = 1;
    time[2 * v + 1] = release[v];
    delta[2 * v + 1] = -1;
  }
  const events = Array.from({ length: 2 * n }, (_, i) => i).sort((a, b) => time[b] - time[a] || delta[b] - delta[a]);
  let best = 0;
  let work = 0;
  let active = 0;
  let previous = events.length > 0 ? time[events[0]] : 0;
  for (const e of events) {
    work += active * (previous - time[e]);
    previous = time[e];
    active += delta[e];
    const candidate = time[e] + work / slots;
    if (candidate > best) best = candidate;
  }
  return best;
}
