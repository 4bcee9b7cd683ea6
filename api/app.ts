import express from 'express';
import type { ArtefactOrigins } from '../core/security/artefact-origins';
import type { SecretBox } from '../core/security/secret-box';
import type { Store } from '../db/store';
import type { WebhookStore } from '../db/webhook-store';
import type { Auth } from './auth';
import type { ApiDeps } from './deps';
import { errorHandler, notFoundRoute } from './errors';
import { silentLogger, type Logger } from './logger';
import type { PipelineControl } from './pipeline';
import { requestContext } from './request-context';
import { guardBody, guardUrl, requireJsonBody } from './request-guards';
import { ApiMetrics } from './metrics';
import { methodGuard } from './route-table';
import { adminRouter } from './routes/admin';
import { buildersRouter } from './routes/builders';
import { builderRegistryRouter } from './routes/builder-registry';
import { codecRouter, type CodecEndpointDeps } from './routes/codec';
import { docsRouter } from './routes/docs';
import { farmRouter } from './routes/farm';
import { dashboardRouter } from './dashboard/router';
import type { DashboardOptions } from './dashboard/options';
import { healthRouter } from './routes/health';
import { metricsRouter } from './routes/metrics';
import { hooksRouter } from './routes/hooks';
import { indexesRouter } from './routes/indexes';
import type { IndexAdminControl } from './services/index-admin';
import { projectsRouter } from './routes/projects';
import { repositoryCyclesRouter } from './routes/repository-cycles';
import { repositoriesRouter } from './routes/repositories';
import { tasksRouter } from './routes/tasks';
import { tokensRouter } from './routes/tokens';
import { webhookReceiversRouter, webhookSecretsRouter } from './routes/webhooks';
import { wavesRouter } from './routes/waves';
import { triesRouter } from './routes/tries';
import type { TryControl } from './services/tries';
import { verificationsRouter } from './routes/verifications';
import type { VerificationControl } from './services/verifications';

/**
 * The HTTP API: request id first (so even a malformed body's error carries one) and the request timer
 * (metrics.ts), then the edge guards (URL,
 * content type, JSON body: request-guards.ts), the method guard (405 and OPTIONS from the route table), one
 * router per domain noun, and last the 404 and the one error handler. Every route declares who may call it
 * (auth.ts: requireRole, readRoute, publicRoute); reads are public unless SUMMIT_API_PUBLIC_READS says
 * otherwise. Serve it with server.ts's listen(), which answers what Node's parser refuses.
 */
export function createApp(deps: { store: Store; pipeline: PipelineControl; auth: Auth; logger?: Logger; repositoryRoots?: readonly string[]; artefactOrigins?: ArtefactOrigins; taskTotalMaxAgeMs?: number; codec?: Omit<CodecEndpointDeps, 'auth'>; webhooks?: { webhooks: WebhookStore; box?: SecretBox }; indexAdmin?: IndexAdminControl; tries?: TryControl; verifications?: VerificationControl; dashboard?: DashboardOptions; isaLevels?: readonly string[] }): express.Application {
  const all: ApiDeps = { ...deps, logger: deps.logger ?? silentLogger, metrics: new ApiMetrics(deps.store, deps.isaLevels) };
  const app = express();
  app.disable('x-powered-by');
  app.use(requestContext(all.logger));
  app.use(all.metrics.observe);
  app.use(guardUrl);
  app.use(codecRouter({ auth: deps.auth, ...deps.codec })); // before the 64 KiB JSON limit: it parses its own, larger bodies
  app.use(webhookReceiversRouter(all)); // before the JSON parser: the signature is over the raw body
  app.use(requireJsonBody);
  // Bodies are small commands; 64 KiB is generous and keeps a stray upload from being buffered.
  app.use(express.json({ limit: '64kb' }));
  app.use(guardBody);
  app.use(methodGuard(app));
  for (const router of [healthRouter, metricsRouter, projectsRouter, repositoriesRouter, repositoryCyclesRouter, tasksRouter, wavesRouter, buildersRouter, builderRegistryRouter, hooksRouter, tokensRouter, webhookSecretsRouter, adminRouter, farmRouter, docsRouter, indexesRouter, triesRouter, verificationsRouter]) {
    app.use(router(all));
  }
  app.use(dashboardRouter(all, deps.dashboard));
  app.use(notFoundRoute);
  app.use(errorHandler(all.logger));
  return app;
}
