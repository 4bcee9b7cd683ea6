import { Router } from 'express';
import { identityOf, requireRole } from '../auth';
import type { ApiDeps } from '../deps';
import { ROLES } from '../tokens';
import { parse } from '../validate';
import { noQuery } from './schemas';

/**
 * GET /api/whoami  any token: the name and role the bearer token belongs to (401 for none or an unknown one).
 * The dashboard's sign-in checks a token with it before keeping it for the session.
 */
export function sessionRouter(deps: ApiDeps): Router {
  const router = Router();
  router.get('/api/whoami', requireRole(deps.auth, ROLES[0]), (req, res) => {
    parse('query', noQuery, req.query);
    const { name, role } = identityOf(res.locals);
    res.setHeader('Cache-Control', 'no-store');
    res.json({ name, role });
  });
  return router;
}
