import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Request, Response } from 'express';
import { NotFoundError } from '../../db/store';
import { CLIENT_SCRIPT } from './assets/client-script';
import { STYLESHEET } from './assets/stylesheet';

/**
 * The dashboard's static files, served by the API itself (no CDN: the dashboard works offline and behind a
 * firewall). htmx comes from its npm package (a runtime dependency, so it is in the production image); our own
 * script and stylesheet are TypeScript modules holding their text, because the build (tsc) copies nothing but
 * compiled TypeScript into dist/, which is all the image ships. Read once; revalidated by ETag.
 */
interface Asset {
  type: string;
  body: Buffer;
  etag: string;
}

function asset(type: string, body: string | Buffer): Asset {
  const buffer = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
  return { type, body: buffer, etag: `"${createHash('sha256').update(buffer).digest('base64url').slice(0, 22)}"` };
}

let assets: Map<string, Asset> | undefined;

function all(): Map<string, Asset> {
  assets ??= new Map([
    ['htmx.min.js', asset('text/javascript; charset=utf-8', readFileSync(require.resolve('htmx.org/dist/htmx.min.js')))],
    ['dashboard.js', asset('text/javascript; charset=utf-8', CLIENT_SCRIPT)],
    ['dashboard.css', asset('text/css; charset=utf-8', STYLESHEET)],
  ]);
  return assets;
}

export const ASSET_NAMES = ['htmx.min.js', 'dashboard.js', 'dashboard.css'] as const;

export function assetUrl(name: (typeof ASSET_NAMES)[number]): string {
  return `/dashboard/assets/${name}`;
}

export function sendAsset(req: Request, res: Response, name: string): void {
  const found = all().get(name);
  if (!found) throw new NotFoundError('asset', name);
  res.setHeader('Content-Type', found.type);
  res.setHeader('ETag', found.etag);
  res.setHeader('Cache-Control', 'no-cache');
  res.setHeader('X-Content-Type-Options', 'nosniff');
  if (req.headers['if-none-match'] === found.etag) {
    res.status(304).end();
    return;
  }
  res.send(found.body);
}
