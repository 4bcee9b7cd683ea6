import { BuilderSpec, SIZE_RANK, SizeClass, sizeOf } from '../builder';
import { TaskDag, byPriority, dagOrder } from '../critical-path';
import { pickBuilder } from '../dispatch';
import { compareText } from '../compare';

/**
 * The dispatch policies the simulator compares. Each is a total order on ready tasks plus a choice of builder;
 * the simulator offers ready tasks in that order whenever a slot frees up or a task becomes ready.
 */
export type PolicyName = 'critical-path' | 'aeryn' | 'first-idle';
export const POLICY_NAMES: readonly PolicyName[] = ['critical-path', 'aeryn', 'first-idle'];

export interface Policy {
  name: PolicyName;
  /** Negative when ready task `a` is offered before `b`; never 0 for distinct tasks. */
  compare(a: number, b: number): number;
  /** Builder index for task `task` among those with free slots, or -1 to leave it waiting. */
  pickBuilder(task: number, free: ArrayLike<number>): number;
}

export interface PolicyContext {
  dag: TaskDag;
  variant: readonly string[];
  criticalPath: ArrayLike<number>;
  size: readonly SizeClass[];
  builders: readonly BuilderSpec[];
}

export function makePolicy(name: PolicyName, ctx: PolicyContext): Policy {
  switch (name) {
    case 'critical-path':
      return criticalPathPolicy(ctx);
    case 'aeryn':
      return aerynPolicy(ctx);
    case 'first-idle':
      return firstIdlePolicy(ctx);
  }
}

/** Ours: highest remaining critical path first (ties by id), builder as the pipeline's dispatcher picks it. */
function criticalPathPolicy(ctx: PolicyContext): Policy {
  return {
    name: 'critical-path',
    compare: byPriority(ctx.dag.ids, ctx.criticalPath),
    pickBuilder: (task, free) => Math.max(-1, pickBuilder(ctx.builders, free, ctx.variant[task])),
  };
}

/**
 * The Rust hub's (AerynOS/infra summit): its queue is the open tasks in task-id order, "available" being those
 * with no open dependency left; allocation takes available tasks by size class, largest first (a stable sort, so
 * queue order within a class), and gives each to the smallest idle builder whose size class fits it; a task that
 * fits no idle builder waits and smaller ones go ahead. Size classes come from an admin's large/medium lists.
 */
function aerynPolicy(ctx: PolicyContext): Policy {
  return {
    name: 'aeryn',
    compare: (a, b) => SIZE_RANK[ctx.size[b]] - SIZE_RANK[ctx.size[a]] || compareText(ctx.dag.ids[a], ctx.dag.ids[b]),
    pickBuilder: (task, free) => {
      const need = SIZE_RANK[ctx.size[task]];
      let best = -1;
      ctx.builders.forEach((builder, b) => {
        if (free[b] <= 0 || !builder.serves.includes(ctx.variant[task])) return;
        const has = SIZE_RANK[sizeOf(builder)];
        if (has >= need && (best === -1 || has < SIZE_RANK[sizeOf(ctx.builders[best])])) best = b;
      });
      return best;
    },
  };
}

/** The D hub's (serpent-os summit): ready tasks in topological order, each to the first idle builder. */
function firstIdlePolicy(ctx: PolicyContext): Policy {
  const topo = dagOrder(ctx.dag);
  const rank = new Int32Array(topo.length);
  topo.forEach((task, i) => (rank[task] = i));
  return {
    name: 'first-idle',
    compare: (a, b) => rank[a] - rank[b],
    pickBuilder: (task, free) => ctx.builders.findIndex((builder, b) => free[b] > 0 && builder.serves.includes(ctx.variant[task])),
  };
}

/**
 * Size classes when no admin list exists (the simulator's default): the longest 5% of tasks are large, the next
 * 15% medium, the rest small — the shape of the real hub's config, where a handful of toolchains and browsers are
 * listed as large and a few dozen more as medium. Ties by task index.
 */
export function sizeClassesByDuration(duration: ArrayLike<number>): SizeClass[] {
  const n = duration.length;
  const byLength = Array.from({ length: n }, (_, i) => i).sort((a, b) => duration[b] - duration[a] || a - b);
  const large = Math.ceil(n * 0.05);
  const medium = large + Math.ceil(n * 0.15);
  const size: SizeClass[] = new Array(n);
  byLength.forEach((task, i) => (size[task] = i < large ? 'large' : i < medium ? 'medium' : 'small'));
  return size;
}
