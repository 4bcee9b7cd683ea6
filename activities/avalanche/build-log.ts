import { mkdir, open, rename, rm, writeFile, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';
import { LineChunker, LogRedactor } from '../../core/build/log-redaction';
import { logTail } from '../../core/build/log-tail';
import { ZstdStreamEncoder } from '../../core/formats/zstd';

/**
 * The sealed copy of a finished log, next to it: `<log>.zst`, redacted (core/build/log-redaction.ts) and
 * compressed. Its presence says the log is complete: the live stream ends there, and summit collects this file.
 */
export function sealedLogPath(logPath: string): string {
  return `${logPath}.zst`;
}

/** Read and compress in pieces this size: a 64 MiB log never sits whole in memory nor holds the event loop long. */
const SEAL_CHUNK = 256 * 1024;

/**
 * A build's log file on the builder's host. The container's output is written to it directly (the child gets
 * the file descriptor), our own step markers and messages between steps; the file is opened for appending, so
 * the two never overwrite each other.
 */
export class BuildLog {
  private constructor(
    readonly path: string,
    private readonly handle: FileHandle,
    private readonly redactor: LogRedactor,
  ) {}

  /** Start a fresh log (a rerun of the same build replaces the old one, and unseals it). */
  static async create(path: string, redactor = new LogRedactor()): Promise<BuildLog> {
    await mkdir(dirname(path), { recursive: true });
    await rm(sealedLogPath(path), { force: true });
    await writeFile(path, '');
    return new BuildLog(path, await open(path, 'a+'), redactor);
  }

  /** The descriptor to give a child process as stdout/stderr. */
  get fd(): number {
    return this.handle.fd;
  }

  /** A line that stands out in the log: `==> summit: <text>`. */
  async marker(text: string): Promise<void> {
    await this.write(`==> summit: ${text} [${new Date().toISOString()}]\n`);
  }

  async write(text: string): Promise<void> {
    await this.handle.appendFile(text);
  }

  /** Cut the log at `bytes` (a build that wrote past its log limit); later writes append after the cut. */
  async truncate(bytes: number): Promise<void> {
    await this.handle.truncate(bytes);
  }

  async bytes(): Promise<number> {
    return (await this.handle.stat()).size;
  }

  /** The end of the log for a failure report (core/build/log-tail.ts limits). */
  async tail(): Promise<string> {
    const size = await this.bytes();
    const length = Math.min(size, 32 * 1024);
    const buf = Buffer.alloc(length);
    await this.handle.read(buf, 0, length, size - length);
    return logTail(this.redactor.redact(buf).toString('utf8'));
  }

  /**
   * Close the log and seal it (sealedLogPath): from then on the live stream ends at its end and summit may
   * collect it. Sealing is best effort: a log that cannot be sealed is still there to read, it is only not
   * collected.
   */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.seal().catch(() => undefined);
    await this.handle.close().catch(() => undefined);
  }

  private closed = false;

  private async seal(): Promise<void> {
    const target = sealedLogPath(this.path);
    const partial = `${target}.partial`;
    const out = await open(partial, 'w', 0o600);
    try {
      const encoder = new ZstdStreamEncoder();
      const lines = new LineChunker();
      const buf = Buffer.alloc(SEAL_CHUNK);
      const write = async (pieces: Iterable<Uint8Array>) => {
        for (const piece of pieces) await out.write(piece);
      };
      for (let position = 0; ;) {
        const { bytesRead } = await this.handle.read(buf, 0, buf.length, position);
        if (bytesRead === 0) break;
        position += bytesRead;
        await write(encoder.write(this.redactor.redact(lines.push(Buffer.from(buf.subarray(0, bytesRead))))));
      }
      await write(encoder.write(this.redactor.redact(lines.flush())));
      await write(encoder.end());
    } finally {
      await out.close();
    }
    await rename(partial, target);
  }
}
