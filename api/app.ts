import express from 'express';
import type { Store } from '../db/store';
import type { Auth } from './auth';
import type { ApiDeps } from './deps';
import { errorHandler, notFoundRoute } from './errors';
import { silentLogger, type Logger } from './logger';
import type { PipelineControl } from './pipeline';
import { requestContext } from './request-context';
import { guardBody, guardUrl, requireJsonBody } from './request-guards';
import { ApiMetrics } from './metrics';
import { methodGuard } from './route-table';
import { buildersRouter } from './routes/builders';
import { codecRouter, type CodecEndpointDeps } from './routes/codec';
import { healthRouter } from './routes/health';
import { metricsRouter } from './routes/metrics';
import { hooksRouter } from './routes/hooks';
import { projectsRouter } from './routes/projects';
import { repositoriesRouter } from './routes/repositories';
import { tasksRouter } from './routes/tasks';
import { wavesRouter } from './routes/waves';

/**
 * The HTTP API: request id first (so even a malformed body's error carries one) and the request timer
 * (metrics.ts), then the edge guards (URL,
 * content type, JSON body: request-guards.ts), the method guard (405 and OPTIONS from the route table), one
 * router per domain noun, and last the 404 and the one error handler. Reads are public (dashboards); every POST
 * needs a token (see auth.ts). Serve it with server.ts's listen(), which answers what Node's parser refuses.
 */
export function createApp(deps: { store: Store; pipeline: PipelineControl; auth: Auth; logger?: Logger; repositoryRoots?: readonly string[]; taskTotalMaxAgeMs?: number; codec?: Omit<CodecEndpointDeps, 'auth'> }): express.Application {
  const all: ApiDeps = { ...deps, logger: deps.logger ?? silentLogger, metrics: new ApiMetrics(deps.store) };
  const app = express();
  app.disable('x-powered-by');
  app.use(requestContext(all.logger));
  app.use(all.metrics.observe);
  app.use(guardUrl);
  app.use(codecRouter({ auth: deps.auth, ...deps.codec })); // before the 64 KiB JSON limit: it parses its own, larger bodies
  app.use(requireJsonBody);
  // Bodies are small commands; 64 KiB is generous and keeps a stray upload from being buffered.
  app.use(express.json({ limit: '64kb' }));
  app.use(guardBody);
  app.use(methodGuard(app));
  for (const router of [healthRouter, metricsRouter, projectsRouter, repositoriesRouter, tasksRouter, wavesRouter, buildersRouter, hooksRouter]) {
    app.use(router(all));
  }
  app.use(notFoundRoute);
  app.use(errorHandler(all.logger));
  return app;
}
