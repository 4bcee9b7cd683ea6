import type { ReadStream } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import type { Store } from '../../db/store';
import { LogUnavailableError } from '../errors';

/**
 * A task's build log, streamed from the file the builder wrote (`logPath`). Only works where that file is
 * readable: on the builder's own host, or where the builders' data folder is shared. Otherwise a 404 that says
 * where the log is; the last lines are in the task itself (`logTail`).
 */
export interface TaskLog {
  path: string;
  stream: ReadStream;
}

/** A tail is for reading in a terminal or a dashboard; a whole log is a download without tail. */
const MAX_TAIL_BYTES = 4 * 1024 * 1024;
const CHUNK = 64 * 1024;
const UNREADABLE = new Set(['ENOENT', 'EACCES', 'EPERM', 'ENOTDIR', 'EISDIR']);

export async function openTaskLog(store: Store, id: string, tail?: number): Promise<TaskLog> {
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
