import { Router } from 'express';
import { z } from 'zod';
import { requireRole } from '../auth';
import type { ApiDeps } from '../deps';
import { acceptPush } from '../services/refresh';
import { parse } from '../validate';
import { commit, name, ref } from './schemas';

export const push = z.strictObject({ repository: name, commit: commit.optional(), ref: ref.optional() });

/**
 * POST /api/hooks/git  contributor of the repository: what hooks/post-receive sends after a push. 202 when the refresh was signalled,
 * 200 with a reason when the pushed ref is not the watched one. It only signals the hub, so it answers in
 * milliseconds and never holds up the push.
 */
export function hooksRouter(deps: ApiDeps): Router {
  const router = Router();
  router.post('/api/hooks/git', requireRole(deps.auth, 'contributor', { repository: 'body.repository' }), async (req, res) => {
    const result = await acceptPush(deps, parse('body', push, req.body));
    res.status(result.queued ? 202 : 200).json(result);
  });
  return router;
}
