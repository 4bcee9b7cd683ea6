import { Router } from 'express';
import { identityOf, readRoute, requireRole } from '../auth';
import type { ApiDeps } from '../deps';
import type { RouteDocs } from '../openapi';
import { farmState, holdSubject, releaseSubject } from '../services/admin';
import { parse } from '../validate';
import { adminCommandBody } from './admin';
import { farmResponse, holdCommandResponse } from './responses';
import { noQuery } from './schemas';

/** How many admin events GET /api/farm shows (newest first). */
const FARM_EVENTS = 50;

export const FARM_DOCS = {
  'GET /api/farm': { summary: 'what admins hold back: the farm’s pause, paused repositories, drained builders, the newest admin events (who, when, why)', query: noQuery, response: { schema: farmResponse }, examples: { response: { paused: null, pausedRepositories: [{ id: 'recipes', by: 'admin', reason: 'toolchain upgrade', at: '2026-12-01T10:00:00.000Z' }], drainedBuilders: [], events: [{ id: 3, subject: 'repository:recipes', action: 'pause', by: 'admin', reason: 'toolchain upgrade', at: '2026-12-01T10:00:00.000Z' }] } } },
  'POST /api/farm/pause': { summary: 'pause the whole farm: no new build is dispatched; running builds finish', body: adminCommandBody, response: { schema: holdCommandResponse }, examples: { body: { reason: 'database maintenance' } } },
  'POST /api/farm/resume': { summary: 'resume a paused farm', body: adminCommandBody, response: { schema: holdCommandResponse }, examples: { body: {} } },
} satisfies RouteDocs;

export function farmRouter(deps: ApiDeps): Router {
  const router = Router();
  router.get('/api/farm', readRoute(deps.auth), async (req, res) => {
    parse('query', FARM_DOCS['GET /api/farm'].query, req.query);
    res.json(await farmState(deps.store, FARM_EVENTS));
  });
  router.post('/api/farm/pause', requireRole(deps.auth, 'admin'), async (req, res) => {
    const body = parse('body', FARM_DOCS['POST /api/farm/pause'].body, req.body);
    const result = await holdSubject(deps, { kind: 'farm' }, identityOf(res.locals).name, body?.reason ?? null);
    res.json({ paused: result.hold, changed: result.changed });
  });
  router.post('/api/farm/resume', requireRole(deps.auth, 'admin'), async (req, res) => {
    const body = parse('body', FARM_DOCS['POST /api/farm/resume'].body, req.body);
    const result = await releaseSubject(deps, { kind: 'farm' }, identityOf(res.locals).name, body?.reason ?? null);
    res.json({ paused: null, changed: result.changed });
  });
  return router;
}
