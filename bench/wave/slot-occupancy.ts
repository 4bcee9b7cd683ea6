/**
 * When a builder's slots were free (pure). A slot is held from the moment its build activity started on the
 * builder to the moment it closed; a ready build that waits while every slot is held is waiting for capacity,
 * not for orchestration, so the "ready → started while a slot is free" figure counts only the rest.
 */
export interface Interval {
  start: number;
  end: number;
}

/** Builds holding a slot at `t` (an interval holds [start, end)). */
export function heldAt(intervals: readonly Interval[], t: number): number {
  let n = 0;
  for (const i of intervals) if (i.start <= t && t < i.end) n++;
  return n;
}

/** The first moment at or after `t` when fewer than `slots` builds hold a slot. */
export function firstFreeAt(intervals: readonly Interval[], slots: number, t: number): number {
  if (heldAt(intervals, t) < slots) return t;
  const ends = intervals.map((i) => i.end).filter((e) => e > t).sort((a, b) => a - b);
  for (const e of ends) if (heldAt(intervals, e) < slots) return e;
  return ends.length ? ends[ends.length - 1] : t;
}

/** `ready`, `started` and every moment between them at which one of the other builds took or gave back a slot, in order. */
function cutsBetween(ready: number, started: number, others: readonly Interval[]): number[] {
  const cuts = new Set<number>([ready, started]);
  for (const i of others) {
    if (i.start > ready && i.start < started) cuts.add(i.start);
    if (i.end > ready && i.end < started) cuts.add(i.end);
  }
  return [...cuts].sort((a, b) => a - b);
}

/**
 * How long a build waited to start while a slot was free: the time in [ready, started) during which fewer than
 * `slots` of the other builds (`others`, their slot intervals) held a slot. Waits while every slot was busy are
 * capacity, not orchestration, wherever they fall (before, the wait counted from the first free moment on, so a
 * build behind a backlog was charged every busy stretch after its first gap). Never negative.
 */
export function waitWithFreeSlot(ready: number, started: number, others: readonly Interval[], slots: number): number {
  if (started <= ready) return 0;
  const points = cutsBetween(ready, started, others);
  let free = 0;
  for (let k = 0; k + 1 < points.length; k++) if (heldAt(others, points[k]) < slots) free += points[k + 1] - points[k];
  return free;
}

/**
 * How long a build waited once a slot was free for it: from the later of its ready moment and the start of the
 * free stretch its start ended (the last moment before it started from which fewer than `slots` of the other builds
 * held a slot without a break) to its start. A slot freed and taken by another build first does not count
 * against this one: its clock starts again at the next free moment. Each idle stretch is thus charged once, to the
 * build that took the slot, where waitWithFreeSlot charges it to every build waiting at the time. Never negative.
 */
export function waitForFreedSlot(ready: number, started: number, others: readonly Interval[], slots: number): number {
  if (started <= ready) return 0;
  const points = cutsBetween(ready, started, others);
  let waited = 0;
  for (let k = points.length - 2; k >= 0 && heldAt(others, points[k]) < slots; k--) waited += points[k + 1] - points[k];
  return waited;
}

/** Σ of the intervals: slot time held by builds. */
export function heldTime(intervals: readonly Interval[]): number {
  return intervals.reduce((sum, i) => sum + Math.max(0, i.end - i.start), 0);
}

/**
 * Idle time between consecutive builds on the same slot. The builder does not say which slot ran a build, so
 * builds are laid onto `slots` lanes in start order, each onto the lane that became free first; the gaps of
 * each lane between its first and last build are returned (a lane's wait before its first build is left out).
 */
export function idleGaps(intervals: readonly Interval[], slots: number): number[] {
  const lanes: number[] = [];
  const gaps: number[] = [];
  for (const i of [...intervals].sort((a, b) => a.start - b.start)) {
    let best = -1;
    for (let l = 0; l < lanes.length; l++) if (lanes[l] <= i.start && (best < 0 || lanes[l] < lanes[best])) best = l;
    if (best < 0 && lanes.length < slots) {
      lanes.push(i.end);
      continue;
    }
    if (best < 0) best = lanes.indexOf(Math.min(...lanes));
    gaps.push(Math.max(0, i.start - lanes[best]));
    lanes[best] = Math.max(lanes[best], i.end);
  }
  return gaps;
}
