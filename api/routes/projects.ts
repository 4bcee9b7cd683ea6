import { Router } from 'express';
import type { ApiDeps } from '../deps';

/** GET /api/projects: every project with how many repositories it has. */
export function projectsRouter(deps: ApiDeps): Router {
  const router = Router();
  router.get('/api/projects', async (_req, res) => {
    res.json({ items: await deps.store.listProjects() });
  });
  return router;
}
