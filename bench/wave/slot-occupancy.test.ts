import { firstFreeAt, heldAt, heldTime, idleGaps, waitForFreedSlot, waitWithFreeSlot } from './slot-occupancy';

const busy = [
  { start: 0, end: 100 },
  { start: 50, end: 150 },
  { start: 100, end: 300 },
];

describe('slot occupancy', () => {
  it('counts builds holding a slot, an interval ending at t no longer holding it', () => {
    expect(heldAt(busy, 60)).toBe(2);
    expect(heldAt(busy, 100)).toBe(2);
    expect(heldAt(busy, 150)).toBe(1);
    expect(heldAt(busy, 400)).toBe(0);
  });

  it('finds the first moment a slot is free', () => {
    expect(firstFreeAt(busy, 2, 10)).toBe(10);
    expect(firstFreeAt(busy, 2, 60)).toBe(150);
    expect(firstFreeAt(busy, 1, 60)).toBe(300);
    expect(firstFreeAt(busy, 3, 60)).toBe(60);
  });

  it('counts only the wait while a slot was free', () => {
    // ready at 60 with both slots taken until 150, started at 180: 30 ms of waiting with a free slot.
    expect(waitWithFreeSlot(60, 180, busy, 2)).toBe(30);
    // ready at 10 with a slot free, started at 40.
    expect(waitWithFreeSlot(10, 40, busy, 2)).toBe(30);
    // started before a slot was free (the builder took more than its slots): no free-slot wait.
    expect(waitWithFreeSlot(60, 120, busy, 2)).toBe(0);
    // ready at 10, started at 200: free 10–50 and 150–200, both slots taken 50–150 (not counted).
    expect(waitWithFreeSlot(10, 200, busy, 2)).toBe(90);
  });

  it('counts the wait since a slot was last freed for the build, each idle stretch once', () => {
    // ready at 60 with both slots taken until 150, started at 180: the slot freed at 150 took 30 ms to fill.
    expect(waitForFreedSlot(60, 180, busy, 2)).toBe(30);
    // ready at 10 with a slot already free: from ready.
    expect(waitForFreedSlot(10, 40, busy, 2)).toBe(30);
    // started while every other slot was held (over-booked): nothing.
    expect(waitForFreedSlot(60, 120, busy, 2)).toBe(0);
    // ready at 10, started at 200: the free stretch 10–50 went to the build started at 50, not to this one; only the
    // stretch since 150 counts (waitWithFreeSlot charges both: 90).
    expect(waitForFreedSlot(10, 200, busy, 2)).toBe(50);
    expect(waitWithFreeSlot(10, 200, busy, 2)).toBe(90);
  });

  it('sums held slot time', () => {
    expect(heldTime(busy)).toBe(400);
  });
});

describe('idle gaps between builds on a slot', () => {
  it('lays builds onto lanes and returns the gaps after each lane’s first build', () => {
    const builds = [
      { start: 0, end: 100 },
      { start: 10, end: 50 },
      { start: 60, end: 90 },
      { start: 130, end: 200 },
    ];
    // lane 1: 0–100; lane 2: 10–50, then 60–90 (gap 10), then 130 (gap 40: the lane free longest takes it).
    expect(idleGaps(builds, 2).sort((a, b) => a - b)).toEqual([10, 40]);
    // one slot over-booked: overlapping builds count no idle time, the gap before 130 does.
    expect(idleGaps(builds, 1)).toEqual([0, 0, 30]);
  });
});
