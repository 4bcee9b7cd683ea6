import { setTimeout as sleep } from 'node:timers/promises';
import { LineChunker } from '../../core/build/log-redaction';
import { formatSse, SseParser } from '../../core/formats/sse';
import { ZstdStreamDecoder } from '../../core/formats/zstd';
import type { TaskStatus } from '../../core/task/state';
import type { Store } from '../../db/store';
import type { LiveLogSource } from '../../db/task-log-store';
import type { ArtefactOrigins } from '../../core/security/artefact-origins';

/**
 * A task's build log as Server-Sent Events (GET /api/tasks/:id/log?follow=1), wherever the API runs:
 * - while a builder runs the build, relayed from the builder's log route (workers/avalanche/artefact-server.ts)
 *   with the token summit got at pickup; the builder redacts what it sends;
 * - once the attempt ended, from the copy summit collected into the database (db/task-log-store.ts);
 * - before a builder took the build, nothing yet: the stream waits.
 * Events: `log` (whole lines; id = byte offset after them, the same on the builder and in the collected copy,
 * so `Last-Event-ID` or `?from=` resumes anywhere), `reset` (a new attempt on another builder: the log starts
 * over), and last `end` with `{"status","bytes","collected"}`.
 */
export interface FollowOptions {
  from: number;
  signal: AbortSignal;
  /** How often the read model is asked whether something changed (a pickup, a collection, an end). */
  pollMs?: number;
  write(text: string): Promise<void>;
  /** Where builders' servers may be (SUMMIT_ARTEFACT_ORIGINS): a live log elsewhere is not read. Default: any. */
  origins?: ArtefactOrigins;
}

/** Statuses in which a log may yet appear or grow. */
const WAITING: readonly TaskStatus[] = ['new', 'blocked', 'queued', 'building'];

export async function followTaskLog(store: Store, id: string, opts: FollowOptions): Promise<void> {
  const pollMs = opts.pollMs ?? 1_000;
  let offset = opts.from;
  /** What `offset` is an offset of: the collected log, or a live attempt (and whether its builder sealed it). */
  let reading: { kind: 'collected' } | { kind: 'live'; attempt: number; sealed: boolean } | undefined;
  const wait = () => sleep(pollMs, undefined, { signal: opts.signal }).catch(() => undefined);
  while (!opts.signal.aborted) {
    const [task, state] = await Promise.all([store.getTask(id), store.logs.state(id)]);
    const status = task.status as TaskStatus;
    if (state.collected) {
      // Decompressed only when it holds something this reader has not had (a retried task may wait long).
      if (offset < state.collected.plainBytes) offset = await sendCollected(store, id, offset, opts);
      reading = { kind: 'collected' };
      if (opts.signal.aborted) return;
      // Still waiting: the build's end is being recorded, or a retry waits for a builder (its log comes next).
      if (WAITING.includes(status)) {
        await wait();
        continue;
      }
      return opts.write(end(status, offset, true));
    }
    const source = state.source && !opts.origins?.problem(state.source.url) ? state.source : undefined;
    if (source && (WAITING.includes(status) || status === 'publishing')) {
      const sameAttempt = reading?.kind === 'live' && reading.attempt === source.attempt;
      if (!sameAttempt && reading !== undefined) {
        // Another attempt (a retry, another builder): its log starts over.
        await opts.write(formatSse({ event: 'reset', id: '0', data: JSON.stringify({ attempt: source.attempt, builder: source.builder }) }));
        offset = 0;
      }
      if (reading?.kind === 'live' && sameAttempt && reading.sealed) {
        // Sealed and read to its end: waiting for summit to collect it and record the build's end.
        if (!WAITING.includes(status)) return opts.write(end(status, offset, false));
        await wait();
        continue;
      }
      const result = await relayFromBuilder(id, source, offset, opts).catch(() => undefined);
      reading = { kind: 'live', attempt: source.attempt, sealed: result?.sealed ?? false };
      if (result) offset = result.offset;
      // The builder is not reachable (or the log not there yet): ask again after a while.
      if (!result?.sealed) await wait();
      continue;
    }
    if (!WAITING.includes(status)) return opts.write(end(status, offset, false));
    // Waiting for a builder to take it.
    await wait();
  }
}

function end(status: string, bytes: number, collected: boolean): string {
  return formatSse({ event: 'end', id: String(bytes), data: JSON.stringify({ status, bytes, collected }) });
}

/** Relays the builder's events until its `end`; returns the offset reached and whether the log is sealed. */
async function relayFromBuilder(id: string, source: LiveLogSource, from: number, opts: FollowOptions): Promise<{ offset: number; sealed: boolean }> {
  const url = `${source.url.replace(/\/+$/, '')}/logs/${encodeURIComponent(id)}?follow=1&from=${from}`;
  const res = await fetch(url, { headers: { authorization: `Bearer ${source.token}`, accept: 'text/event-stream' }, signal: opts.signal });
  if (!res.ok || !res.body) {
    await res.body?.cancel();
    throw new Error(`${url}: ${res.status}`);
  }
  const parser = new SseParser();
  const decoder = new TextDecoder();
  let offset = from;
  for await (const chunk of res.body) {
    for (const e of parser.push(decoder.decode(chunk as Uint8Array, { stream: true }))) {
      if (e.event === 'log' && e.id !== undefined) {
        offset = Number(e.id);
        await opts.write(formatSse({ event: 'log', id: e.id, data: e.data }));
      } else if (e.event === 'end') {
        const { bytes, sealed } = JSON.parse(e.data) as { bytes: number; sealed: boolean };
        return { offset: Math.max(offset, bytes), sealed };
      }
    }
  }
  return { offset, sealed: false };
}

/** Sends the collected log from `from` on, as log events of whole lines; returns the offset reached. */
async function sendCollected(store: Store, id: string, from: number, opts: FollowOptions): Promise<number> {
  let offset = from;
  for await (const { bytes, end: at } of collectedLines(store, id, from)) {
    if (opts.signal.aborted) break;
    offset = at;
    await opts.write(formatSse({ event: 'log', id: String(at), data: bytes.toString('utf8').replace(/\n$/, '') }));
  }
  return offset;
}

/** The collected log's whole lines after `from` (the last, unfinished one included), with the offset after each batch. */
export async function* collectedLines(store: Store, id: string, from = 0): AsyncGenerator<{ bytes: Buffer; end: number }> {
  const log = await store.logs.collected(id);
  if (!log) return;
  const decoder = new ZstdStreamDecoder(`collected log of ${id}`);
  const lines = new LineChunker();
  let position = 0;
  const STEP = 64 * 1024;
  for (let i = 0; i < log.stored.length; i += STEP) {
    for (const plain of decoder.push(log.stored.subarray(i, i + STEP))) {
      const start = position;
      position += plain.byteLength;
      if (position <= from) continue;
      const piece = Buffer.from(start < from ? plain.subarray(from - start) : plain);
      const whole = lines.push(piece);
      if (whole.length > 0) yield { bytes: whole, end: position - lines.pending };
    }
    // Decoding is synchronous: give the event loop back between pieces of a large log.
    await new Promise((resolve) => setImmediate(resolve));
  }
  decoder.end();
  const rest = lines.flush();
  if (rest.length > 0) yield { bytes: rest, end: position };
}
