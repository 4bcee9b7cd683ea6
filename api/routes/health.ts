import { Router } from 'express';
import { publicRoute } from '../auth';
import type { ApiDeps } from '../deps';
import { checkHealth } from '../services/health';
import { parse } from '../validate';
import { noQuery } from './schemas';

/**
 * GET /health: 200 while the database answers (the hub's state is in the body; `degraded` when it does not take
 * requests), 503 when the database does not, so a container probe restarts only an API that cannot serve reads.
 */
export function healthRouter(deps: ApiDeps): Router {
  const router = Router();
  router.get('/health', publicRoute('probes: whether the database and the hub answer'), async (req, res) => {
    parse('query', noQuery, req.query);
    const health = await checkHealth(deps.store, deps.pipeline);
    res.status(health.status === 'down' ? 503 : 200).json(health);
  });
  return router;
}
