import { Router } from 'express';
import { z } from 'zod';
import { VERIFICATION_RESULTS } from '../../core/contracts/verification';
import { identityOf, readRoute, requireRole } from '../auth';
import type { ApiDeps } from '../deps';
import { listVerifications, requestVerification } from '../services/verifications';
import { parse } from '../validate';
import { idParams, name, noBody, once, queryInt } from './schemas';

// Strict: a misspelt filter is a 422, not the unfiltered list.
export const verificationListQuery = z.strictObject({
  result: once(z.enum(VERIFICATION_RESULTS)).optional(),
  repository: once(name).optional(),
  /** Either side: the builder that built the published build, or the one that rebuilt it. */
  builder: once(z.string().min(1).max(255)).optional(),
  limit: queryInt(1, 200).default(50),
});

/**
 * Verification builds (README, Verification builds): a published build rebuilt on another builder and compared
 * file by file. GET /api/tasks/:id shows a task's verifications too.
 *
 * GET  /api/verifications       read: ?result=identical|different|skipped|failed|running&repository=&builder=&limit=(1-200, 50), newest first
 * POST /api/tasks/:id/verify    admin: start the next verification of a published build (202)
 */
export function verificationsRouter(deps: ApiDeps): Router {
  const router = Router();
  router.get('/api/verifications', readRoute(deps.auth), async (req, res) => {
    res.json(await listVerifications(deps.store, parse('query', verificationListQuery, req.query)));
  });
  router.post('/api/tasks/:id/verify', requireRole(deps.auth, 'admin'), async (req, res) => {
    const { id } = parse('params', idParams, req.params);
    parse('body', noBody, req.body);
    res.status(202).json(await requestVerification(deps, id, identityOf(res.locals).name));
  });
  return router;
}
