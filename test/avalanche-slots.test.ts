/** The builder's shared build slots (workers/avalanche/build-slots.ts), without Temporal. */
import type { ActivitySlotInfo, SlotReleaseContext } from '@temporalio/worker';
import { BuildSlots } from '../workers/avalanche/build-slots';

const used = (): SlotReleaseContext<ActivitySlotInfo> => ({ permit: {}, slotInfo: { type: 'activity', activityType: 'buildRecipe' } });
const unused = (): SlotReleaseContext<ActivitySlotInfo> => ({ permit: {} });
const reserveCtx = { slotType: 'activity' as const, taskQueue: 'q', workerIdentity: 'w', workerBuildId: '', isSticky: false };

describe('build slots shared by a builder\'s workers', () => {
  it('hands out at most its capacity and counts the slots in use', async () => {
    const slots = new BuildSlots(2);
    await slots.reserveSlot(reserveCtx, new AbortController().signal);
    expect(slots.tryReserveSlot()).not.toBeNull();
    expect(slots.tryReserveSlot()).toBeNull();
    slots.markSlotUsed({ permit: {}, slotInfo: { type: 'activity', activityType: 'buildRecipe' } });
    expect(slots.busy).toBe(1);
    slots.releaseSlot(used());
    expect(slots.busy).toBe(0);
    expect(slots.tryReserveSlot()).not.toBeNull();
  });

  it('makes a waiting worker wait for a release, first come first served', async () => {
    const slots = new BuildSlots(1);
    await slots.reserveSlot(reserveCtx, new AbortController().signal);
    const order: string[] = [];
    const a = slots.reserveSlot(reserveCtx, new AbortController().signal).then(() => order.push('a'));
    const b = slots.reserveSlot(reserveCtx, new AbortController().signal).then(() => order.push('b'));
    await new Promise((r) => setImmediate(r));
    expect(order).toEqual([]);
    slots.releaseSlot(unused());
    await a;
    expect(order).toEqual(['a']);
    slots.releaseSlot(unused());
    await b;
    expect(order).toEqual(['a', 'b']);
  });

  it('rejects an aborted reservation with AbortError and does not hand it a permit later', async () => {
    const slots = new BuildSlots(1);
    await slots.reserveSlot(reserveCtx, new AbortController().signal);
    const abort = new AbortController();
    const waiting = slots.reserveSlot(reserveCtx, abort.signal);
    abort.abort();
    await expect(waiting).rejects.toMatchObject({ name: 'AbortError' });
    slots.releaseSlot(unused());
    expect(slots.tryReserveSlot()).not.toBeNull();
  });

  it('grants no permit while admission holds builds back, and hands the free ones to waiting workers when it opens', async () => {
    const slots = new BuildSlots(2);
    slots.setAdmitting(false);
    expect(slots.tryReserveSlot()).toBeNull();
    const granted: string[] = [];
    const a = slots.reserveSlot(reserveCtx, new AbortController().signal).then(() => granted.push('a'));
    const b = slots.reserveSlot(reserveCtx, new AbortController().signal).then(() => granted.push('b'));
    const c = slots.reserveSlot(reserveCtx, new AbortController().signal).then(() => granted.push('c'));
    await new Promise((r) => setImmediate(r));
    expect(granted).toEqual([]);
    slots.setAdmitting(true);
    await Promise.all([a, b]);
    expect(granted).toEqual(['a', 'b']);
    // A build ending while the gate is closed returns its permit to the pool instead of to the waiting worker.
    slots.setAdmitting(false);
    slots.releaseSlot(used());
    await new Promise((r) => setImmediate(r));
    expect(granted).toEqual(['a', 'b']);
    slots.setAdmitting(true);
    await c;
    expect(granted).toEqual(['a', 'b', 'c']);
  });

  it('stays closed while any owner holds it: admission reopening does not reopen what the standing closed', async () => {
    const slots = new BuildSlots(1);
    slots.setClosed('standing', true, 'builder b1 is drained by admin');
    slots.setAdmitting(false);
    slots.setAdmitting(true);
    expect(slots.open).toBe(false);
    expect(slots.closedReasons).toEqual(['builder b1 is drained by admin']);
    expect(slots.tryReserveSlot()).toBeNull();
    let granted = false;
    const waiting = slots.reserveSlot(reserveCtx, new AbortController().signal).then(() => (granted = true));
    slots.setAdmitting(false);
    slots.setClosed('standing', false);
    await new Promise((r) => setImmediate(r));
    expect(granted).toBe(false);
    expect(slots.closedBy('admission')).toBe(true);
    slots.setAdmitting(true);
    await waiting;
    expect(granted).toBe(true);
  });

  it('refuses a capacity below one', () => {
    expect(() => new BuildSlots(0)).toThrow(/≥ 1/);
  });
});
