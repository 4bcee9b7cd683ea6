import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Application } from 'express';
import type { RouteDoc } from '../../api/openapi';
import { ROUTE_DOCS } from '../../api/route-docs';
import { pathPattern } from '../../api/route-table';
import { listen } from '../../api/server';

/**
 * An API app served on a free local port for a test, the way the API serves it (api/server.ts's listen), and its
 * close, which never hangs on a keep-alive connection or on a server that did not start.
 */
export interface ServedApi {
  server: Server;
  /** `http://127.0.0.1:<port>`. */
  url: string;
  close(): Promise<void>;
}

export async function serveApp(app: Application): Promise<ServedApi> {
  const server = await listen(app, 0, '127.0.0.1');
  return {
    server,
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => {
      server.closeAllConnections();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

const DOCS = Object.entries(ROUTE_DOCS).map(([key, doc]: [string, RouteDoc]) => ({ method: key.split(' ')[0], pattern: pathPattern(key.split(' ')[1]), key, doc }));

/**
 * Whether a success answer fits the response schema its route documents (api/routes/responses.ts): the issues, as
 * `<route>: <path> <message>` lines, or [] (also for answers that are not 2xx JSON, or of no documented route).
 * Routes with a literal path are matched before parametrised ones, as express declares them first.
 */
export function responseIssues(method: string, path: string, status: number, contentType: string | null, body: unknown): string[] {
  if (status < 200 || status > 299 || !contentType?.startsWith('application/json')) return [];
  const pathname = path.split('?')[0];
  const candidates = DOCS.filter((d) => d.method === method && d.pattern.test(pathname));
  const route = candidates.find((d) => !d.key.includes(':')) ?? candidates[0];
  const schema = route?.doc.response?.schema;
  if (!route || !schema) return route ? [`${route.key}: no response schema`] : [];
  const result = schema.safeParse(body);
  return result.success ? [] : result.error.issues.map((i) => `${route.key}: ${i.path.join('.') || '(root)'} ${i.message}`);
}
