import { Router } from 'express';
import { z } from 'zod';
import { approveResponse, holdCommandResponse, priorityResponse, protectResponse } from './responses';
import { identityOf, requireRole } from '../auth';
import type { ApiDeps } from '../deps';
import type { RouteDocs } from '../openapi';
import { approveTask, holdSubject, protectRepository, releaseSubject, setTaskPriority } from '../services/admin';
import { parse } from '../validate';
import { idParams } from './schemas';

/** Why (kept in the event with who and when); optional. */
const reason = z.string().min(1).max(500);
/** Pause, resume, drain, approve: a reason or nothing. */
export const adminCommandBody = z.strictObject({ reason: reason.optional() }).optional();
export const priorityBody = z.strictObject({
  /** Higher first; 0 is every task's default; critical path orders equal priorities. */
  priority: z.number().int().min(-1000).max(1000),
  reason: reason.optional(),
});
/** A package name, or a glob of names with `*` (`gcc*`). */
const packagePattern = z.string().min(1).max(100).regex(/^[A-Za-z0-9*][A-Za-z0-9._+~*-]*$/, 'a package name or a glob of one (letters, digits, . _ + ~ - and *)');
export const protectBody = z.strictObject({ packages: z.array(packagePattern).max(200), reason: reason.optional() });

const task = 'build/serpent/recipes/zlib-1.3-1/x86_64';
const why = { reason: 'toolchain upgrade in progress' };

/**
 * Admins' operations on repositories, builders and tasks (the farm's own pause is in farm.ts). Each declares its
 * schemas here once: the handlers parse with them and api/openapi.ts describes them.
 */
export const ADMIN_DOCS = {
  'POST /api/repositories/:id/pause': { summary: 'pause a repository: none of its new tasks is dispatched; running builds finish', params: idParams, body: adminCommandBody, response: { schema: holdCommandResponse }, examples: { params: { id: 'recipes' }, body: why } },
  'POST /api/repositories/:id/resume': { summary: 'resume a paused repository', params: idParams, body: adminCommandBody, response: { schema: holdCommandResponse }, examples: { params: { id: 'recipes' }, body: {} } },
  'POST /api/repositories/:id/protect': { summary: "set the package names or globs whose builds wait for an admin's approval (an empty list removes it)", params: idParams, body: protectBody, response: { schema: protectResponse }, examples: { params: { id: 'recipes' }, body: { packages: ['gcc*', 'glibc', 'binutils'], reason: 'toolchain' } } },
  'POST /api/builders/:id/drain': { summary: 'drain a builder: it finishes what it runs and is given nothing new', params: idParams, body: adminCommandBody, response: { schema: holdCommandResponse }, examples: { params: { id: 'builder-1' }, body: { reason: 'kernel update' } } },
  'POST /api/builders/:id/resume': { summary: 'give a drained builder work again', params: idParams, body: adminCommandBody, response: { schema: holdCommandResponse }, examples: { params: { id: 'builder-1' } } },
  'POST /api/tasks/:id/priority': { summary: 'set a task’s priority: higher is dispatched first, above critical-path order', params: idParams, body: priorityBody, response: { schema: priorityResponse }, examples: { response: { taskId: task, status: 'queued', priority: 10 },  params: { id: task }, body: { priority: 10, reason: 'security fix' } } },
  'POST /api/tasks/:id/approve': { summary: 'approve a task that builds protected packages, so it may be dispatched', params: idParams, body: adminCommandBody, response: { schema: approveResponse }, examples: { params: { id: task }, body: { reason: 'reviewed' } } },
} satisfies RouteDocs;

export function adminRouter(deps: ApiDeps): Router {
  const router = Router();
  const admin = requireRole(deps.auth, 'admin');
  const d = ADMIN_DOCS;
  for (const kind of ['repository', 'builder'] as const) {
    const base = kind === 'repository' ? '/api/repositories' : '/api/builders';
    const hold = kind === 'repository' ? 'pause' : 'drain';
    router.post(`${base}/:id/${hold}`, admin, async (req, res) => {
      const { id } = parse('params', idParams, req.params);
      const body = parse('body', adminCommandBody, req.body);
      const result = await holdSubject(deps, { kind, id }, identityOf(res.locals).name, body?.reason ?? null);
      res.json({ [kind]: id, [kind === 'repository' ? 'paused' : 'drained']: result.hold, changed: result.changed });
    });
    router.post(`${base}/:id/resume`, admin, async (req, res) => {
      const { id } = parse('params', idParams, req.params);
      const body = parse('body', adminCommandBody, req.body);
      const result = await releaseSubject(deps, { kind, id }, identityOf(res.locals).name, body?.reason ?? null);
      res.json({ [kind]: id, [kind === 'repository' ? 'paused' : 'drained']: null, changed: result.changed });
    });
  }
  router.post('/api/repositories/:id/protect', admin, async (req, res) => {
    const { id } = parse('params', d['POST /api/repositories/:id/protect'].params, req.params);
    const body = parse('body', d['POST /api/repositories/:id/protect'].body, req.body);
    res.json(await protectRepository(deps, id, [...new Set(body.packages)], identityOf(res.locals).name, body.reason ?? null));
  });
  router.post('/api/tasks/:id/priority', admin, async (req, res) => {
    const { id } = parse('params', d['POST /api/tasks/:id/priority'].params, req.params);
    const body = parse('body', d['POST /api/tasks/:id/priority'].body, req.body);
    res.json(await setTaskPriority(deps, id, body.priority, identityOf(res.locals).name, body.reason ?? null));
  });
  router.post('/api/tasks/:id/approve', admin, async (req, res) => {
    const { id } = parse('params', d['POST /api/tasks/:id/approve'].params, req.params);
    const body = parse('body', d['POST /api/tasks/:id/approve'].body, req.body);
    res.json(await approveTask(deps, id, identityOf(res.locals).name, body?.reason ?? null));
  });
  return router;
}
