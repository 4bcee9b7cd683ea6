import { BuilderSpec, SizeClass, slotsOf } from '../builder';
import { TaskDag, criticalPaths, lowerBound } from '../critical-path';
import { loadBound } from '../load-bound';
import { GraphInputError } from '../graph';
import { MinHeap } from '../heap';
import { PolicyName, makePolicy, sizeClassesByDuration } from './policies';

/** A task the simulated farm runs. */
export interface SimTask {
  /** Variant it builds for: only builders serving it may run it. */
  variant: string;
  /** Seconds. */
  duration: number;
  /** Size class for the `aeryn` policy; default derived from durations (see sizeClassesByDuration). */
  size?: SizeClass;
}

export interface SimulationInput {
  /** `tasks[i]` is task i of `dag`. */
  dag: TaskDag;
  tasks: readonly SimTask[];
  builders: readonly BuilderSpec[];
  policy: PolicyName;
}

export interface ScheduledTask {
  id: string;
  builder: string;
  start: number;
  end: number;
}

export interface SimulationResult {
  policy: PolicyName;
  builders: number;
  slots: number;
  makespan: number;
  /**
   * No schedule can beat it: the largest of the critical path, total work / slots, and the head and tail load
   * bounds (core/graph/load-bound.ts), which are much tighter when the critical path and the work per slot are
   * close (a long bootstrap chain most of the tree waits for).
   */
  lowerBound: number;
  /** max(critical path, total work / slots) alone, the bound this ratio was first reported against. */
  classicBound: number;
  /** makespan / lowerBound (1 = provably optimal). */
  ratio: number;
  /** Busy slot-time / (makespan × slots). */
  utilisation: number;
  criticalPath: number;
  totalWork: number;
  /** In start order. */
  schedule: ScheduledTask[];
}

/**
 * Discrete-event simulation of a farm executing a task DAG under a policy. Time jumps from one build completion
 * to the next; at time 0 and after each batch of completions, the ready tasks are offered in policy order to the
 * builders with free slots. Deterministic: every tie is broken by index or id.
 */
export function simulate(input: SimulationInput): SimulationResult {
  const { dag, tasks, builders } = input;
  const n = dag.ids.length;
  if (tasks.length !== n) throw new GraphInputError(`simulate: ${tasks.length} tasks for a graph of ${n}`);
  for (const task of tasks) {
    if (!builders.some((b) => b.serves.includes(task.variant) && slotsOf(b) > 0)) {
      throw new GraphInputError(`simulate: no builder serves ${task.variant}`);
    }
  }
  const duration = Float64Array.from(tasks, (t) => t.duration);
  const cp = criticalPaths(dag, duration);
  const derived = sizeClassesByDuration(duration);
  const policy = makePolicy(input.policy, {
    dag,
    variant: tasks.map((t) => t.variant),
    criticalPath: cp,
    size: tasks.map((t, i) => t.size ?? derived[i]),
    builders,
  });

  const free = builders.map(slotsOf);
  const slots = free.reduce((a, b) => a + b, 0);
  const indegree = dag.predCount.slice();
  let ready: number[] = [];
  const insertReady = (task: number): void => {
    let lo = 0;
    let hi = ready.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (policy.compare(ready[mid], task) < 0) lo = mid + 1;
      else hi = mid;
    }
    ready.splice(lo, 0, task);
  };
  for (let v = 0; v < n; v++) if (indegree[v] === 0) insertReady(v);

  // Running builds by (end time, task index): completions at equal times are handled in index order.
  const running = new MinHeap<[number, number, number]>((a, b) => a[0] < b[0] || (a[0] === b[0] && a[1] < b[1]));
  const schedule: ScheduledTask[] = [];
  let now = 0;
  let done = 0;
  let busy = 0;
  while (done < n) {
    let freeSlots = free.reduce((a, b) => a + b, 0);
    if (freeSlots > 0 && ready.length > 0) {
      const waiting: number[] = [];
      for (const task of ready) {
        const b = freeSlots > 0 ? policy.pickBuilder(task, free) : -1;
        if (b < 0) {
          waiting.push(task);
          continue;
        }
        free[b]--;
        freeSlots--;
        const end = now + duration[task];
        running.push([end, task, b]);
        busy += duration[task];
        schedule.push({ id: dag.ids[task], builder: builders[b].id, start: now, end });
      }
      ready = waiting;
    }
    if (running.size === 0) throw new Error(`simulate: ${n - done} tasks can never start`);
    now = running.peek()![0];
    while (running.size > 0 && running.peek()![0] === now) {
      const [, task, builder] = running.pop()!;
      free[builder]++;
      done++;
      for (let j = dag.succOffsets[task]; j < dag.succOffsets[task + 1]; j++) {
        if (--indegree[dag.succ[j]] === 0) insertReady(dag.succ[j]);
      }
    }
  }

  const bound = lowerBound(cp, duration, slots);
  const best = Math.max(bound.bound, loadBound(dag, duration, cp, slots));
  const makespan = now;
  return {
    policy: input.policy,
    builders: builders.length,
    slots,
    makespan,
    lowerBound: best,
    classicBound: bound.bound,
    ratio: best > 0 ? makespan / best : 1,
    utilisation: makespan > 0 ? busy / (makespan * slots) : 1,
    criticalPath: bound.criticalPath,
    totalWork: bound.totalWork,
    schedule,
  };
}
