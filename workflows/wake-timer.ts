import { sleep } from '@temporalio/workflow';

/**
 * The wake-up of a workflow loop that waits for a signal or a deadline, with as few timers as possible.
 * `condition(fn, timeout)` starts a timer at every wait and cancels it when a signal comes first: two history
 * events and a timer task on the server per wait, i.e. per build for the hub and the wave. Here a timer stays
 * armed across waits; a new one is started only when none armed fires by the deadline asked for. One armed
 * earlier than needed (the deadline moved on since) wakes the loop once for nothing, and the loop arms the rest.
 */
export class WakeTimer {
  /** Workflow times (ms) at which the armed timers fire. */
  private readonly armed = new Set<number>();
  private rang = false;

  /** The loop wakes within `ms` (≥ 1) from now. */
  within(ms: number): void {
    const at = Date.now() + ms;
    for (const t of this.armed) if (t <= at) return;
    this.armed.add(at);
    void sleep(ms).then(() => {
      this.armed.delete(at);
      this.rang = true;
    });
  }

  /** Whether a timer fired since the last `reset()`: a condition of the loop's wait. */
  get fired(): boolean {
    return this.rang;
  }

  reset(): void {
    this.rang = false;
  }
}
