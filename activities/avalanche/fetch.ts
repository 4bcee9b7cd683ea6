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

export async function fetchVerified(source: FetchSource, dest: string, sha256: string, what: string, signal?: AbortSignal): Promise<number> {
  const hash = createHash('sha256');
  let size = 0;
  const tap = new Transform({
    transform(chunk: Buffer, _enc, done) {
      hash.update(chunk);
      size += chunk.length;
      done(null, chunk);
    },
  });
  try {
    await pipeline(await openSource(source, what, signal), tap, createWriteStream(dest), { signal });
  } catch (err) {
    await rm(dest, { force: true });
    throw err;
  }
  const actual = hash.digest('hex');
  if (actual !== sha256.toLowerCase()) {
    await rm(dest, { force: true });
    throw new ChecksumMismatchError(what, sha256.toLowerCase(), actual);
  }
  return size;
}

async function openSource(source: FetchSource, what: string, signal?: AbortSignal): Promise<Readable> {
  if (source.type === 'file') return createReadStream(source.path);
  const response = await fetch(source.url, { signal, redirect: 'follow' });
  if (!response.ok || !response.body) throw new Error(`${what}: GET ${source.url} answered ${response.status} ${response.statusText}`);
  return Readable.fromWeb(response.body as import('node:stream/web').ReadableStream<Uint8Array>);
}
