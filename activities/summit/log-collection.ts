import { ZstdStreamDecoder } from '../../core/formats/zstd';

/**
 * Collecting a finished build's log into summit's storage (db/task-log-store.ts): the builder sealed it when the
 * attempt ended (redacted, zstd; activities/avalanche/build-log.ts) and serves it with the build's token. Done by
 * the activity that records the build's end, which runs before the build workflow asks the builder to clean up.
 */
/** Far above what a 64 MiB log (the default build log limit) compresses to; a larger answer is refused. */
const MAX_STORED_BYTES = 64 * 2 ** 20;
const MAX_PLAIN_BYTES = 512 * 2 ** 20;
/** A builder that does not answer in this long is not waited for: the record matters more than the log. */
const FETCH_TIMEOUT_MS = 30_000;

export interface LogLocation {
  builder: string;
  url: string;
  token: string;
}

/** A build's sealed log as fetched from its builder, checked to be one whole zstd frame: what setCollected keeps. */
export interface FetchedLog {
  stored: Buffer;
  plainBytes: number;
}

/** Fetches a build's sealed log from its builder (the caller keeps it, e.g. in the transaction recording the build's end). */
export async function fetchBuildLog(taskId: string, from: LogLocation): Promise<FetchedLog> {
  const url = `${from.url.replace(/\/+$/, '')}/logs/${encodeURIComponent(taskId)}.zst`;
  const res = await fetch(url, { headers: { authorization: `Bearer ${from.token}` }, signal: AbortSignal.timeout(FETCH_TIMEOUT_MS) });
  if (!res.ok || !res.body) throw new Error(`GET ${url}: ${res.status} ${(await res.text()).slice(0, 200)}`);
  const declared = Number(res.headers.get('content-length') ?? 0);
  if (declared > MAX_STORED_BYTES) throw new Error(`GET ${url}: ${declared} bytes, more than ${MAX_STORED_BYTES}`);
  const pieces: Buffer[] = [];
  let stored = 0;
  const decoder = new ZstdStreamDecoder(`log of ${taskId}`);
  for await (const chunk of res.body) {
    const bytes = Buffer.from(chunk as Uint8Array);
    stored += bytes.length;
    if (stored > MAX_STORED_BYTES) throw new Error(`GET ${url}: more than ${MAX_STORED_BYTES} bytes`);
    pieces.push(bytes);
    // Decoded only to check it is one whole frame and to learn its size; nothing is kept.
    for (const _ of decoder.push(bytes)) if (decoder.produced > MAX_PLAIN_BYTES) throw new Error(`log of ${taskId} decompresses past ${MAX_PLAIN_BYTES} bytes`);
  }
  decoder.end();
  return { stored: Buffer.concat(pieces), plainBytes: decoder.produced };
}
