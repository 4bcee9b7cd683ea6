import type { BuildId } from '../../core/contracts/ids';
import { repositoryDir, type VesselLayout } from './layout';
import type { IndexLocks } from './lock';
import { KeptHistory, publishBatch, publishBuilds, type BatchOutcome, type PublishOutcome, type StagedCandidate, type PendingBuild } from './publish';
import { Repository } from './repository';

export interface PublisherOptions {
  /**
   * At most one write of the index starts per this many milliseconds (SUMMIT_PUBLISH_WINDOW); 0, the default: a
   * write starts as soon as the one before it ends. A build arriving when no write started within the last window is
   * written at once either way; only builds arriving sooner wait, for the rest of the window, and share its write.
   */
  windowMs?: number;
  /**
   * Called under the index lock just before a write, with the builds it publishes. Tests hold a write open with it
   * to make builds arrive during a write, and read the order of writes from it.
   */
  beforeWrite?: (index: string, buildIds: readonly BuildId[]) => Promise<void> | void;
}

type Waiting = PendingBuild & { resolve: (o: PublishOutcome) => void; reject: (err: unknown) => void };

/**
 * Coalesced publishing by group commit: one history version per write, each write publishing every build that
 * arrived before it started.
 *
 * Imports fetch and verify on their own, then hand their packages to the publisher of their index and wait. When
 * no write of the index is running, the publisher takes the index lock (which also keeps out admin commands and
 * other vessel processes) and publishes what is waiting at once: a lone import waits only for its own write. Builds
 * arriving while a write runs (or while the lock is held by someone else) wait, and the next write, which starts as
 * soon as the current one ends, publishes all of them with one publishBuilds(); each import resolves with the
 * history that published it or rejects with its own refusal. So at most one write per index runs at a time, and a
 * wave of N builds costs at most min(N, wave time ÷ write time) writes: the longer a write takes (a big index), the
 * more builds the next one carries.
 */
export class IndexPublisher {
  private waiting: Waiting[] = [];
  private inWrite = 0;
  private running = false;
  private lastWriteAt = -Infinity;
  private wake?: () => void;
  private idle: Array<() => void> = [];
  private readonly kept = new KeptHistory();
  private readonly windowMs: number;

  constructor(
    readonly repo: Repository,
    private readonly locks: IndexLocks,
    private readonly options: PublisherOptions = {},
  ) {
    this.windowMs = options.windowMs ?? 0;
  }

  /**
   * Publish a build's verified packages with whatever else is waiting when the next write starts. `signal` (the
   * activity's cancellation) takes the build out while it waits; once its write has started it is published anyway,
   * and a retry finds it published.
   */
  publish(buildId: BuildId, candidates: readonly StagedCandidate[], signal?: AbortSignal): Promise<PublishOutcome> {
    return new Promise<PublishOutcome>((resolve, reject) => {
      const cancelled = (): Error => signal?.reason ?? new Error(`import of ${buildId} cancelled before publishing`);
      if (signal?.aborted) return reject(cancelled());
      const onAbort = (): void => {
        const at = this.waiting.indexOf(entry);
        if (at < 0) return; // its write has started
        this.waiting.splice(at, 1);
        reject(cancelled());
      };
      const entry: Waiting = {
        buildId,
        candidates,
        resolve: (o) => (signal?.removeEventListener('abort', onAbort), resolve(o)),
        reject: (e) => (signal?.removeEventListener('abort', onAbort), reject(e)),
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.waiting.push(entry);
      if (!this.running) {
        this.running = true;
        void this.drain();
      }
    });
  }

  /**
   * A wave's builds and removals in one write of their own (one history), under the index lock: never split across
   * writes, never joined by builds of another wave.
   */
  publishTogether(builds: readonly PendingBuild[], removals: readonly string[]): Promise<BatchOutcome> {
    return this.locks.withLock(this.repo.index, async () => {
      await this.options.beforeWrite?.(this.repo.index, builds.map((b) => b.buildId));
      return publishBatch(this.repo, this.kept, builds, removals);
    });
  }

  /** Builds waiting for a write to take them (for tests and logs). */
  get pending(): number {
    return this.waiting.length;
  }

  /** Builds in the write that is running now. */
  get writing(): number {
    return this.inWrite;
  }

  /** Write what is waiting without waiting for the rest of the window; resolves when nothing is left to write. */
  flush(): Promise<void> {
    if (!this.running) return Promise.resolve();
    this.wake?.();
    return new Promise<void>((resolve) => this.idle.push(resolve));
  }

  /** One write after another while builds wait; `running` is cleared in the same turn as the check that ends it. */
  private async drain(): Promise<void> {
    for (;;) {
      await this.restOfWindow();
      if (this.waiting.length === 0) break;
      try {
        await this.locks.withLock(this.repo.index, () => this.writeWaiting());
      } catch (err) {
        // The lock could not be had (another process held it past the timeout): every waiting build fails with a
        // retryable error rather than wait for ever.
        for (const b of this.waiting.splice(0)) b.reject(err);
      }
    }
    this.running = false;
    for (const resolve of this.idle.splice(0)) resolve();
  }

  private async restOfWindow(): Promise<void> {
    const rest = this.lastWriteAt + this.windowMs - performance.now();
    if (rest <= 0 || this.idle.length > 0) return; // flush() skips every window until nothing waits
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, rest);
      this.wake = () => (clearTimeout(timer), resolve());
    });
    this.wake = undefined;
  }

  private async writeWaiting(): Promise<void> {
    // Taken under the lock, not before: builds arriving while another holder has it join this write.
    const builds = this.waiting.splice(0);
    if (builds.length === 0) return;
    this.lastWriteAt = performance.now();
    this.inWrite = builds.length;
    try {
      await this.options.beforeWrite?.(this.repo.index, builds.map((b) => b.buildId));
      const results = await publishBuilds(this.repo, this.kept, builds);
      for (const [i, r] of results.entries()) {
        if (r.ok) builds[i].resolve(r.outcome);
        else builds[i].reject(r.refusal);
      }
    } catch (err) {
      // Not a refusal (a disk error, a crash of the write): every build of this write is retried and converges.
      for (const b of builds) b.reject(err);
    } finally {
      this.inWrite = 0;
    }
  }
}

/** One publisher per index, created on first use; a vessel worker keeps one set for its lifetime. */
export class Publishers {
  private readonly byIndex = new Map<string, IndexPublisher>();

  constructor(
    private readonly layout: VesselLayout,
    private readonly locks: IndexLocks,
    readonly options: PublisherOptions = {},
  ) {}

  for(index: string): IndexPublisher {
    let p = this.byIndex.get(index);
    if (!p) this.byIndex.set(index, (p = new IndexPublisher(new Repository(index, repositoryDir(this.layout, index)), this.locks, this.options)));
    return p;
  }
}
