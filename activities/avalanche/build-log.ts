import { mkdir, open, writeFile, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';
import { logTail } from '../../core/build/log-tail';

/**
 * A build's log file on the builder's host. The container's output is written to it directly (the child gets
 * the file descriptor), our own step markers and messages between steps; the file is opened for appending, so
 * the two never overwrite each other.
 */
export class BuildLog {
  private constructor(
    readonly path: string,
    private readonly handle: FileHandle,
  ) {}

  /** Start a fresh log (a rerun of the same build replaces the old one). */
  static async create(path: string): Promise<BuildLog> {
    await mkdir(dirname(path), { recursive: true });
    await writeFile(path, '');
    return new BuildLog(path, await open(path, 'a+'));
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
    return logTail(buf.toString('utf8'));
  }

  async close(): Promise<void> {
    await this.handle.close().catch(() => undefined);
  }
}
