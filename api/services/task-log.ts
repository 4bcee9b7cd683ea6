import { open, type FileHandle } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { SseParser } from '../../core/formats/sse';
import { ArtefactOrigins } from '../../core/security/artefact-origins';
import type { Store } from '../../db/store';
import type { LiveLogSource } from '../../db/task-log-store';
import { LogUnavailableError } from '../errors';
import { collectedLines } from './task-log-follow';

/**
 * A task's build log as plain text (GET /api/tasks/:id/log), the whole of it or its last lines, from the first
 * of: the copy summit collected when the build ended (db/task-log-store.ts), the builder running it (read over
 * HTTP up to where it is now), the file the builder wrote (`logPath`) when this host can read it (the builder's
 * own host, or a shared data folder). Otherwise a 404 that says where the log is; the last lines of a failed
 * build are in the task itself (`logTail`).
 */
export interface TaskLog {
  /** Where it was read: `collected`, the builder's URL, or the file's path. */
  path: string;
  stream: Readable;
}

export async function openTaskLog(store: Store, id: string, tail?: number, origins: ArtefactOrigins = ArtefactOrigins.ANY): Promise<TaskLog> {
  const state = await store.logs.state(id);
  if (state.collected) {
    const lines = async function* () {
      for await (const { bytes } of collectedLines(store, id)) yield bytes;
    };
    return { path: 'collected', stream: Readable.from(tail === undefined ? lines() : lastLines(lines(), tail)) };
  }
  // A builder names its own server: it is read only where builders may be (SUMMIT_ARTEFACT_ORIGINS).
  if (state.source && !origins.problem(state.source.url)) {
    const live = await liveLog(id, state.source).catch(() => undefined);
    if (live) return { path: state.source.url, stream: Readable.from(tail === undefined ? live : lastLines(live, tail)) };
  }
  return openLogFile(store, id, tail);
}

/** The log of a running build as far as the builder has it (whole lines), read from its log route. */
async function liveLog(id: string, source: LiveLogSource): Promise<AsyncGenerator<Buffer>> {
  const url = `${source.url.replace(/\/+$/, '')}/logs/${encodeURIComponent(id)}`;
  const res = await fetch(url, { headers: { authorization: `Bearer ${source.token}` }, signal: AbortSignal.timeout(30_000) });
  if (!res.ok || !res.body) {
    await res.body?.cancel();
    throw new Error(`${url}: ${res.status}`);
  }
  const body = res.body;
  return (async function* () {
    const parser = new SseParser();
    const decoder = new TextDecoder();
    for await (const chunk of body) {
      for (const e of parser.push(decoder.decode(chunk as Uint8Array, { stream: true }))) {
        if (e.event === 'log') yield Buffer.from(`${e.data}\n`, 'utf8');
        if (e.event === 'end') return;
      }
    }
  })();
}

/** The last `lines` lines of a stream of whole lines, keeping at most MAX_TAIL_BYTES of it at any time. */
async function* lastLines(source: AsyncIterable<Buffer>, lines: number): AsyncGenerator<Buffer> {
  let window = Buffer.alloc(0);
  for await (const piece of source) {
    window = Buffer.concat([window, piece]);
    if (window.length > 2 * MAX_TAIL_BYTES) window = window.subarray(window.length - MAX_TAIL_BYTES);
  }
  if (window.length > MAX_TAIL_BYTES) window = window.subarray(window.length - MAX_TAIL_BYTES);
  const end = window[window.length - 1] === 0x0a ? window.length - 1 : window.length;
  let found = 0;
  for (let i = end - 1; i >= 0; i--) {
    if (window[i] === 0x0a && ++found === lines) {
      yield window.subarray(i + 1);
      return;
    }
  }
  yield window;
}

/** A tail is for reading in a terminal or a dashboard; a whole log is a download without tail. */
const MAX_TAIL_BYTES = 4 * 1024 * 1024;
const CHUNK = 64 * 1024;
const UNREADABLE = new Set(['ENOENT', 'EACCES', 'EPERM', 'ENOTDIR', 'EISDIR']);

async function openLogFile(store: Store, id: string, tail?: number): Promise<TaskLog> {
  const task = await store.getTask(id);
  if (!task.logPath) throw new LogUnavailableError(`task ${id} has no log yet (status ${task.status})`);
  let file: FileHandle;
  try {
    file = await open(task.logPath, 'r');
    if (!(await file.stat()).isFile()) {
      await file.close();
      throw Object.assign(new Error('not a file'), { code: 'EISDIR' });
    }
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? '';
    if (!UNREADABLE.has(code)) throw err;
    const where = task.builder ? ` on builder ${task.builder}` : '';
    throw new LogUnavailableError(`the log of task ${id} is at ${task.logPath}${where}, which this host cannot read (${code})`);
  }
  try {
    const start = tail === undefined ? 0 : await startOfLastLines(file, tail);
    return { path: task.logPath, stream: file.createReadStream({ start }) };
  } catch (err) {
    await file.close();
    throw err;
  }
}

/**
 * The offset where the last `lines` lines begin, found by reading backwards in chunks, so a tail of a large log
 * costs a few reads, not the whole file. A final newline does not count as starting an empty last line.
 */
export async function startOfLastLines(file: FileHandle, lines: number): Promise<number> {
  const size = (await file.stat()).size;
  if (size === 0) return 0;
  const last = Buffer.alloc(1);
  await file.read(last, 0, 1, size - 1);
  const end = last[0] === 0x0a ? size - 1 : size;
  const floor = Math.max(0, end - MAX_TAIL_BYTES);
  let found = 0;
  let position = end;
  const buffer = Buffer.alloc(CHUNK);
  while (position > floor) {
    const length = Math.min(CHUNK, position - floor);
    position -= length;
    await file.read(buffer, 0, length, position);
    for (let i = length - 1; i >= 0; i--) {
      if (buffer[i] === 0x0a && ++found === lines) return position + i + 1;
    }
  }
  return floor;
}
