import { isSha256Hex } from '../../core/formats/hash';
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, open, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { ApplicationFailure } from '@temporalio/common';
import type { Artefact } from '../../core/contracts/build';
import type { BuildId } from '../../core/contracts/ids';
import { ARTEFACT_ACCESS_DENIED } from '../../core/contracts/vessel';
import { isSafeSegment } from '../../core/repo/pool';
import { isErrno } from './atomic-file';
import { importRefused } from './refusal';
import { sha256File } from './repository';

/**
 * Fetch a build's artefacts from the avalanche host that built them, into a staging folder.
 *
 * A build's files are fetched a few at a time (FETCH_WIDTH). Each streams to disk while its sha256 is computed, so
 * memory stays flat whatever the size (only files up to KEEP_IN_MEMORY_BYTES are also kept, for the stone check);
 * the declared size bounds the download (we stop reading past it). The bytes land in a uniquely named `.part` file that is
 * renamed to the artefact's name only once its size and sha256 match what the build declared, and removed on any
 * failure: a staging folder holds only whole, verified files. That makes fetching retry-safe: a retried attempt
 * re-uses files an earlier attempt completed (after re-hashing them) and downloads the rest.
 *
 * How failures are classified (Temporal retries anything but a non-retryable failure):
 * - the bytes are wrong — sha256 or size differ from the declaration, or the declaration itself is unusable —
 *   a refusal (IMPORT_REFUSED, non-retryable): fetching again gives the same bytes;
 * - HTTP 401/403 — retryable, typed ARTEFACT_ACCESS_DENIED: the artefact is not at fault, the token is (expired,
 *   or the builder restarted with a new key), and a workflow may choose to mint a new one;
 * - connection errors, timeouts, any other HTTP status (404 included: a builder may still be coming back with its
 *   disk) — plain retryable errors.
 */

export interface ArtefactSource {
  buildId: BuildId;
  /** Base URL of the builder's artefact server. */
  baseUrl: string;
  /** Bearer token bound to this build. */
  token: string;
}

export interface StagedArtefact {
  artefact: Artefact;
  /** Path of the verified file in the staging folder. */
  path: string;
  sha256: string;
  /**
   * The file's bytes, for a small file fetched now (not re-used from an earlier attempt): the very bytes that were
   * hashed and written, so the stone check reads them from memory instead of opening the file again.
   */
  bytes?: Uint8Array;
}

export interface FetchProgress {
  file: string;
  bytes: number;
  size: number;
}

export interface FetchOptions {
  signal?: AbortSignal;
  /** Called as bytes arrive (at most about once a second per file) and when each file is complete. */
  onProgress?: (progress: FetchProgress) => void;
  /** Give up on a connection that sends nothing for this long (a retryable error). */
  idleTimeoutMs?: number;
}

const PROGRESS_EVERY_MS = 1_000;
const DEFAULT_IDLE_TIMEOUT_MS = 60_000;
/**
 * Files of a build fetched at once: a build's few packages arrive in about the time of one (each costs a round trip
 * and an fsync far more than its bytes), while a build of hundreds of packages does not open hundreds of
 * connections to its builder.
 */
const FETCH_WIDTH = 4;
/** Files up to this size are kept in memory as they arrive, for the stone check (at most FETCH_WIDTH of them per import). */
const KEEP_IN_MEMORY_BYTES = 1 << 20;

export function artefactUrl(source: ArtefactSource, name: string): string {
  return `${source.baseUrl.replace(/\/+$/, '')}/builds/${encodeURIComponent(source.buildId)}/${name}`;
}

/** The declaration a builder made is checked before it is used: the name becomes a path, the size a bound. */
function declarationProblem(a: Artefact): string | undefined {
  if (!isSafeSegment(a.name)) return `artefact name "${a.name}" is not a plain file name`;
  if (!Number.isSafeInteger(a.size) || a.size < 0) return `${a.name}: declared size ${a.size} is not a byte count`;
  if (!isSha256Hex(a.sha256.toLowerCase())) return `${a.name}: declared sha256 "${a.sha256}" is not a sha256 hex digest`;
  return undefined;
}

export async function fetchArtefacts(source: ArtefactSource, artefacts: readonly Artefact[], stagingDir: string, options: FetchOptions = {}): Promise<StagedArtefact[]> {
  await mkdir(stagingDir, { recursive: true });
  // The first failure stops the other downloads, and is thrown only once they have all ended: nothing writes into
  // the staging folder after this returns (a refusal removes it).
  const stop = new AbortController();
  const signal = options.signal ? AbortSignal.any([options.signal, stop.signal]) : stop.signal;
  const staged: StagedArtefact[] = new Array<StagedArtefact>(artefacts.length);
  let next = 0;
  let failure: { error: unknown } | undefined;
  const fetchInTurn = async (): Promise<void> => {
    while (next < artefacts.length && !failure) {
      const at = next++;
      try {
        staged[at] = await fetchArtefact(source, artefacts[at], stagingDir, { ...options, signal });
      } catch (error) {
        failure ??= { error };
        stop.abort();
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(FETCH_WIDTH, artefacts.length) }, fetchInTurn));
  if (failure) throw failure.error;
  return staged;
}

export async function fetchArtefact(source: ArtefactSource, artefact: Artefact, stagingDir: string, options: FetchOptions = {}): Promise<StagedArtefact> {
  const problem = declarationProblem(artefact);
  if (problem) throw importRefused({ buildId: source.buildId, file: artefact.name, reason: problem });
  const expected = artefact.sha256.toLowerCase();
  const path = join(stagingDir, artefact.name);
  if (await alreadyStaged(path, artefact.size, expected)) {
    options.onProgress?.({ file: artefact.name, bytes: artefact.size, size: artefact.size });
    return { artefact, path, sha256: expected };
  }

  const part = `${path}.${randomBytes(4).toString('hex')}.part`;
  try {
    const { sha256: actual, bytes } = await download(source, artefact, part, options);
    if (actual !== expected) {
      throw importRefused({ buildId: source.buildId, file: artefact.name, reason: `${artefact.name}: sha256 mismatch: expected ${expected}, actual ${actual}` });
    }
    await rename(part, path);
    return { artefact, path, sha256: expected, bytes };
  } catch (err) {
    await rm(part, { force: true });
    throw err;
  }
}

/** A file an earlier attempt completed: it is re-hashed, not trusted; a wrong one is removed and fetched again. */
async function alreadyStaged(path: string, size: number, sha256: string): Promise<boolean> {
  try {
    if ((await stat(path)).size === size && (await sha256File(path)) === sha256) return true;
  } catch (err) {
    if (isErrno(err, 'ENOENT')) return false;
    throw err;
  }
  await rm(path, { force: true });
  return false;
}

/** Stream one artefact into `part`; returns the sha256 of what was received (and, if small, the bytes). */
async function download(source: ArtefactSource, artefact: Artefact, part: string, options: FetchOptions): Promise<{ sha256: string; bytes?: Uint8Array }> {
  const url = artefactUrl(source, artefact.name);
  const refuse = (reason: string) => importRefused({ buildId: source.buildId, file: artefact.name, reason: `${artefact.name}: ${reason}` });
  const idleMs = options.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS;
  const idle = new AbortController();
  let idleFired = false;
  let timer: NodeJS.Timeout | undefined;
  const armIdle = () => {
    clearTimeout(timer);
    timer = setTimeout(() => {
      idleFired = true;
      idle.abort();
    }, idleMs);
  };
  const signal = options.signal ? AbortSignal.any([options.signal, idle.signal]) : idle.signal;
  const fh = await open(part, 'wx');
  try {
    armIdle();
    let res: Response;
    try {
      res = await fetch(url, { headers: { authorization: `Bearer ${source.token}` }, signal, redirect: 'error' });
    } catch (err) {
      throw new Error(idleFired ? `GET ${url}: no response within ${idleMs} ms` : `GET ${url}: ${describe(err)}`);
    }
    if (res.status === 401 || res.status === 403) {
      await res.body?.cancel().catch(() => undefined);
      throw ApplicationFailure.retryable(`GET ${url}: the builder refused vessel's token (HTTP ${res.status})`, ARTEFACT_ACCESS_DENIED);
    }
    if (!res.ok || !res.body) {
      await res.body?.cancel().catch(() => undefined);
      throw new Error(`GET ${url}: HTTP ${res.status} ${res.statusText}`);
    }
    // Content-Length counts encoded bytes when the server compresses; only an identity response can be judged by it.
    const encoded = (res.headers.get('content-encoding') ?? 'identity') !== 'identity';
    const length = encoded ? null : res.headers.get('content-length');
    if (length !== null && Number(length) !== artefact.size) {
      await res.body.cancel().catch(() => undefined);
      throw refuse(`size mismatch: declared ${artefact.size} bytes, the builder serves ${length}`);
    }

    const hash = createHash('sha256');
    const kept: Uint8Array[] | undefined = artefact.size <= KEEP_IN_MEMORY_BYTES ? [] : undefined;
    let bytes = 0;
    let reported = 0;
    const reader = res.body.getReader();
    try {
      for (;;) {
        const next = await reader.read().catch((err: unknown) => {
          throw new Error(idleFired ? `GET ${url}: no data for ${idleMs} ms after ${bytes} bytes` : `GET ${url}: ${describe(err)} after ${bytes} bytes`);
        });
        if (next.done) break;
        armIdle();
        bytes += next.value.byteLength;
        if (bytes > artefact.size) throw refuse(`size mismatch: declared ${artefact.size} bytes, the builder sent more`);
        hash.update(next.value);
        kept?.push(next.value);
        await fh.write(next.value);
        if (Date.now() - reported >= PROGRESS_EVERY_MS) {
          reported = Date.now();
          options.onProgress?.({ file: artefact.name, bytes, size: artefact.size });
        }
      }
    } finally {
      await reader.cancel().catch(() => undefined);
    }
    if (bytes !== artefact.size) throw refuse(`size mismatch: declared ${artefact.size} bytes, received ${bytes}`);
    // The file must be on disk before a root index that names it is: its data and size (fdatasync), not its times.
    await fh.datasync();
    options.onProgress?.({ file: artefact.name, bytes, size: artefact.size });
    return { sha256: hash.digest('hex'), bytes: kept && Buffer.concat(kept, bytes) };
  } finally {
    clearTimeout(timer);
    await fh.close();
  }
}

function describe(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  // undici hides the system error (ECONNREFUSED, ECONNRESET) in `cause`.
  const cause = (err as { cause?: unknown }).cause;
  return cause instanceof Error ? `${err.message} (${cause.message})` : err.message;
}
