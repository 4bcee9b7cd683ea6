import type { BuildId } from '../../core/contracts/ids';
import { repositoryDir, type VesselLayout } from './layout';
import type { IndexLocks } from './lock';
import { KeptHistory, publishWindow, type PublishOutcome, type StagedCandidate, type WindowBuild } from './publish';
import { Repository } from './repository';

/**
 * Coalesced publishing: one history version per window, not per build.
 *
 * Imports fetch and verify on their own, then hand their packages to the publisher of their index and wait. The
 * first build to arrive opens a window of `windowMs`; when it closes, every build that arrived meanwhile is
 * published by one publishWindow() under the index lock (which also keeps out admin commands and other vessel
 * processes), and each import resolves with the history that published it or rejects with its own refusal.
 * Builds arriving while a window is being written wait for the next one, so at most one window per index writes
 * at a time and a wave of N builds costs about (wave duration ÷ window) writes instead of N.
 *
 * The window bounds the added latency of a lone import (≤ windowMs) while letting a wave share one write; 0
 * still coalesces the imports that finish in the same turn of the event loop.
 */
export class IndexPublisher {
  private waiting: Array<WindowBuild & { resolve: (o: PublishOutcome) => void; reject: (err: unknown) => void }> = [];
  private timer?: NodeJS.Timeout;
  private writing: Promise<void> = Promise.resolve();
  private readonly kept = new KeptHistory();

  constructor(
    readonly repo: Repository,
    private readonly locks: IndexLocks,
    private readonly windowMs: number,
  ) {}

  /**
   * Publish a build's verified packages with the others of its window. `signal` (the activity's cancellation)
   * takes the build out while its window is still open; once the window is being written it is published anyway,
   * and a retry finds it published.
   */
  publish(buildId: BuildId, candidates: readonly StagedCandidate[], signal?: AbortSignal): Promise<PublishOutcome> {
    return new Promise<PublishOutcome>((resolve, reject) => {
      const cancelled = (): Error => signal?.reason ?? new Error(`import of ${buildId} cancelled before publishing`);
      if (signal?.aborted) return reject(cancelled());
      const onAbort = (): void => {
        const at = this.waiting.indexOf(entry);
        if (at < 0) return; // its window is being written
        this.waiting.splice(at, 1);
        reject(cancelled());
      };
      const entry = {
        buildId,
        candidates,
        resolve: (o: PublishOutcome) => (signal?.removeEventListener('abort', onAbort), resolve(o)),
        reject: (e: unknown) => (signal?.removeEventListener('abort', onAbort), reject(e)),
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.waiting.push(entry);
      this.timer ??= setTimeout(() => this.close(), this.windowMs);
    });
  }

  /** Builds waiting for their window to close (for tests and logs). */
  get pending(): number {
    return this.waiting.length;
  }

  /** Close the current window now instead of at its end (tests; a worker that drains before stopping). */
  closeNow(): Promise<void> {
    clearTimeout(this.timer);
    this.close();
    return this.writing;
  }

  private close(): void {
    this.timer = undefined;
    // Windows are written one after another; a window whose time is up while the previous one is still being
    // written takes everything that arrived until that write ends.
    this.writing = this.writing.then(() => this.write());
  }

  private async write(): Promise<void> {
    const builds = this.waiting.splice(0);
    if (builds.length === 0) return;
    try {
      const results = await this.locks.withLock(this.repo.index, () => publishWindow(this.repo, this.kept, builds));
      for (const [i, r] of results.entries()) {
        if (r.ok) builds[i].resolve(r.outcome);
        else builds[i].reject(r.refusal);
      }
    } catch (err) {
      for (const b of builds) b.reject(err);
    }
  }
}

/** One publisher per index, created on first use; a vessel worker keeps one set for its lifetime. */
export class Publishers {
  private readonly byIndex = new Map<string, IndexPublisher>();

  constructor(
    private readonly layout: VesselLayout,
    private readonly locks: IndexLocks,
    readonly windowMs: number,
  ) {}

  for(index: string): IndexPublisher {
    let p = this.byIndex.get(index);
    if (!p) this.byIndex.set(index, (p = new IndexPublisher(new Repository(index, repositoryDir(this.layout, index)), this.locks, this.windowMs)));
    return p;
  }
}
