/**
 * The builder's side of live logs, on a real artefact server and real files: a log written while a reader
 * follows it arrives line by line, redacted, with byte offsets as event ids; the reader stops at the end the
 * seal marks; the sealed copy (zstd, redacted) is served only once sealed, and only to the build's token.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BuildLog } from '../activities/avalanche/build-log';
import { buildPaths } from '../activities/avalanche/paths';
import { LogRedactor } from '../core/build/log-redaction';
import { signArtefactToken } from '../core/build/tokens';
import { SseParser, type SseEvent } from '../core/formats/sse';
import { ZstdStreamDecoder } from '../core/formats/zstd';
import { startArtefactServer, type ArtefactServer } from '../workers/avalanche/artefact-server';

const BUILD = 'build/p/r/logger-1.0-1/x86_64';
const secret = randomBytes(32);
const token = signArtefactToken(secret, BUILD, Math.floor(Date.now() / 1000) + 3600).token;
const KEY = 'literal-secret-of-this-builder';
let dir: string;
let server: ArtefactServer;
let base: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'summit-log-server-'));
  server = await startArtefactServer({ dataDir: dir, secret, port: 0, host: '127.0.0.1', redactor: new LogRedactor([KEY]), logPollMs: 20 });
  base = `http://127.0.0.1:${server.port}`;
});

afterAll(async () => {
  await server?.close();
  rmSync(dir, { recursive: true, force: true });
});

const auth = (t = token) => ({ authorization: `Bearer ${t}` });
const logUrl = (suffix = '') => `${base}/logs/${encodeURIComponent(BUILD)}${suffix}`;

/** Reads events until `end`, calling `onEvent` before reading on (so a writer can react to what arrived). */
async function readEvents(url: string, onEvent: (e: SseEvent) => Promise<void> = async () => undefined): Promise<SseEvent[]> {
  const res = await fetch(url, { headers: auth() });
  expect(res.status).toBe(200);
  const parser = new SseParser();
  const decoder = new TextDecoder();
  const events: SseEvent[] = [];
  for await (const chunk of res.body!) {
    for (const e of parser.push(decoder.decode(chunk as Uint8Array, { stream: true }))) {
      events.push(e);
      await onEvent(e);
      if (e.event === 'end') return events;
    }
  }
  return events;
}

describe('the builder log route', () => {
  it('refuses readers without the build token, and a log it does not have', async () => {
    expect((await fetch(logUrl())).status).toBe(401);
    expect((await fetch(logUrl(), { headers: auth(signArtefactToken(secret, 'build/p/r/other-1-1/x86_64', Math.floor(Date.now() / 1000) + 60).token) })).status).toBe(403);
    expect((await fetch(logUrl(), { headers: auth() })).status).toBe(404);
  });

  it('follows a log as it is written, line by line and redacted, up to the seal; then serves the sealed copy', async () => {
    const log = await BuildLog.create(buildPaths(dir, BUILD).log, new LogRedactor([KEY]));
    await log.write('line 1\n');
    expect((await fetch(logUrl('.zst'), { headers: auth() })).status).toBe(404);
    // Each line is written only after the previous one arrived: what is read is read while the log is open.
    let n = 1;
    const events = await readEvents(logUrl('?follow=1'), async (e) => {
      if (e.event !== 'log') return;
      if (n < 5) await log.write(`line ${++n}${n === 3 ? ` key=${KEY}` : ''}\n`);
      else if (n === 5) {
        n++;
        await log.write('half a li');
        await log.close();
      }
    });
    const lines = events.filter((e) => e.event === 'log').map((e) => e.data);
    expect(lines).toEqual(['line 1', 'line 2', `line 3 key=${'*'.repeat(KEY.length)}`, 'line 4', 'line 5', 'half a li']);
    const end = events[events.length - 1];
    expect(JSON.parse(end.data)).toMatchObject({ sealed: true });
    // Ids are the byte offsets after each batch; the last is the log's size.
    const ids = events.filter((e) => e.event === 'log').map((e) => Number(e.id));
    expect(ids[0]).toBe('line 1\n'.length);
    expect(ids[ids.length - 1]).toBe(JSON.parse(end.data).bytes);

    // From an offset: only what follows (read at once now, so whole lines come in one batch).
    const after = await readEvents(logUrl(`?follow=1&from=${ids[2]}`));
    expect(after.filter((e) => e.event === 'log').map((e) => e.data)).toEqual(['line 4\nline 5', 'half a li']);

    const sealed = await fetch(logUrl('.zst'), { headers: auth() });
    expect(sealed.status).toBe(200);
    const decoder = new ZstdStreamDecoder('sealed log');
    const plain = Buffer.concat([...decoder.push(new Uint8Array(await sealed.arrayBuffer()))]).toString('utf8');
    decoder.end();
    expect(plain).toBe(`line 1\nline 2\nline 3 key=${'*'.repeat(KEY.length)}\nline 4\nline 5\nhalf a li`);
    expect(plain).not.toContain(KEY);
  });

  it('answers a plain read at once with the whole lines written so far', async () => {
    const log = await BuildLog.create(buildPaths(dir, BUILD).log);
    await log.write('one\ntwo\nthr');
    const events = await readEvents(logUrl());
    expect(events.filter((e) => e.event === 'log').map((e) => e.data)).toEqual(['one\ntwo']);
    expect(JSON.parse(events[events.length - 1].data)).toEqual({ bytes: 8, sealed: false });
    await log.close();
  });
});
