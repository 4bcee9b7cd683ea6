import { createHash } from 'node:crypto';
import { readdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { VesselLayout } from './layout';

/** Staging folders older than this belong to builds nobody retries any more. */
const STALE_STAGING_MS = 24 * 60 * 60_000;
/** How often the staging area is swept: a folder needs a day to go stale, so once an hour is soon enough. */
const SWEEP_EVERY_MS = 60 * 60_000;

/** One folder per build, named by a hash of its id (build ids hold slashes). */
export function stagingDirFor(layout: VesselLayout, buildId: string): string {
  return join(layout.stagingDir, createHash('sha256').update(buildId).digest('hex').slice(0, 32));
}

/**
 * Removes the staging folders of builds that will not be retried (a refusal or a success removes its own; a
 * retryable failure keeps its verified files for the next attempt, and an attempt never retried leaves them).
 * Imports call sweep() each time, but it reads the staging folder at most once per SWEEP_EVERY_MS: it used to stat
 * every folder there on every import, a cost that grew with the imports in flight.
 */
export class StagingSweeper {
  private next = 0;

  constructor(private readonly stagingRoot: string) {}

  async sweep(keep: string): Promise<void> {
    const now = Date.now();
    if (now < this.next) return;
    this.next = now + SWEEP_EVERY_MS;
    const names = await readdir(this.stagingRoot).catch(() => [] as string[]);
    for (const name of names) {
      const dir = join(this.stagingRoot, name);
      if (dir === keep) continue;
      const age = await stat(dir).then((s) => now - s.mtimeMs, () => 0);
      if (age > STALE_STAGING_MS) await rm(dir, { recursive: true, force: true });
    }
  }
}
