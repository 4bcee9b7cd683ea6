import { Router } from 'express';
import { readRoute } from '../auth';
import type { ApiDeps } from '../deps';
import { parse } from '../validate';
import { noQuery } from './schemas';

/** GET /api/builders: every builder as last reported by its heartbeat (lastSeen tells a live one from a gone one). */
export function buildersRouter(deps: ApiDeps): Router {
  const router = Router();
  router.get('/api/builders', readRoute(deps.auth), async (req, res) => {
    parse('query', noQuery, req.query);
    res.json({ items: await deps.store.listBuilders() });
  });
  return router;
}
