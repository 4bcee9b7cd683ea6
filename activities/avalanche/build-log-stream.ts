import { open, stat } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { LineChunker, type LogRedactor } from '../../core/build/log-redaction';
import { sealedLogPath } from './build-log';

/**
 * Reading a build log while it is written, for the builder's log route (workers/avalanche/artefact-server.ts):
 * whole lines, redacted, each batch with the byte offset in the log after it. The container writes the log
 * through its own descriptor, so nothing in this process hears of a write: the reader looks at the file's size
 * every `pollMs` until the log is sealed (sealedLogPath), then reads to the end and stops.
 */
export type LogPiece = { kind: 'lines'; text: Buffer; offset: number } | { kind: 'end'; bytes: number; sealed: boolean };

export interface FollowOptions {
  /** Byte offset to start at (a reader resuming); past the end means "from the end". */
  from: number;
  /** Keep reading until the log is sealed; otherwise stop at the current end. */
  follow: boolean;
  redactor: LogRedactor;
  signal: AbortSignal;
  /** How often to look for more (the log is written by another process: there is no event to wait for). */
  pollMs?: number;
}

/** Whether the log exists at all (a 404 before any byte is sent). */
export async function logExists(path: string): Promise<boolean> {
  return (await stat(path).catch(() => undefined))?.isFile() ?? false;
}

export async function* readBuildLog(path: string, opts: FollowOptions): AsyncGenerator<LogPiece> {
  const file = await open(path, 'r');
  try {
    const lines = new LineChunker();
    const buf = Buffer.alloc(64 * 1024);
    let position = Math.max(0, opts.from);
    for (;;) {
      // Looked at before reading: a log sealed now has all its bytes written, so this read reaches its end.
      const sealed = await stat(sealedLogPath(path)).then(() => true, () => false);
      const size = (await file.stat()).size;
      // A log cut at its size limit shrinks once; carry on from its new end.
      if (position > size) position = size;
      while (position < size && !opts.signal.aborted) {
        const { bytesRead } = await file.read(buf, 0, Math.min(buf.length, size - position), position);
        if (bytesRead === 0) break;
        position += bytesRead;
        const whole = lines.push(Buffer.from(buf.subarray(0, bytesRead)));
        if (whole.length > 0) yield { kind: 'lines', text: opts.redactor.redact(whole), offset: position - lines.pending };
      }
      if (opts.signal.aborted) return;
      if (sealed || !opts.follow) {
        const rest = lines.flush();
        if (rest.length > 0 && sealed) yield { kind: 'lines', text: opts.redactor.redact(rest), offset: position };
        yield { kind: 'end', bytes: sealed ? position : position - rest.length, sealed };
        return;
      }
      await sleep(opts.pollMs ?? 250, undefined, { signal: opts.signal }).catch(() => undefined);
    }
  } finally {
    await file.close();
  }
}
