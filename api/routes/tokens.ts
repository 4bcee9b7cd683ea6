import { Router, type Response } from 'express';
import { z } from 'zod';
import { ROLES } from '../../core/auth/roles';
import type { TokenStore } from '../../db/token-store';
import { identityOf, requireRole } from '../auth';
import type { ApiDeps } from '../deps';
import { sendError, ValidationError } from '../errors';
import { parse } from '../validate';
import { idParams, name, noBody, noQuery } from './schemas';

export const newToken = z
  .strictObject({
    /** Shown in task events as who asked; a name, not a secret. */
    name,
    role: z.enum(ROLES),
    /** Repositories a contributor's rights cover; absent: every repository. Only contributors take it. */
    repositories: z.array(name).min(1).max(500).optional(),
    /** ISO 8601 with a zone, e.g. 2027-01-31T00:00:00Z; absent: never expires. */
    expiresAt: z.iso.datetime({ offset: true }).optional(),
  })
  .refine((t) => t.repositories === undefined || t.role === 'contributor', { path: ['repositories'], message: 'only contributor tokens name repositories' });

/** 503 when this API keeps its tokens in memory only (tests and tools); the real API always has the store. */
function storeOr503(store: TokenStore | undefined, res: Response): store is TokenStore {
  if (!store) sendError(res, 503, 'tokens_unavailable', 'this API keeps no token table (it was started with tokens in memory)');
  return store !== undefined;
}

/**
 * Tokens, all admin:
 * POST /api/tokens              { name, role, repositories?, expiresAt? } → 201 with `token`, the secret, shown
 *                               this once (only its SHA-256 is kept)
 * GET  /api/tokens              every token, revoked and expired ones too, never a secret
 * POST /api/tokens/:id/revoke   from the next request on, in every API process; 409 for the last admin token
 * and, for any token (every role includes viewer):
 * GET  /api/tokens/self         who the token is: { id, name, role, repositories } (a login form checks a token
 *                               with it)
 */
export function tokensRouter(deps: ApiDeps): Router {
  const router = Router();
  router.post('/api/tokens', requireRole(deps.auth, 'admin'), async (req, res) => {
    const body = parse('body', newToken, req.body);
    const expiresAt = body.expiresAt === undefined ? null : new Date(body.expiresAt);
    if (expiresAt && expiresAt.getTime() <= deps.auth.now().getTime()) throw new ValidationError([{ path: 'body.expiresAt', message: 'must be in the future' }]);
    const store = deps.auth.store;
    if (!storeOr503(store, res)) return;
    const { record, token } = await store.create({ ...body, expiresAt, createdBy: identityOf(res.locals).name });
    res.status(201).location(`/api/tokens/${record.id}`).json({ ...record, token });
  });
  router.get('/api/tokens', requireRole(deps.auth, 'admin'), async (req, res) => {
    parse('query', noQuery, req.query);
    const store = deps.auth.store;
    if (!storeOr503(store, res)) return;
    res.json({ items: await store.list() });
  });
  router.get('/api/tokens/self', requireRole(deps.auth, 'viewer'), (req, res) => {
    parse('query', noQuery, req.query);
    res.json(identityOf(res.locals));
  });
  router.post('/api/tokens/:id/revoke', requireRole(deps.auth, 'admin'), async (req, res) => {
    const { id } = parse('params', idParams, req.params);
    parse('body', noBody, req.body);
    const store = deps.auth.store;
    if (!storeOr503(store, res)) return;
    res.json(await store.revoke(id, identityOf(res.locals).name, deps.auth.now()));
  });
  return router;
}
