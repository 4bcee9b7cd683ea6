/**
 * A builder's backlog: builds it has accepted from Temporal beyond its slots (SUMMIT_BUILDER_BACKLOG) wait here
 * for a slot, and a freed slot goes to the waiting build with the longest critical path (first come first served
 * among equals). The hub queues up to that many builds per builder ahead of its free slots
 * (SUMMIT_DISPATCH_PREFETCH), so a slot that frees starts its next build at once instead of after the hub's round
 * trip (built → recorded → hub told → plan → build workflow started → activity polled), and what the builder holds
 * still starts in priority order. With no backlog every build takes its slot at once, as before.
 */
export interface BuildTicket {
  /** The build's critical path (seconds; longer goes first). */
  criticalPath: number;
}

interface Waiter extends BuildTicket {
  seq: number;
  grant: () => void;
}

export class BuildQueue {
  private running = 0;
  private seq = 0;
  private readonly waiting: Waiter[] = [];

  constructor(readonly slots: number) {
    if (!Number.isInteger(slots) || slots < 1) throw new Error(`build slots must be a whole number ≥ 1, not ${slots}`);
  }

  /** Builds holding a slot now. */
  get busy(): number {
    return this.running;
  }

  /** Builds accepted and waiting for a slot. */
  get queued(): number {
    return this.waiting.length;
  }

  /**
   * Wait for a slot; resolves with the function that gives it back (call it once, when the build ends). Rejects
   * with the signal's reason if the signal aborts first (the build was cancelled while it waited).
   */
  async acquire(ticket: BuildTicket, signal?: AbortSignal): Promise<() => void> {
    signal?.throwIfAborted();
    if (this.running < this.slots && this.waiting.length === 0) {
      this.running++;
      return this.releaser();
    }
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        ...ticket,
        seq: this.seq++,
        grant: () => {
          signal?.removeEventListener('abort', onAbort);
          resolve(this.releaser());
        },
      };
      const onAbort = () => {
        const i = this.waiting.indexOf(waiter);
        if (i >= 0) this.waiting.splice(i, 1);
        reject(signal!.reason);
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.waiting.push(waiter);
      this.dispatch();
    });
  }

  private releaser(): () => void {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.running--;
      this.dispatch();
    };
  }

  /** Hand free slots to the waiting builds, longest critical path first. */
  private dispatch(): void {
    while (this.running < this.slots && this.waiting.length > 0) {
      let best = 0;
      for (let i = 1; i < this.waiting.length; i++) {
        const w = this.waiting[i];
        const b = this.waiting[best];
        if (w.criticalPath > b.criticalPath || (w.criticalPath === b.criticalPath && w.seq < b.seq)) best = i;
      }
      const [next] = this.waiting.splice(best, 1);
      this.running++;
      next.grant();
    }
  }
}
