import { Router } from 'express';
import { z } from 'zod';
import { TASK_STATUSES } from '../../core/task/state';
import { identityOf, readRoute, requireRole } from '../auth';
import type { ApiDeps } from '../deps';
import { SSE_KEEPALIVE } from '../../core/formats/sse';
import { openTaskLog } from '../services/task-log';
import { followTaskLog } from '../services/task-log-follow';
import { TaskList } from '../services/task-list';
import { commandTask, taskDetail } from '../services/tasks';
import { taskApproval } from '../services/admin';
import { taskVerifications } from '../services/verifications';
import { parse } from '../validate';
import type { TaskCursor } from '../../db/store';
import { idParams, noBody, once, queryInt } from './schemas';

/** `status=failed,blocked` and `status=failed&status=blocked` mean the same. */
const statusList = z.preprocess(
  // eslint-disable-next-line @typescript-eslint/no-base-to-string -- query values are strings or arrays of them
  (v) => (v === undefined ? undefined : [v].flat().flatMap((s) => String(s).split(',')).map((s) => s.trim()).filter(Boolean)),
  z.array(z.enum(TASK_STATUSES)).optional(),
);

/**
 * The opaque keyset cursor of GET /api/tasks: the last item's creation time (ms) and id, as base64url JSON. Any
 * other string is a 422 naming `query.cursor`, never a page from somewhere else.
 */
export function encodeTaskCursor(c: TaskCursor): string {
  return Buffer.from(JSON.stringify([c.createdAt.getTime(), c.id])).toString('base64url');
}

const cursor = z.string().max(2048).transform((s, ctx): TaskCursor => {
  try {
    if (!/^[A-Za-z0-9_-]+$/.test(s)) throw new Error('not base64url');
    const v: unknown = JSON.parse(Buffer.from(s, 'base64url').toString('utf8'));
    if (Array.isArray(v) && v.length === 2 && Number.isSafeInteger(v[0]) && typeof v[1] === 'string' && v[1].length > 0 && v[1].length <= 1024) {
      const createdAt = new Date(v[0] as number);
      if (!Number.isNaN(createdAt.getTime())) return { createdAt, id: v[1] };
    }
  } catch {
    // reported below
  }
  ctx.addIssue({ code: 'custom', message: 'not a cursor given by this API (nextCursor of a previous page)' });
  return z.NEVER;
});

// Strict: a misspelt filter (`?state=failed`) is a 422, not silently the unfiltered list.
export const listQuery = z.strictObject({
  status: statusList,
  repository: once(z.string().min(1).max(255)).optional(),
  source: once(z.string().min(1).max(255)).optional(),
  // 200 keeps one page of task rows well under a megabyte.
  limit: queryInt(1, 200).default(50),
  // Slower on deep pages (the database walks and drops every skipped row): prefer `cursor`.
  offset: queryInt(0, Number.MAX_SAFE_INTEGER).default(0),
  cursor: once(cursor).optional(),
  // `exact`: count now; otherwise a count of the same filter up to a second old may be reused (services/task-list.ts).
  total: once(z.enum(['exact', 'recent'])).optional(),
});

export const logQuery = z.strictObject({
  tail: queryInt(1, 100_000).optional(),
  // `follow=1`: Server-Sent Events until the build's end (services/task-log-follow.ts).
  follow: once(z.enum(['0', '1'])).optional(),
  // A byte offset to resume a followed log at (the id of the last event seen); `Last-Event-ID` says the same.
  from: queryInt(0, Number.MAX_SAFE_INTEGER).optional(),
}).refine((q) => !(q.follow === '1' && q.tail !== undefined), { message: 'tail is for a plain log; a followed log resumes with from', path: ['tail'] });
const lastEventId = z.string().regex(/^\d{1,15}$/).transform(Number).optional().catch(undefined);

/**
 * Tasks are addressed by their build id, which contains slashes (build/<project>/<repo>/<source-version-release>/
 * <isa>): it travels URL-encoded as ONE path segment, `/api/tasks/${encodeURIComponent(id)}`. One scheme only,
 * so /log, /retry and /cancel can never be mistaken for part of an id.
 *
 * GET  /api/tasks             read: ?status=a,b&repository=&source=&limit=(1-200, 50)&cursor=&offset=&total=exact|recent
 *                             newest first; `nextCursor` (null on the last page) is the next page's `cursor`;
 *                             `total` with `totalExact` (counted for this response) and `totalAt` (when counted)
 * GET  /api/tasks/:id         read: the task, its events, its approval and its verification builds
 * GET  /api/tasks/:id/log     read (detail: a viewer's unless SUMMIT_API_PUBLIC_READS=all): text/plain, the whole log or ?tail=N lines; ?follow=1 (&from=offset or
 *                             Last-Event-ID): text/event-stream while the build runs, `end` event at its end
 * POST /api/tasks/:id/retry   admin
 * POST /api/tasks/:id/cancel  admin
 */
export function tasksRouter(deps: ApiDeps): Router {
  const router = Router();
  const list = new TaskList(deps.store, deps.taskTotalMaxAgeMs);
  router.get('/api/tasks', readRoute(deps.auth), async (req, res) => {
    const { cursor: after, total, ...query } = parse('query', listQuery, req.query);
    const page = await list.page({ ...query, after }, total);
    const nextCursor = page.next ? encodeTaskCursor(page.next) : null;
    // The items arrive as JSON text from the database; the rest is ours. Same body as res.json would send.
    const rest = JSON.stringify({ total: page.total, totalExact: page.totalExact, totalAt: page.totalAt, limit: query.limit, offset: query.offset, nextCursor });
    res.type('application/json').send(`{"items":${page.itemsJson},${rest.slice(1)}`);
  });
  router.get('/api/tasks/:id', readRoute(deps.auth), async (req, res) => {
    const { id } = parse('params', idParams, req.params);
    const detail = await taskDetail(deps.store, id);
    res.json({ ...detail, approval: await taskApproval(deps.store, id), verifications: await taskVerifications(deps.store, id) });
  });
  router.get('/api/tasks/:id/log', readRoute(deps.auth, 'detail'), async (req, res) => {
    const { id } = parse('params', idParams, req.params);
    const { tail, follow, from } = parse('query', logQuery, req.query);
    if (follow === '1') {
      await deps.store.getTask(id); // a 404 before the stream starts
      const stop = new AbortController();
      res.on('close', () => stop.abort());
      res.status(200).set({ 'Content-Type': 'text/event-stream; charset=utf-8', 'Cache-Control': 'no-store', 'X-Accel-Buffering': 'no' });
      res.flushHeaders();
      const keepalive = setInterval(() => res.write(SSE_KEEPALIVE), 15_000);
      const write = (text: string) => (res.write(text) ? Promise.resolve() : new Promise<void>((resolve) => res.once('drain', resolve).once('close', resolve)));
      try {
        await followTaskLog(deps.store, id, { from: from ?? lastEventId.parse(req.get('last-event-id')) ?? 0, signal: stop.signal, write, origins: deps.artefactOrigins });
      } catch (err) {
        // Headers are gone: the error can only end the stream, and go to the log.
        deps.logger.warn('log follow failed', { requestId: res.locals.requestId, taskId: id, error: (err as Error).message });
      } finally {
        clearInterval(keepalive);
        res.end();
      }
      return;
    }
    const log = await openTaskLog(deps.store, id, tail, deps.artefactOrigins);
    res.status(200).type('text/plain; charset=utf-8').setHeader('Cache-Control', 'no-store');
    log.stream.on('error', (err) => {
      deps.logger.warn('log stream failed', { requestId: res.locals.requestId, path: log.path, error: err.message });
      res.destroy(err);
    });
    res.on('close', () => log.stream.destroy());
    log.stream.pipe(res);
  });
  for (const command of ['retry', 'cancel'] as const) {
    router.post(`/api/tasks/:id/${command}`, requireRole(deps.auth, 'admin'), async (req, res) => {
      const { id } = parse('params', idParams, req.params);
      parse('body', noBody, req.body);
      res.json(await commandTask(deps, command, id, identityOf(res.locals).name));
    });
  }
  return router;
}
