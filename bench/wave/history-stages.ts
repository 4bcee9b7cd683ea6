import type { temporal } from '@temporalio/proto';

/**
 * Activity timings of one build workflow from its Temporal history (pure): when the workflow started and, per
 * activity, when it was scheduled, started and closed. Read by activity type, so the bench keeps working when
 * the workflow's internals move, as long as the activities keep their names.
 */
export interface ActivityTiming {
  type: string;
  scheduledAt: number;
  startedAt?: number;
  closedAt?: number;
  /** completed, failed, timedOut, cancelled or open. */
  outcome: string;
}

export interface WorkflowTimings {
  startedAt?: number;
  closedAt?: number;
  activities: ActivityTiming[];
}

type HistoryEvent = temporal.api.history.v1.IHistoryEvent;

function ms(ts: HistoryEvent['eventTime']): number {
  if (!ts) return NaN;
  return Number(ts.seconds?.toString() ?? 0) * 1000 + Math.floor((ts.nanos ?? 0) / 1e6);
}

export function workflowTimings(events: readonly HistoryEvent[]): WorkflowTimings {
  const bySchedule = new Map<string, ActivityTiming>();
  const out: WorkflowTimings = { activities: [] };
  for (const e of events) {
    const at = ms(e.eventTime);
    if (e.workflowExecutionStartedEventAttributes) out.startedAt = at;
    else if (e.workflowExecutionCompletedEventAttributes || e.workflowExecutionFailedEventAttributes || e.workflowExecutionTimedOutEventAttributes
      || e.workflowExecutionCanceledEventAttributes || e.workflowExecutionTerminatedEventAttributes) out.closedAt = at;
    else if (e.activityTaskScheduledEventAttributes) {
      const timing: ActivityTiming = { type: e.activityTaskScheduledEventAttributes.activityType?.name ?? '?', scheduledAt: at, outcome: 'open' };
      bySchedule.set(String(e.eventId), timing);
      out.activities.push(timing);
    } else if (e.activityTaskStartedEventAttributes) {
      const t = bySchedule.get(String(e.activityTaskStartedEventAttributes.scheduledEventId));
      if (t) t.startedAt = at;
    } else {
      const closed: Array<[string, { scheduledEventId?: unknown } | null | undefined]> = [
        ['completed', e.activityTaskCompletedEventAttributes], ['failed', e.activityTaskFailedEventAttributes],
        ['timedOut', e.activityTaskTimedOutEventAttributes], ['cancelled', e.activityTaskCanceledEventAttributes],
      ];
      for (const [outcome, attrs] of closed) {
        if (!attrs) continue;
        const t = bySchedule.get(String(attrs.scheduledEventId));
        if (t) Object.assign(t, { closedAt: at, outcome });
      }
    }
  }
  return out;
}

/** Scheduled → closed of the completed activities of one type, summed (several attempts of a build are one). */
export function activityMs(t: WorkflowTimings, type: string): number | undefined {
  const done = t.activities.filter((a) => a.type === type && a.closedAt !== undefined);
  if (done.length === 0) return undefined;
  return done.reduce((sum, a) => sum + (a.closedAt! - a.scheduledAt), 0);
}

export function completedCount(t: WorkflowTimings, type: string): number {
  return t.activities.filter((a) => a.type === type && a.outcome === 'completed').length;
}

/**
 * Time the workflow spent between one activity closing and the next being scheduled: the workflow task that
 * decides the next step (waiting for a worker of the summit queue, replay, the decision).
 */
export function betweenActivitiesMs(t: WorkflowTimings): number {
  const acts = [...t.activities].sort((a, b) => a.scheduledAt - b.scheduledAt);
  let gap = 0;
  for (let i = 1; i < acts.length; i++) {
    const prev = acts[i - 1].closedAt;
    if (prev !== undefined) gap += Math.max(0, acts[i].scheduledAt - prev);
  }
  return gap;
}
