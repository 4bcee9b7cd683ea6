import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { isSafeArtefactName } from '../../core/build/artefact-names';
import { bearerToken, verifyArtefactToken } from '../../core/build/tokens';
import { artefactsDir } from '../../activities/avalanche/paths';

/**
 * The builder's artefact server: `GET /builds/<encodeURIComponent(buildId)>/<name>` streams one file of a
 * finished build to the holder of that build's token (`Authorization: Bearer <token>`, core/build/tokens.ts).
 *
 * 401 without a valid token, 403 with a genuine token of another build, 404 for a file the build does not
 * have, 400 for a name that is not a plain file name (no separators, no leading dot: nothing can climb out of
 * the build's folder). The token is checked before the file is looked up, so no one learns which builds exist.
 * `GET /health` answers without a token, for probes.
 */
export interface ArtefactServerOptions {
  dataDir: string;
  /** The builder's token secret. */
  secret: Uint8Array;
  port: number;
  /** Interface to listen on; default all. */
  host?: string;
  log?: (message: string, meta: Record<string, unknown>) => void;
}

export interface ArtefactServer {
  /** The port actually bound (useful with port 0). */
  port: number;
  close(): Promise<void>;
}

const PATH = /^\/builds\/([^/]+)\/([^/]+)$/;

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
  if (req.method !== 'GET' && req.method !== 'HEAD') return reply(res, 405, 'only GET and HEAD', { Allow: 'GET, HEAD' });
  if (path === '/health') return reply(res, 200, 'ok');
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

  const token = bearerToken(req.headers.authorization);
  if (!token) return reply(res, 401, 'an artefact token is required', { 'WWW-Authenticate': 'Bearer' });
  const check = verifyArtefactToken(opts.secret, token, buildId, Math.floor(Date.now() / 1000));
  if (!check.ok) return reply(res, check.status, check.reason, check.status === 401 ? { 'WWW-Authenticate': 'Bearer error="invalid_token"' } : {});

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

function reply(res: ServerResponse, status: number, message: string, headers: Record<string, string> = {}): void {
  const body = JSON.stringify(status < 400 ? { status: message } : { error: message });
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body), ...headers });
  res.end(body);
}
