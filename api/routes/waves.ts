import { Router } from 'express';
import { z } from 'zod';
import { WAVE_STATUSES } from '../../core/contracts/wave';
import { identityOf, readRoute, requireRole } from '../auth';
import type { ApiDeps } from '../deps';
import { requestIdOf } from '../errors';
import { WaveNotClosedError } from '../pipeline';
import { commandWave, listWaves, waveDetail } from '../services/waves';
import { parse } from '../validate';
import { idParams, noBody, once, queryInt } from './schemas';

const statusList = z.preprocess(
  // eslint-disable-next-line @typescript-eslint/no-base-to-string -- query values are strings or arrays of them
  (v) => (v === undefined ? undefined : [v].flat().flatMap((s) => String(s).split(',')).map((s) => s.trim()).filter(Boolean)),
  z.array(z.enum(WAVE_STATUSES)).optional(),
);

export const waveListQuery = z.strictObject({
  status: statusList,
  repository: once(z.string().min(1).max(255)).optional(),
  limit: queryInt(1, 200).default(50),
});

/**
 * Waves (core/contracts/wave.ts): the builds of one push, cascade or rebuild, published together.
 *
 * GET  /api/waves                         read: ?status=a,b&repository=&limit=(1-200, 50), newest first, each with its progress
 * GET  /api/waves/:id                     read: the wave, its progress, its tasks and its removals
 * POST /api/waves/:id/cancel              admin: its builds in flight are cancelled; nothing more of it is published
 * POST /api/waves/:id/publish-finished    admin: publish its finished part now, if closed under run-time dependencies (409 with `missing` otherwise)
 * POST /api/waves/:id/retry-closure       admin: a wave waiting for closure tries its publish again now
 */
export function wavesRouter(deps: ApiDeps): Router {
  const router = Router();
  router.get('/api/waves', readRoute(deps.auth), async (req, res) => {
    res.json(await listWaves(deps.store, parse('query', waveListQuery, req.query)));
  });
  router.get('/api/waves/:id', readRoute(deps.auth), async (req, res) => {
    const { id } = parse('params', idParams, req.params);
    res.json(await waveDetail(deps.store, id));
  });
  for (const kind of ['cancel', 'publish-finished', 'retry-closure'] as const) {
    router.post(`/api/waves/:id/${kind}`, requireRole(deps.auth, 'admin'), async (req, res) => {
      const { id } = parse('params', idParams, req.params);
      parse('body', noBody, req.body);
      try {
        res.json(await commandWave(deps, kind, id, identityOf(res.locals).name));
      } catch (err) {
        if (!(err instanceof WaveNotClosedError)) throw err;
        res.status(409).json({ error: { code: 'wave_not_closed', message: err.message, missing: err.missing, requestId: requestIdOf(res) } });
      }
    });
  }
  return router;
}
