import type { Application, RequestHandler } from 'express';
import { MethodNotAllowedError } from './errors';

/**
 * The routes an app serves, read from express's own router stack: the method guard below answers 405 and
 * OPTIONS from it, and the fuzz test walks it so that a route added later is fuzzed too.
 */
export interface RouteEntry {
  /** Upper case; `*` for a route that takes every method. */
  method: string;
  /** As declared, e.g. `/api/tasks/:id/log`. */
  path: string;
}

interface StackLayer {
  route?: { path: unknown; methods: Record<string, boolean> };
  handle?: { stack?: StackLayer[] };
}

/** Every (method, path) of the app, in declaration order. GET implies HEAD in express, so HEAD is listed too. */
export function routesOf(app: Application): RouteEntry[] {
  const out: RouteEntry[] = [];
  const walk = (stack: StackLayer[]) => {
    for (const layer of stack) {
      if (layer.route) {
        if (typeof layer.route.path !== 'string') throw new Error(`route table: a route path is not a string (${String(layer.route.path)}); only string paths are supported`);
        const methods = Object.keys(layer.route.methods).map((m) => (m === '_all' ? '*' : m.toUpperCase()));
        if (methods.includes('GET') && !methods.includes('HEAD')) methods.push('HEAD');
        for (const method of methods) out.push({ method, path: layer.route.path });
      } else if (layer.handle?.stack) {
        // Routers are mounted at "/" and declare full paths (see app.ts); a nested router's stack is walked as is.
        walk(layer.handle.stack);
      }
    }
  };
  walk((app as unknown as { router: { stack: StackLayer[] } }).router.stack);
  return out;
}

/**
 * A declared path as a pattern over the raw (still percent-encoded) request path, the way express matches it:
 * case-insensitive, an optional trailing slash, `:name` for one segment. Any other path syntax is refused here
 * so that a route using it is noticed at the first request rather than answered wrongly.
 */
export function pathPattern(path: string): RegExp {
  const segments = path.split('/').map((segment) => {
    if (/^:[A-Za-z_][A-Za-z0-9_]*$/.test(segment)) return '[^/]+';
    if (/[:*{}()?+]/.test(segment)) throw new Error(`route table: the path ${path} uses syntax the method guard does not know (${segment})`);
    return segment.replace(/[.\\^$|[\]]/g, '\\$&');
  });
  return new RegExp(`^${segments.join('/')}/?$`, 'i');
}

/**
 * Known path, other method: 405 with `Allow` (rather than 404, which would say the resource is not there).
 * OPTIONS on a known path: 204 with `Allow`. Unknown paths fall through to the 404. The table is read from the
 * app on the first request, once every router is in place.
 */
export function methodGuard(app: Application): RequestHandler {
  let table: Array<{ pattern: RegExp; method: string }> | undefined;
  return (req, res, next) => {
    table ??= routesOf(app).map((r) => ({ pattern: pathPattern(r.path), method: r.method }));
    const matched = table.filter((r) => r.pattern.test(req.path));
    if (matched.length === 0 || matched.some((r) => r.method === '*')) {
      next();
      return;
    }
    const allow = [...new Set([...matched.map((r) => r.method), 'OPTIONS'])];
    if (req.method === 'OPTIONS') {
      res.setHeader('Allow', allow.join(', '));
      res.status(204).end();
      return;
    }
    if (!allow.includes(req.method)) {
      next(new MethodNotAllowedError(`${req.method} is not allowed on ${req.path}; it takes ${allow.join(', ')}`, allow));
      return;
    }
    next();
  };
}
