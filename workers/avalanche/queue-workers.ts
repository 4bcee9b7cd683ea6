import type { Worker } from '@temporalio/worker';

/**
 * The builder's Temporal workers, one per task queue, as a set that can change while it runs: a builder whose trust
 * level changes starts or stops polling the official queues (workers/avalanche/standing.ts). `done` resolves once
 * every worker has stopped (after stopAll, or the SDK's own shutdown on SIGINT/SIGTERM) and rejects with the first
 * worker's failure, after stopping the others.
 */
export class QueueWorkers {
  private readonly running = new Map<string, { worker: Worker; run: Promise<void> }>();
  private settle!: { resolve: () => void; reject: (err: unknown) => void };
  private failed = false;
  /** Reconciliations run one after the other: two at once could start two workers on one queue. */
  private turn: Promise<void> = Promise.resolve();
  readonly done: Promise<void>;

  constructor(private readonly create: (queue: string) => Promise<Worker>) {
    this.done = new Promise((resolve, reject) => (this.settle = { resolve, reject }));
  }

  get queues(): string[] {
    return [...this.running.keys()];
  }

  /** Start a worker on each queue of `queues` not polled yet, and shut down those on queues not in it. */
  reconcile(queues: readonly string[]): Promise<void> {
    const next = this.turn.then(() => this.apply(queues));
    this.turn = next.catch(() => undefined);
    return next;
  }

  private async apply(queues: readonly string[]): Promise<void> {
    for (const [queue, w] of this.running) {
      if (!queues.includes(queue) && w.worker.getState() === 'RUNNING') w.worker.shutdown();
    }
    for (const queue of queues) {
      if (this.running.has(queue) || this.failed) continue;
      const worker = await this.create(queue);
      const run = worker.run().then(
        () => this.ended(queue),
        (err: unknown) => {
          this.failed = true;
          this.stopAll();
          this.running.delete(queue);
          this.settle.reject(err);
        },
      );
      this.running.set(queue, { worker, run });
    }
  }

  /** Shut every worker down (running builds get the workers' grace, then are cancelled); `done` then resolves. */
  stopAll(): void {
    for (const { worker } of this.running.values()) if (worker.getState() === 'RUNNING') worker.shutdown();
  }

  private ended(queue: string): void {
    this.running.delete(queue);
    if (this.running.size === 0) this.settle.resolve();
  }
}
