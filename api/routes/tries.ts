import { Router } from 'express';
import { z } from 'zod';
import { longDuration } from '../../core/config';
import { tryNameProblem } from '../../core/contracts/try';
import { defaultTryName, tryRefProblem } from '../../core/intake/try-ref';
import { identityOf, readRoute, requireRole } from '../auth';
import type { ApiDeps } from '../deps';
import type { RouteDocs } from '../openapi';
import { ValidationError } from '../errors';
import { HubUnavailableError } from '../pipeline';
import type { TryControl } from '../services/tries';
import { parse } from '../validate';
import { idParams, noBody, once, queryInt } from './schemas';
import { triesResponse, tryResponse, trySweepResponse } from './responses';

const tryName = z.string().superRefine((v, ctx) => {
  const problem = tryNameProblem(v);
  if (problem) ctx.addIssue({ code: 'custom', message: problem });
});

export const tryBody = z.strictObject({
  /** A branch (`feature/x`, `refs/heads/feature/x`) or a pull/merge-request ref (`refs/pull/12/head`). */
  ref: z.string().superRefine((v, ctx) => {
    const problem = tryRefProblem(v);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  }),
  /** The index is `try/<name>`; default derived from the ref (core/intake/try-ref.ts). */
  name: tryName.optional(),
  /** Its lifetime (e.g. 2h, 3d): at most, and by default, SUMMIT_TRY_TTL. */
  ttl: longDuration.optional(),
});
export const tryParams = z.strictObject({ name: tryName });
export const tryListQuery = z.strictObject({
  live: once(z.enum(['true', 'false'])).optional(),
  repository: once(z.string().min(1).max(255)).optional(),
  limit: queryInt(1, 200).default(50),
});
export const sweepBody = z.strictObject({ dryRun: z.boolean().optional() }).optional();

/**
 * Try-builds (core/contracts/try.ts): a branch or pull-request ref built into the throw-away index `try/<name>`.
 *
 * POST /api/repositories/:id/try   contributor of that repository: {ref, name?, ttl?} starts a try (202; 409 while
 *                                  the name is taken by a live try)
 * GET  /api/tries                  read: ?live=true&repository=&limit=, newest first, each with its index and expiry
 * GET  /api/tries/:name            read: the newest try of that name
 * POST /api/tries/:name/expire     admin: expire it now (its index is removed)
 * POST /api/tries/sweep            admin: expire every try whose time has passed and remove `try/` indexes no live
 *                                  try owns; {dryRun} lists what would go
 */
export function triesRouter(deps: ApiDeps): Router {
  const router = Router();
  const tries = (): TryControl => {
    if (!deps.tries) throw new HubUnavailableError('this API has no connection to the workers (try-builds are off)');
    return deps.tries;
  };
  router.post('/api/repositories/:id/try', requireRole(deps.auth, 'contributor', { repository: 'params.id' }), async (req, res) => {
    const { id } = parse('params', idParams, req.params);
    const body = parse('body', tryBody, req.body);
    const control = tries();
    if (body.ttl !== undefined && body.ttl > control.maxTtlMs) {
      throw new ValidationError([{ path: 'body.ttl', message: `at most SUMMIT_TRY_TTL (${Math.round(control.maxTtlMs / 1000)} s)` }]);
    }
    const started = await control.start({ repository: id, ref: body.ref, name: body.name ?? defaultTryName(body.ref), by: identityOf(res.locals).name }, body.ttl ?? control.maxTtlMs);
    res.status(202).location(`/api/tries/${encodeURIComponent(started.name)}`).json(started);
  });
  router.get('/api/tries', readRoute(deps.auth), async (req, res) => {
    const q = parse('query', tryListQuery, req.query);
    res.json({ items: await tries().list({ limit: q.limit, live: q.live === 'true', ...(q.repository ? { repository: q.repository } : {}) }) });
  });
  router.post('/api/tries/sweep', requireRole(deps.auth, 'admin'), async (req, res) => {
    const body = parse('body', sweepBody, req.body) ?? {};
    res.json(await tries().sweep({ dryRun: body.dryRun ?? false, by: identityOf(res.locals).name }));
  });
  router.get('/api/tries/:name', readRoute(deps.auth), async (req, res) => {
    const { name } = parse('params', tryParams, req.params);
    res.json(await tries().get(name));
  });
  router.post('/api/tries/:name/expire', requireRole(deps.auth, 'admin'), async (req, res) => {
    const { name } = parse('params', tryParams, req.params);
    parse('body', noBody, req.body);
    res.status(202).json(await tries().expire(name, identityOf(res.locals).name));
  });
  return router;
}

/** The OpenAPI descriptions of these routes (spread into api/route-docs.ts). */
export const TRY_DOCS: RouteDocs = {
  'POST /api/repositories/:id/try': {
    summary: 'build a branch or pull-request ref into the throw-away index try/<name>; 409 while a live try holds the name', params: idParams, body: tryBody, response: { status: 202, schema: tryResponse },
    examples: { params: { id: 'recipes' }, body: { ref: 'refs/pull/12/head', ttl: '2d' } },
  },
  'GET /api/tries': { summary: 'try-builds, newest first, each with its index, status and expiry', query: tryListQuery, response: { schema: triesResponse }, examples: { query: { live: 'true', limit: '20' } } },
  'GET /api/tries/:name': { summary: 'the newest try of a name', params: tryParams, response: { schema: tryResponse }, examples: { params: { name: 'pr-12' } } },
  'POST /api/tries/:name/expire': { summary: 'expire a try now: its index is removed', params: tryParams, body: noBody, response: { status: 202, schema: tryResponse }, examples: { params: { name: 'pr-12' } } },
  'POST /api/tries/sweep': { summary: 'expire every try whose time has passed and remove try indexes no live try owns; `dryRun` lists what would go', body: sweepBody, response: { schema: trySweepResponse }, examples: { body: { dryRun: true } } },
};
