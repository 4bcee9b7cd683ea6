import { activityMs, betweenActivitiesMs, completedCount, workflowTimings } from './history-stages';

const at = (ms: number) => ({ seconds: Math.floor(ms / 1000), nanos: (ms % 1000) * 1e6 });

describe('activity timings from a build workflow history', () => {
  const events = [
    { eventId: 1, eventTime: at(1000), workflowExecutionStartedEventAttributes: {} },
    { eventId: 5, eventTime: at(1100), activityTaskScheduledEventAttributes: { activityType: { name: 'buildRecipe' } } },
    { eventId: 6, eventTime: at(1150), activityTaskStartedEventAttributes: { scheduledEventId: 5 } },
    { eventId: 7, eventTime: at(1900), activityTaskFailedEventAttributes: { scheduledEventId: 5 } },
    { eventId: 10, eventTime: at(2000), activityTaskScheduledEventAttributes: { activityType: { name: 'buildRecipe' } } },
    { eventId: 11, eventTime: at(2010), activityTaskStartedEventAttributes: { scheduledEventId: 10 } },
    { eventId: 12, eventTime: at(2500), activityTaskCompletedEventAttributes: { scheduledEventId: 10 } },
    { eventId: 15, eventTime: at(2600), activityTaskScheduledEventAttributes: { activityType: { name: 'importArtefacts' } } },
    { eventId: 16, eventTime: at(2650), activityTaskStartedEventAttributes: { scheduledEventId: 15 } },
    { eventId: 17, eventTime: at(2900), activityTaskCompletedEventAttributes: { scheduledEventId: 15 } },
    { eventId: 20, eventTime: at(3000), workflowExecutionCompletedEventAttributes: {} },
  ];

  it('pairs scheduled, started and closed events by the scheduling event', () => {
    const t = workflowTimings(events as never);
    expect(t.startedAt).toBe(1000);
    expect(t.closedAt).toBe(3000);
    expect(t.activities.map((a) => [a.type, a.scheduledAt, a.startedAt, a.closedAt, a.outcome])).toEqual([
      ['buildRecipe', 1100, 1150, 1900, 'failed'],
      ['buildRecipe', 2000, 2010, 2500, 'completed'],
      ['importArtefacts', 2600, 2650, 2900, 'completed'],
    ]);
  });

  it('sums the attempts of an activity type and counts only completed ones', () => {
    const t = workflowTimings(events as never);
    expect(activityMs(t, 'buildRecipe')).toBe(800 + 500);
    expect(completedCount(t, 'buildRecipe')).toBe(1);
    expect(activityMs(t, 'recordBuilt')).toBeUndefined();
  });

  it('sums the gaps between an activity closing and the next being scheduled', () => {
    // 1900 → 2000 and 2500 → 2600.
    expect(betweenActivitiesMs(workflowTimings(events as never))).toBe(200);
  });
});
