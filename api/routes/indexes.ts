import { Router } from 'express';
import { z } from 'zod';
import { MAX_SEGMENT_LENGTH, SAFE_NAME_CHARACTERS, SAFE_NAME_PATTERN } from '../../core/contracts/names';
import { MAX_KEEP } from '../../core/repo/prune';
import { identityOf, readRoute, requireRole } from '../auth';
import type { ApiDeps } from '../deps';
import { HubUnavailableError } from '../pipeline';
import type { IndexAdminControl } from '../services/index-admin';
import { parse } from '../validate';
import { noQuery, queryInt } from './schemas';

/** An index (published repository) name: one path segment, the rule of core/contracts/names.ts. */
export const indexParams = z.strictObject({ index: z.string().max(MAX_SEGMENT_LENGTH).regex(SAFE_NAME_PATTERN, `only ${SAFE_NAME_CHARACTERS}`) });
const historyId = z.string().regex(/^[1-9][0-9]{0,15}$/, 'a history id (a positive integer)');
const stream = z.enum(['volatile', 'unstable']);

export const promoteBody = z.strictObject({ to: stream.optional(), from: stream.optional() }).optional();
export const tagBody = z.strictObject({ tag: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9-]{0,99}$/, 'a tag: [a-zA-Z0-9][a-zA-Z0-9-]*, at most 100 characters'), history: historyId, replace: z.boolean().optional() });
export const rollbackBody = z.strictObject({ stream, history: historyId });
export const pruneBody = z.strictObject({ keep: z.number().int().min(1).max(MAX_KEEP), dryRun: z.boolean().optional() });
export const eventsQuery = z.strictObject({ limit: queryInt(1, 500).default(50) });

/**
 * GET  /api/indexes/:index/history   admin: histories, streams and tags of a published repository (asks vessel)
 * GET  /api/indexes/:index/events    public: the audit trail of the commands below, newest first
 * POST /api/indexes/:index/promote   admin: `to` (unstable) takes the history `from` (volatile) names
 * POST /api/indexes/:index/tag       admin: name a history; moving a tag needs `replace`
 * POST /api/indexes/:index/rollback  admin: point a stream at an earlier (or later) history
 * POST /api/indexes/:index/prune     admin: keep the newest `keep` histories plus those streams and tags name;
 *                                    `dryRun` lists what would go
 * The history read is admin-only because each one runs a workflow on the workers. Every command is recorded
 * (IndexEvent) with the token's name; a refusal is 409 with vessel's reason.
 */
export function indexesRouter(deps: ApiDeps): Router {
  const router = Router();
  const admin = (): IndexAdminControl => {
    if (!deps.indexAdmin) throw new HubUnavailableError('this API has no connection to the repository workers (index commands are off)');
    return deps.indexAdmin;
  };
  router.get('/api/indexes/:index/history', requireRole(deps.auth, 'admin'), async (req, res) => {
    const { index } = parse('params', indexParams, req.params);
    parse('query', noQuery, req.query);
    res.json((await admin().run({ kind: 'history', index, by: identityOf(res.locals).name })).history);
  });
  router.get('/api/indexes/:index/events', readRoute(deps.auth), async (req, res) => {
    const { index } = parse('params', indexParams, req.params);
    const { limit } = parse('query', eventsQuery, req.query);
    res.json({ items: await admin().events(index, limit) });
  });
  router.post('/api/indexes/:index/promote', requireRole(deps.auth, 'admin'), async (req, res) => {
    const { index } = parse('params', indexParams, req.params);
    const body = parse('body', promoteBody, req.body) ?? {};
    res.json((await admin().run({ kind: 'promote', index, by: identityOf(res.locals).name, ...body })).history);
  });
  router.post('/api/indexes/:index/tag', requireRole(deps.auth, 'admin'), async (req, res) => {
    const { index } = parse('params', indexParams, req.params);
    const { tag, history, replace } = parse('body', tagBody, req.body);
    res.json((await admin().run({ kind: 'tag', index, by: identityOf(res.locals).name, tag, historyId: history, replace })).history);
  });
  router.post('/api/indexes/:index/rollback', requireRole(deps.auth, 'admin'), async (req, res) => {
    const { index } = parse('params', indexParams, req.params);
    const { stream: name, history } = parse('body', rollbackBody, req.body);
    res.json((await admin().run({ kind: 'rollback', index, by: identityOf(res.locals).name, stream: name, historyId: history })).history);
  });
  router.post('/api/indexes/:index/prune', requireRole(deps.auth, 'admin'), async (req, res) => {
    const { index } = parse('params', indexParams, req.params);
    const { keep, dryRun } = parse('body', pruneBody, req.body);
    const result = await admin().run({ kind: 'prune', index, by: identityOf(res.locals).name, keep, dryRun: dryRun ?? false });
    res.json(result.kind === 'prune' ? { ...result.prune, history: result.history } : result.history);
  });
  return router;
}
