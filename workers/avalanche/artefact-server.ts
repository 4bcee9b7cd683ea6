import { createReadStream } from 'node:fs';
import { rm, stat } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { isSafeArtefactName } from '../../core/build/artefact-names';
import { bearerToken, verifyArtefactToken, type TokenScope } from '../../core/build/tokens';
import { LogRedactor } from '../../core/build/log-redaction';
import { formatSse, SSE_KEEPALIVE } from '../../core/formats/sse';
import { logExists, readBuildLog } from '../../activities/avalanche/build-log-stream';
import { sealedLogPath } from '../../activities/avalanche/build-log';
import { artefactsDir, buildPaths } from '../../activities/avalanche/paths';

/**
 * The builder's artefact server: `GET /builds/<encodeURIComponent(buildId)>/<name>` streams one file of a
 * finished build to the holder of that build's token (`Authorization: Bearer <token>`, core/build/tokens.ts).
 *
 * 401 without a valid token, 403 with a genuine token of another build, 404 for a file the build does not
 * have, 400 for a name that is not a plain file name (no separators, no leading dot: nothing can climb out of
 * the build's folder). The token is checked before the file is looked up, so no one learns which builds exist.
 * `GET /health` answers without a token, for probes.
 *
 * `DELETE /builds/<encoded build id>` with the build's release token (never the read token above; a read token
 * gets 403) releases the build: its artefacts and scratch space are removed (what the clean-up activity removes;
 * the log stays). Vessel sends it once the build's packages are staged or published, so a successful build needs
 * no clean-up activity. 204 whether or not anything was left. A release token reads nothing (403).
 *
 * The build's log, with the read token (summit gets one at pickup, so it can follow a build while it runs):
 * - `GET /logs/<encoded build id>?from=<byte offset>&follow=1`: Server-Sent Events (core/formats/sse.ts), `log`
 *   events of whole redacted lines with the offset after them as id, while the build writes; an `end` event
 *   (`{"bytes":N,"sealed":true|false}`) when the log is sealed (the build attempt ended), or at once at the
 *   current end without `follow=1`. `Last-Event-ID` is read when `from` is absent.
 * - `GET /logs/<encoded build id>.zst`: the sealed log (redacted, zstd), 404 until the attempt ended.
 */
export interface ArtefactServerOptions {
  dataDir: string;
  /** The builder's token secret. */
  secret: Uint8Array;
  port: number;
  /** Interface to listen on; default all. */
  host?: string;
  log?: (message: string, meta: Record<string, unknown>) => void;
  /** Masks secrets in the live log (the sealed copy is masked when written); none but the patterns by default. */
  redactor?: LogRedactor;
  /** How often a followed log is looked at for more (ms). */
  logPollMs?: number;
}

export interface ArtefactServer {
  /** The port actually bound (useful with port 0). */
  port: number;
  close(): Promise<void>;
}

const PATH = /^\/builds\/([^/]+)\/([^/]+)$/;
const RELEASE_PATH = /^\/builds\/([^/]+)\/?$/;
const LOG_PATH = /^\/logs\/([^/]+?)(\.zst)?$/;
/** A comment line this often keeps proxies from closing a followed log that is quiet (a long compile step). */
const KEEPALIVE_MS = 15_000;

export async function startArtefactServer(opts: ArtefactServerOptions): Promise<ArtefactServer> {
  const server = createServer((req, res) => {
    handle(opts, req, res).catch((err: Error) => {
      opts.log?.('artefact request failed', { url: req.url, error: err.message });
      if (!res.headersSent) reply(res, 500, 'internal error');
      else res.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => resolve());
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

async function handle(opts: ArtefactServerOptions, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const path = (req.url ?? '/').split('?')[0];
  if (req.method === 'DELETE') return release(opts, req, res, path);
  if (req.method !== 'GET' && req.method !== 'HEAD') return reply(res, 405, 'only GET, HEAD and DELETE', { Allow: 'GET, HEAD, DELETE' });
  if (path === '/health') return reply(res, 200, 'ok');
  const lm = LOG_PATH.exec(path);
  if (lm) return serveLog(opts, req, res, lm[1], lm[2] === '.zst');
  const m = PATH.exec(path);
  if (!m) return reply(res, 404, 'not found');
  let buildId: string;
  let name: string;
  try {
    buildId = decodeURIComponent(m[1]);
    name = decodeURIComponent(m[2]);
  } catch {
    return reply(res, 400, 'bad percent-encoding');
  }

  if (!authorised(opts, req, res, buildId)) return;

  if (!isSafeArtefactName(name)) return reply(res, 400, 'not an artefact name');
  let dir: string;
  try {
    dir = artefactsDir(opts.dataDir, buildId);
  } catch {
    return reply(res, 400, 'not a build id');
  }
  const file = join(dir, name);
  const info = await stat(file).catch(() => undefined);
  if (!info?.isFile()) return reply(res, 404, `build has no artefact ${name}`);
  res.writeHead(200, {
    'Content-Type': /\.(log|jsonc)$/.test(name) ? 'text/plain; charset=utf-8' : 'application/octet-stream',
    'Content-Length': info.size,
    'Cache-Control': 'no-store',
  });
  if (req.method === 'HEAD') return void res.end();
  await pipeline(createReadStream(file), res);
}

/** `DELETE /builds/<id>`: the build's artefacts and scratch space go, for the holder of its release token. */
async function release(opts: ArtefactServerOptions, req: IncomingMessage, res: ServerResponse, path: string): Promise<void> {
  const m = RELEASE_PATH.exec(path);
  if (!m) return reply(res, 405, 'DELETE only of a build: /builds/<build id>', { Allow: 'GET, HEAD' });
  let buildId: string;
  try {
    buildId = decodeURIComponent(m[1]);
  } catch {
    return reply(res, 400, 'bad percent-encoding');
  }
  if (!authorised(opts, req, res, buildId, 'release')) return;
  let paths: ReturnType<typeof buildPaths>;
  try {
    paths = buildPaths(opts.dataDir, buildId);
  } catch {
    return reply(res, 400, 'not a build id');
  }
  await Promise.all([rm(paths.artefacts, { recursive: true, force: true }), rm(paths.work, { recursive: true, force: true })]);
  res.writeHead(204, { 'Cache-Control': 'no-store' });
  res.end();
}

/** The token of `req` for `buildId` and `scope`, or the refusal already sent. */
function authorised(opts: ArtefactServerOptions, req: IncomingMessage, res: ServerResponse, buildId: string, scope: TokenScope = 'read'): boolean {
  const token = bearerToken(req.headers.authorization);
  if (!token) {
    reply(res, 401, 'an artefact token is required', { 'WWW-Authenticate': 'Bearer' });
    return false;
  }
  const check = verifyArtefactToken(opts.secret, token, buildId, Math.floor(Date.now() / 1000), scope);
  if (!check.ok) reply(res, check.status, check.reason, check.status === 401 ? { 'WWW-Authenticate': 'Bearer error="invalid_token"' } : {});
  return check.ok;
}

async function serveLog(opts: ArtefactServerOptions, req: IncomingMessage, res: ServerResponse, encodedId: string, sealed: boolean): Promise<void> {
  let buildId: string;
  try {
    buildId = decodeURIComponent(encodedId);
  } catch {
    return reply(res, 400, 'bad percent-encoding');
  }
  if (!authorised(opts, req, res, buildId)) return;
  let logPath: string;
  try {
    logPath = buildPaths(opts.dataDir, buildId).log;
  } catch {
    return reply(res, 400, 'not a build id');
  }
  if (sealed) {
    const file = sealedLogPath(logPath);
    const info = await stat(file).catch(() => undefined);
    if (!info?.isFile()) return reply(res, 404, 'the log of this build is not sealed (still running, or never written here)');
    res.writeHead(200, { 'Content-Type': 'application/zstd', 'Content-Length': info.size, 'Cache-Control': 'no-store' });
    if (req.method === 'HEAD') return void res.end();
    return pipeline(createReadStream(file), res);
  }
  if (!(await logExists(logPath))) return reply(res, 404, 'no log of this build here');
  const query = new URL(req.url ?? '/', 'http://builder').searchParams;
  const fromText = query.get('from') ?? req.headers['last-event-id'];
  const from = typeof fromText === 'string' && /^\d{1,15}$/.test(fromText) ? Number(fromText) : 0;
  res.writeHead(200, { 'Content-Type': 'text/event-stream; charset=utf-8', 'Cache-Control': 'no-store', 'X-Accel-Buffering': 'no' });
  if (req.method === 'HEAD') return void res.end();
  const stop = new AbortController();
  res.on('close', () => stop.abort());
  const keepalive = setInterval(() => res.write(SSE_KEEPALIVE), KEEPALIVE_MS);
  try {
    const redactor = opts.redactor ?? new LogRedactor();
    for await (const piece of readBuildLog(logPath, { from, follow: query.get('follow') === '1', redactor, signal: stop.signal, pollMs: opts.logPollMs })) {
      const text = piece.kind === 'lines'
        ? formatSse({ event: 'log', id: String(piece.offset), data: piece.text.toString('utf8').replace(/\n$/, '') })
        : formatSse({ event: 'end', id: String(piece.bytes), data: JSON.stringify({ bytes: piece.bytes, sealed: piece.sealed }) });
      // Back-pressure: a slow reader holds the builder's reads, not its memory.
      if (!res.write(text)) await new Promise<void>((resolve) => res.once('drain', resolve).once('close', resolve));
    }
  } finally {
    clearInterval(keepalive);
    res.end();
  }
}

function reply(res: ServerResponse, status: number, message: string, headers: Record<string, string> = {}): void {
  const body = JSON.stringify(status < 400 ? { status: message } : { error: message });
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body), ...headers });
  res.end(body);
}
