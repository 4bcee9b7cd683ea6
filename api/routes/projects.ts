import { Router } from 'express';
import { readRoute } from '../auth';
import type { ApiDeps } from '../deps';
import { parse } from '../validate';
import { noQuery } from './schemas';

/** GET /api/projects: every project with how many repositories it has. */
export function projectsRouter(deps: ApiDeps): Router {
  const router = Router();
  router.get('/api/projects', readRoute(deps.auth), async (req, res) => {
    parse('query', noQuery, req.query);
    res.json({ items: await deps.store.listProjects() });
  });
  return router;
}
