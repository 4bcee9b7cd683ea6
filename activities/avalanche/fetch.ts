import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';

/**
 * Files the builder fetches on the host, never in the container: upstream sources and dependency packages.
 * Streamed to disk with their sha256 computed on the way; a mismatch removes the file.
 */
export type FetchSource = { type: 'http'; url: string } | { type: 'file'; path: string };

/** The file arrived but is not what was asked for: a wrong recipe hash or a changed file, not a network blip. */
export class ChecksumMismatchError extends Error {
  constructor(
    readonly what: string,
    readonly expected: string,
    readonly actual: string,
  ) {
    super(`${what}: sha256 is ${actual}, expected ${expected}`);
    this.name = 'ChecksumMismatchError';
  }
}

/** `file:///x`, `/x` and `http(s)://` locations, as dependency URLs come. */
export function fetchSourceOf(location: string): FetchSource {
  if (/^https?:\/\//i.test(location)) return { type: 'http', url: location };
  if (location.startsWith('file://')) return { type: 'file', path: decodeURIComponent(new URL(location).pathname) };
  if (location.startsWith('/')) return { type: 'file', path: location };
  throw new Error(`cannot fetch "${location}": expected an http(s):// or file:// URL or an absolute path`);
}

/** The fetch was refused, not failed: a redirect to another scheme, a file larger than the cap. Retrying cannot help. */
export class FetchRefusedError extends Error {
  override readonly name = 'FetchRefusedError';
}

export interface FetchLimits {
  /** Largest size accepted, checked against Content-Length and again while streaming. */
  maxBytes?: number;
  /** No answer, or no byte received, for this long aborts the download (a plain, retryable error). */
  timeoutMs?: number;
}

/** Redirects are followed by hand so that each hop's scheme is checked; browsers stop at 20, curl at 50. */
const MAX_REDIRECTS = 10;
const DEFAULT_TIMEOUT_MS = 60_000;

export async function fetchVerified(
  source: FetchSource, dest: string, sha256: string, what: string, signal?: AbortSignal, limits: FetchLimits = {},
): Promise<number> {
  const maxBytes = limits.maxBytes ?? Number.POSITIVE_INFINITY;
  const timeoutMs = limits.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const hash = createHash('sha256');
  let size = 0;
  // One controller aborts the connection on a stalled answer, the idle timer, or the caller's signal.
  const stop = new AbortController();
  const all = signal ? AbortSignal.any([signal, stop.signal]) : stop.signal;
  let idle: NodeJS.Timeout | undefined;
  const arm = () => {
    clearTimeout(idle);
    idle = setTimeout(() => stop.abort(new Error(`${what}: nothing received for ${timeoutMs / 1000} s`)), timeoutMs);
  };
  const tap = new Transform({
    transform(chunk: Buffer, _enc, done) {
      arm();
      size += chunk.length;
      if (size > maxBytes) {
        done(new FetchRefusedError(`${what}: larger than the ${maxBytes} bytes allowed (SUMMIT_MAX_UPSTREAM_SIZE)`));
        return;
      }
      hash.update(chunk);
      done(null, chunk);
    },
  });
  try {
    arm();
    const input = await openSource(source, what, all, maxBytes);
    arm();
    await pipeline(input, tap, createWriteStream(dest), { signal: all });
  } catch (err) {
    await rm(dest, { force: true });
    // An abort of ours carries the reason (timeout); the caller's own abort is passed on unchanged.
    throw stop.signal.aborted && !signal?.aborted ? stop.signal.reason : err;
  } finally {
    clearTimeout(idle);
  }
  const actual = hash.digest('hex');
  if (actual !== sha256.toLowerCase()) {
    await rm(dest, { force: true });
    throw new ChecksumMismatchError(what, sha256.toLowerCase(), actual);
  }
  return size;
}

async function openSource(source: FetchSource, what: string, signal: AbortSignal, maxBytes: number): Promise<Readable> {
  if (source.type === 'file') return createReadStream(source.path);
  let url = source.url;
  for (let hop = 0; ; hop++) {
    const response = await fetch(url, { signal, redirect: 'manual' });
    const location = response.headers.get('location');
    if (response.status >= 300 && response.status < 400 && location) {
      await response.body?.cancel().catch(() => undefined);
      if (hop >= MAX_REDIRECTS) throw new FetchRefusedError(`${what}: more than ${MAX_REDIRECTS} redirects`);
      const next = new URL(location, url);
      // fetch itself follows only http(s), but say so here, where the refusal can name the hop.
      if (next.protocol !== 'https:' && next.protocol !== 'http:') throw new FetchRefusedError(`${what}: redirected to a ${next.protocol} URL, which is not allowed`);
      url = next.href;
      continue;
    }
    if (!response.ok || !response.body) throw new Error(`${what}: GET ${url} answered ${response.status} ${response.statusText}`);
    const declared = Number(response.headers.get('content-length') ?? NaN);
    if (declared > maxBytes) {
      await response.body.cancel().catch(() => undefined);
      throw new FetchRefusedError(`${what}: ${declared} bytes, larger than the ${maxBytes} allowed (SUMMIT_MAX_UPSTREAM_SIZE)`);
    }
    return Readable.fromWeb(response.body as import('node:stream/web').ReadableStream<Uint8Array>);
  }
}
