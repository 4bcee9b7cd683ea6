import { randomUUID } from 'node:crypto';
import { link, mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { isErrno } from './atomic-file';

/**
 * One writer per index at a time, in two layers:
 *
 * 1. In-process: an async mutex keyed by index (a promise chain), so imports and admin commands that run in one
 *    worker queue up without touching the disk.
 * 2. Across processes (several vessel workers on one data directory): a lock file `locks/<index>.lock` created
 *    atomically with link(2) — a temporary file holding `{ pid, host, token, since }` is hard-linked to the lock
 *    name, which fails with EEXIST while someone holds it — the O_EXCL idea without an empty-file window, and one
 *    that also holds on NFS. Release removes the file only if it still carries our token.
 *
 * A lock whose holder is a dead pid on this host is stale and is broken; breaking takes a short second lock
 * (`<index>.lock.break`) and re-reads the holder under it, so two processes cannot both break the same stale lock
 * and one of them remove the other's fresh one. A holder on another host cannot be checked: we wait, and the
 * timeout error names the holder so an operator can remove the file if that host is gone.
 */

export interface LockOptions {
  /** How long to wait for another process's lock before failing (a retryable error). */
  timeoutMs?: number;
  pollMs?: number;
  /** Called about every pollMs while waiting (activities heartbeat from it). */
  onWait?: () => void;
}

interface Holder {
  pid: number;
  host: string;
  token: string;
  since: string;
}

const DEFAULT_TIMEOUT_MS = 5 * 60_000;
const DEFAULT_POLL_MS = 100;
/** A break lock older than this belongs to a process that died in the few milliseconds it is held. */
const BREAK_LOCK_STALE_MS = 30_000;

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export class IndexLocks {
  private readonly chains = new Map<string, Promise<void>>();

  /** `defaults` apply to every withLock call that does not set them (tests shorten the timeout). */
  constructor(
    private readonly locksDir: string,
    private readonly defaults: Pick<LockOptions, 'timeoutMs' | 'pollMs'> = {},
  ) {}

  /** Run `fn` as the only writer of `index`, in this process and among all processes sharing locksDir. */
  async withLock<T>(index: string, fn: () => Promise<T>, callOptions: LockOptions = {}): Promise<T> {
    const options = { ...this.defaults, ...callOptions };
    const previous = this.chains.get(index) ?? Promise.resolve();
    let release!: () => void;
    const mine = new Promise<void>((resolve) => (release = resolve));
    const tail = previous.then(() => mine);
    this.chains.set(index, tail);
    const ticker = options.onWait ? setInterval(options.onWait, options.pollMs ?? DEFAULT_POLL_MS * 10) : undefined;
    try {
      await previous;
      const unlock = await acquireFileLock(join(this.locksDir, `${index}.lock`), options);
      clearInterval(ticker);
      try {
        return await fn();
      } finally {
        await unlock();
      }
    } finally {
      clearInterval(ticker);
      release();
      if (this.chains.get(index) === tail) this.chains.delete(index);
    }
  }
}

async function readHolder(path: string): Promise<Holder | undefined> {
  try {
    return JSON.parse(await readFile(path, 'utf8')) as Holder;
  } catch {
    return undefined;
  }
}

function isDeadHere(holder: Holder): boolean {
  if (holder.host !== hostname() || !Number.isInteger(holder.pid)) return false;
  if (holder.pid === process.pid) return false;
  try {
    process.kill(holder.pid, 0);
    return false;
  } catch (err) {
    // EPERM: the process exists but belongs to someone else — alive.
    return isErrno(err, 'ESRCH');
  }
}

/** Create `path` holding `content`, atomically, or return false if it exists. */
async function createExclusive(path: string, content: string): Promise<boolean> {
  const temp = `${path}.${randomUUID()}.tmp`;
  await writeFile(temp, content);
  try {
    await link(temp, path);
    return true;
  } catch (err) {
    if (isErrno(err, 'EEXIST')) return false;
    throw err;
  } finally {
    await rm(temp, { force: true });
  }
}

async function breakStaleLock(path: string, stale: Holder): Promise<void> {
  const breakPath = `${path}.break`;
  if (!(await createExclusive(breakPath, JSON.stringify({ pid: process.pid, host: hostname() })))) {
    const age = await stat(breakPath).then((s) => Date.now() - s.mtimeMs, () => 0);
    if (age > BREAK_LOCK_STALE_MS) await rm(breakPath, { force: true });
    return;
  }
  try {
    // Under the break lock: remove the lock only if it is still the stale one we judged, not a fresh one that a
    // faster breaker's successor created meanwhile.
    const now = await readHolder(path);
    if (now?.token === stale.token) await rm(path, { force: true });
  } finally {
    await rm(breakPath, { force: true });
  }
}

async function acquireFileLock(path: string, options: LockOptions): Promise<() => Promise<void>> {
  await mkdir(join(path, '..'), { recursive: true });
  const me: Holder = { pid: process.pid, host: hostname(), token: randomUUID(), since: new Date().toISOString() };
  const deadline = Date.now() + (options.timeoutMs ?? DEFAULT_TIMEOUT_MS);
  for (;;) {
    if (await createExclusive(path, JSON.stringify(me))) {
      return async () => {
        if ((await readHolder(path))?.token === me.token) await rm(path, { force: true });
      };
    }
    const holder = await readHolder(path);
    if (holder && isDeadHere(holder)) {
      await breakStaleLock(path, holder);
      continue;
    }
    if (Date.now() > deadline) {
      const who = holder ? `pid ${holder.pid} on ${holder.host} since ${holder.since}` : 'an unknown holder';
      throw new Error(`timed out waiting for the repository lock ${path}, held by ${who}; if that process is gone, remove the file`);
    }
    options.onWait?.();
    await sleep(options.pollMs ?? DEFAULT_POLL_MS);
  }
}
