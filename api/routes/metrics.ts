import { Router } from 'express';
import { readRoute } from '../auth';
import type { ApiDeps } from '../deps';
import { DatabaseUnavailableError } from '../errors';
import { parse } from '../validate';
import { noQuery } from './schemas';

/**
 * GET /metrics: Prometheus's text exposition of api/metrics.ts's registry, a read like the others (public unless SUMMIT_API_PUBLIC_READS=none). When the read
 * model cannot be queried the scrape fails with 503 (Prometheus records `up 0`), the API goes on.
 */
export function metricsRouter(deps: ApiDeps): Router {
  const router = Router();
  router.get('/metrics', readRoute(deps.auth), async (req, res) => {
    parse('query', noQuery, req.query);
    const { contentType, text } = await deps.metrics.exposition().catch((err: Error) => {
      deps.logger.warn('metrics scrape failed', { requestId: String(res.locals.requestId ?? ''), error: err.message });
      throw new DatabaseUnavailableError('the read model did not answer; metrics are not available');
    });
    res.setHeader('Content-Type', contentType);
    res.send(text);
  });
  return router;
}
