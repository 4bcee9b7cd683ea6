import type { ActivitySlotInfo, CustomSlotSupplier, SlotMarkUsedContext, SlotPermit, SlotReleaseContext } from '@temporalio/worker';

/**
 * A builder's build slots, shared by its workers. A builder serving two ISA levels runs one Temporal Worker per
 * ISA queue; `maxConcurrentActivityTaskExecutions` would cap each worker alone, so a 2-slot builder could run 4
 * builds. This slot supplier is given to every ISA worker instead: a worker must hold one of the builder's
 * permits to poll, so builds in flight never exceed the slots, whatever queue they came from.
 *
 * A polling worker holds a permit while it waits for a task. With fewer slots than queues the queues take turns
 * (a long poll returns after about a minute and hands the permit on); with at least one slot per queue, and one
 * poller per worker, every queue is always polled.
 *
 * Admission (workers/avalanche/admission.ts) closes the gate while the host is under pressure: no permit is
 * granted, so no worker polls for a new build, until it opens again. Builds running go on; a poll already
 * waiting when the gate closed may still bring one build, which the builder hands back (avalanche.ts).
 *
 * The gate has several reasons to be closed, each set and lifted by its owner: `admission` (host pressure) and
 * `standing` (revoked, drained or suspended: workers/avalanche/standing.ts). It is open only when none holds, so
 * one owner reopening never reopens what another closed.
 */
export class BuildSlots implements CustomSlotSupplier<ActivitySlotInfo> {
  readonly type = 'custom' as const;
  private free: number;
  private readonly waiting: Array<() => void> = [];
  private inUse = 0;
  /** Why the gate is closed, by owner (`admission`, `standing`); open when empty. */
  private readonly closures = new Map<string, string>();

  /**
   * `backlog` more permits than slots (SUMMIT_BUILDER_BACKLOG): builds accepted ahead wait for a slot in the
   * builder's own queue (activities/avalanche/build-queue.ts), in priority order. `capacity` stays the slots.
   */
  constructor(readonly capacity: number, readonly backlog = 0) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new Error(`build slots must be a whole number ≥ 1, not ${capacity}`);
    if (!Number.isInteger(backlog) || backlog < 0) throw new Error(`the build backlog must be a whole number ≥ 0, not ${backlog}`);
    this.free = capacity + backlog;
  }

  /** Builds running now (those accepted beyond the slots wait and are not counted). */
  get busy(): number {
    return Math.min(this.inUse, this.capacity);
  }

  /** Builds accepted from Temporal: running, and waiting in the backlog. */
  get accepted(): number {
    return this.inUse;
  }

  /** Permits not handed out (a polling worker holds one while it waits for a build). */
  get available(): number {
    return this.free;
  }

  /** False while any owner holds new builds back. */
  get open(): boolean {
    return this.closures.size === 0;
  }

  /** Whether `owner` holds the gate closed. */
  closedBy(owner: string): boolean {
    return this.closures.has(owner);
  }

  /** Why the gate is closed now, one line per owner (empty when open). */
  get closedReasons(): string[] {
    return [...this.closures.values()];
  }

  /** Admission's side of the gate (workers/avalanche/admission.ts). */
  setAdmitting(open: boolean): void {
    this.setClosed('admission', !open, 'under pressure');
  }

  /**
   * Close the gate for `owner` (with why), or lift `owner`'s closure; once no owner holds it, the free permits go to
   * the workers waiting, first come first served.
   */
  setClosed(owner: string, closed: boolean, why = owner): void {
    if (closed) this.closures.set(owner, why);
    else this.closures.delete(owner);
    while (this.open && this.free > 0 && this.waiting.length > 0) {
      this.free--;
      this.waiting.shift()!();
    }
  }

  async reserveSlot(_ctx: unknown, abortSignal: AbortSignal): Promise<SlotPermit> {
    if (this.open && this.free > 0) {
      this.free--;
      return {};
    }
    return new Promise<SlotPermit>((resolve, reject) => {
      const grant = () => {
        abortSignal.removeEventListener('abort', onAbort);
        resolve({});
      };
      const onAbort = () => {
        const i = this.waiting.indexOf(grant);
        if (i >= 0) this.waiting.splice(i, 1);
        reject(Object.assign(new Error('slot reservation aborted'), { name: 'AbortError' }));
      };
      abortSignal.addEventListener('abort', onAbort, { once: true });
      this.waiting.push(grant);
    });
  }

  tryReserveSlot(): SlotPermit | null {
    if (!this.open || this.free === 0) return null;
    this.free--;
    return {};
  }

  /**
   * A build that arrives on the builder's own queue (a verification build, workers/avalanche.ts) takes one of the
   * same slots, waiting its turn like a polling worker; the returned function gives it back. It counts as busy.
   */
  async acquire(signal: AbortSignal): Promise<() => void> {
    await this.reserveSlot(undefined, signal);
    this.inUse++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.releaseSlot({ slotInfo: { type: 'activity' } } as unknown as SlotReleaseContext<ActivitySlotInfo>);
    };
  }

  markSlotUsed(_ctx: SlotMarkUsedContext<ActivitySlotInfo>): void {
    this.inUse++;
  }

  releaseSlot(ctx: SlotReleaseContext<ActivitySlotInfo>): void {
    if (ctx.slotInfo) this.inUse = Math.max(0, this.inUse - 1);
    // Hand the permit straight to a waiting worker, first come first served, so no queue starves.
    const next = this.open ? this.waiting.shift() : undefined;
    if (next) next();
    else this.free++;
  }
}
