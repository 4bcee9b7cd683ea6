import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';

/**
 * A read-only HTTP server for the published repositories (`<vessel>/repos`), so moss can use one directly:
 * `http://host:port/<index>/moss-root-index.json`, then the history's stone.index, then the pool files its
 * PackageURIs name. Production would put a CDN or nginx in front of the same folder; this is for `npm start` and
 * tests.
 *
 * Only GET and HEAD of regular files; no listings. A path segment that is empty, `.`/`..` or starts with a dot is
 * refused, which keeps requests inside the folder and hides temporary files of writes in progress.
 */
export interface RepositoryServer {
  url: string;
  close(): Promise<void>;
}

const TYPES: Record<string, string> = { '.json': 'application/json', '.zst': 'application/zstd' };

export async function startRepositoryServer(reposDir: string, port: number, host = '0.0.0.0'): Promise<RepositoryServer> {
  const server: Server = createServer((req, res) => {
    const send = (status: number, text: string) => {
      res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8' }).end(`${text}\n`);
    };
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(405, 'method not allowed');
    let segments: string[];
    try {
      segments = new URL(req.url ?? '/', 'http://vessel').pathname.split('/').slice(1).map(decodeURIComponent);
    } catch {
      return send(400, 'bad path');
    }
    if (segments.length === 0 || segments.some((s) => s === '' || s.startsWith('.') || s.includes('/') || s.includes('\0'))) {
      return send(404, 'not found');
    }
    const file = join(reposDir, ...segments);
    stat(file).then(
      (s) => {
        if (!s.isFile()) return send(404, 'not found');
        const ext = file.slice(file.lastIndexOf('.'));
        res.writeHead(200, { 'content-type': TYPES[ext] ?? 'application/octet-stream', 'content-length': s.size });
        if (req.method === 'HEAD') return res.end();
        const stream = createReadStream(file);
        stream.on('error', () => res.destroy());
        stream.pipe(res);
      },
      () => send(404, 'not found'),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const address = server.address() as AddressInfo;
  const shown = host === '0.0.0.0' ? '127.0.0.1' : host;
  return {
    url: `http://${shown}:${address.port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
