import { SseParser } from '../core/formats/sse';
import { ApiClient, ApiUnreachableError, resolveApiTarget } from './api-client';
import { parseCommandArgs } from './args';
import type { CliIo } from './io';
import { UsageError } from './io';

/** Reconnections of a followed log before giving up (a restarted API, a proxy that dropped the stream). */
const RECONNECTS = 5;

/**
 * `summit tasks log <id> [-f] [--tail N]`: a task's build log. Without -f, the log as it is now (GET
 * /api/tasks/:id/log); with -f, followed until the build ends (Server-Sent Events), resuming at the last offset
 * seen when the stream drops. The status the build ended with goes to stderr; the exit code is 0 whatever the
 * build's outcome (the command worked), 1 when the API could not be reached or refused.
 */
export async function log(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseCommandArgs(args, { follow: { type: 'boolean', short: 'f' }, tail: { type: 'string' } }, { min: 1, max: 1, names: '<task id>' });
  if (values.tail !== undefined && !/^[1-9]\d{0,5}$/.test(values.tail)) throw new UsageError('--tail takes a number of lines (1-100000)');
  if (values.follow && values.tail !== undefined) throw new UsageError('--tail is for a plain log, not with -f');
  const client = new ApiClient(await resolveApiTarget());
  const path = `/api/tasks/${encodeURIComponent(positionals[0])}/log`;
  if (!values.follow) {
    const res = await client.fetch('GET', values.tail ? `${path}?tail=${values.tail}` : path);
    const text = await res.text();
    if (text) io.out(text);
    return 0;
  }
  let from = 0;
  for (let attempt = 0; ; attempt++) {
    try {
      const ended = await follow(client, `${path}?follow=1&from=${from}`, io, (offset) => (from = offset));
      if (ended) return 0;
    } catch (err) {
      if (!(err instanceof ApiUnreachableError) && !(err instanceof TypeError)) throw err;
      if (attempt >= RECONNECTS) throw err;
    }
    if (attempt >= RECONNECTS) {
      io.err(`summit tasks log: the stream ended ${RECONNECTS + 1} times without the build's end`);
      return 1;
    }
  }
}

/** Reads one stream; true when it carried the `end` event. */
async function follow(client: ApiClient, path: string, io: CliIo, seen: (offset: number) => void): Promise<boolean> {
  const res = await client.fetch('GET', path, undefined, { accept: 'text/event-stream' });
  if (!res.body) return false;
  const parser = new SseParser();
  const decoder = new TextDecoder();
  for await (const chunk of res.body) {
    for (const e of parser.push(decoder.decode(chunk as Uint8Array, { stream: true }))) {
      if (e.event === 'log') {
        io.out(`${e.data}\n`);
        if (e.id) seen(Number(e.id));
      } else if (e.event === 'reset') {
        const { attempt, builder } = JSON.parse(e.data) as { attempt: number; builder: string };
        io.err(`-- the build started over: attempt ${attempt} on ${builder} --`);
        seen(0);
      } else if (e.event === 'end') {
        const { status } = JSON.parse(e.data) as { status: string };
        io.err(`-- ${status} --`);
        return true;
      }
    }
  }
  return false;
}
