import { Router } from 'express';
import { z } from 'zod';
import { readRoute, requireRole } from '../auth';
import type { ApiDeps } from '../deps';
import { requestRefresh } from '../services/refresh';
import { listRepositories, registerRepository, removeRepository, repositoryDetail } from '../services/repositories';
import { repositoryAdminFields, repositoryEvents } from '../services/admin';
import { parse } from '../validate';
import { idParams, name, noBody, noQuery, ref } from './schemas';

export const newRepository = z.strictObject({
  id: name,
  project: name,
  /** https, http, ssh, git or user@host:path, or a local path inside SUMMIT_REPOSITORY_ROOTS (services/repositories.ts). */
  url: z.string().min(1).max(2048),
  ref: ref.optional(),
  cascade: z.boolean().optional(),
  /** Recipes saying `networking: true` may have the network where their builder allows it too (README, Security model). */
  networking: z.boolean().optional(),
  /** `unstable`: a wave that published every build, closure checked, promotes unstable (README, Operations, Promote policy). */
  promote: z.enum(['unstable']).optional(),
  /** An index whose packages satisfy this repository's closure check (README, Operations, Closure). */
  base: name.optional(),
  /** Verification builds of its published builds (README, Verification builds): a sample rate, packages always verified. */
  verify: z.strictObject({
    sampleRate: z.number().min(0).max(1).optional(),
    packages: z.array(name).max(1000).optional(),
  }).optional(),
});

/**
 * GET  /api/repositories              read
 * GET  /api/repositories/:id          read: the record and its invalid recipes with the reasons; pause, protected
 *                                     packages and admin events (admin.ts has the commands)
 * POST /api/repositories              admin: register one (201; 409 if the id is taken)
 * POST /api/repositories/:id/refresh  contributor of that repository: ask the hub to read it again (202)
 * DELETE /api/repositories/:id        admin: forget it (204; 404 unknown; 409 while it has open tasks)
 */
export function repositoriesRouter(deps: ApiDeps): Router {
  const router = Router();
  router.get('/api/repositories', readRoute(deps.auth), async (req, res) => {
    parse('query', noQuery, req.query);
    const [items, admin] = await Promise.all([listRepositories(deps), repositoryAdminFields(deps.store)]);
    res.json({ items: items.map((r) => ({ ...r, ...admin(r.id) })) });
  });
  router.get('/api/repositories/:id', readRoute(deps.auth), async (req, res) => {
    const { id } = parse('params', idParams, req.params);
    parse('query', noQuery, req.query);
    const detail = await repositoryDetail(deps, id);
    const [admin, events] = await Promise.all([repositoryAdminFields(deps.store), repositoryEvents(deps.store, id)]);
    res.json({ ...detail, ...admin(id), events });
  });
  router.post('/api/repositories', requireRole(deps.auth, 'admin'), async (req, res) => {
    const body = parse('body', newRepository, req.body);
    const repo = await registerRepository({ store: deps.store, repositoryRoots: deps.repositoryRoots ?? [] }, body);
    res.status(201).location(`/api/repositories/${encodeURIComponent(repo.id)}`).json(repo);
  });
  router.delete('/api/repositories/:id', requireRole(deps.auth, 'admin'), async (req, res) => {
    const { id } = parse('params', idParams, req.params);
    parse('body', noBody, req.body);
    await removeRepository(deps, id);
    res.status(204).end();
  });
  router.post('/api/repositories/:id/refresh', requireRole(deps.auth, 'contributor', { repository: 'params.id' }), async (req, res) => {
    const { id } = parse('params', idParams, req.params);
    parse('body', noBody, req.body);
    res.status(202).json(await requestRefresh(deps, id));
  });
  return router;
}

