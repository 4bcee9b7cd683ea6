import { Router } from 'express';
import { underPressure } from '../../core/builder/health';
import { readRoute } from '../auth';
import type { ApiDeps } from '../deps';
import { parse } from '../validate';
import { noQuery } from './schemas';

/**
 * GET /api/builders: every builder as last reported by its heartbeat (lastSeen tells a live one from a gone one),
 * with its health (load, memory, disk, the reasons it takes no new build) and `admitting`: false while under pressure.
 */
export function buildersRouter(deps: ApiDeps): Router {
  const router = Router();
  router.get('/api/builders', readRoute(deps.auth), async (req, res) => {
    parse('query', noQuery, req.query);
    res.json({ items: (await deps.store.listBuilders()).map((b) => ({ ...b, admitting: !underPressure(b) })) });
  });
  return router;
}
