import { Router } from 'express';
import { underPressure } from '../../core/builder/health';
import { readRoute } from '../auth';
import type { ApiDeps } from '../deps';
import { builderAdminFields } from '../services/admin';
import { builderRegistryFields } from '../services/builder-registry';
import { parse } from '../validate';
import { noQuery } from './schemas';

/**
 * GET /api/builders: every builder as last reported by its heartbeat (lastSeen tells a live one from a gone one),
 * with its health (load, memory, disk, the reasons it takes no new build), `admitting` (false while under pressure)
 * `drained` (who, when, why; null when it takes work), and from the builder registry its `trust`, `state`
 * (enrolled, revoked; `unenrolled` for a builder the registry does not know) and `enrolledAt`.
 */
export function buildersRouter(deps: ApiDeps): Router {
  const router = Router();
  router.get('/api/builders', readRoute(deps.auth), async (req, res) => {
    parse('query', noQuery, req.query);
    const [items, admin, registry] = await Promise.all([deps.store.listBuilders(), builderAdminFields(deps.store), builderRegistryFields(deps.store)]);
    res.json({ items: items.map((b) => ({ ...b, admitting: !underPressure(b), ...admin(b.id), ...registry(b.id) })) });
  });
  return router;
}
