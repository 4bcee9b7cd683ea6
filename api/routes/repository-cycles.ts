import { readRoute } from '../auth';
import { Router } from 'express';
import type { ApiDeps } from '../deps';
import { RepositoryCyclesCache } from '../services/repository-cycles';
import { parse } from '../validate';
import { idParams, noQuery } from './schemas';

/**
 * GET /api/repositories/:id/cycles  public: the dependency cycles among the repository's recipes with their
 * bootstrap plans (members, cut edges, stages, rebuilds), as of its last intake (services/repository-cycles.ts).
 */
export function repositoryCyclesRouter(deps: ApiDeps, cycles = new RepositoryCyclesCache(deps.store)): Router {
  const router = Router();
  router.get('/api/repositories/:id/cycles', readRoute(deps.auth), async (req, res) => {
    const { id } = parse('params', idParams, req.params);
    parse('query', noQuery, req.query);
    res.json(await cycles.of(id));
  });
  return router;
}
