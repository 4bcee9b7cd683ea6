import type { ArtefactOrigins } from '../core/security/artefact-origins';
import type { SecretBox } from '../core/security/secret-box';
import type { Store } from '../db/store';
import type { WebhookStore } from '../db/webhook-store';
import type { Auth } from './auth';
import type { Logger } from './logger';
import type { ApiMetrics } from './metrics';
import type { PipelineControl } from './pipeline';
import type { IndexAdminControl } from './services/index-admin';
import type { TryControl } from './services/tries';
import type { VerificationControl } from './services/verifications';

/** Everything the API needs, passed in (no singletons): the read model, the hub, the tokens, a logger. */
export interface ApiDeps {
  store: Store;
  pipeline: PipelineControl;
  auth: Auth;
  logger: Logger;
  /** The Prometheus registry GET /metrics serves (metrics.ts); the app creates it. */
  metrics: ApiMetrics;
  /** Folders local repository paths may lie in (SUMMIT_REPOSITORY_ROOTS); none means network URLs only. */
  repositoryRoots?: readonly string[];
  /** Where builders' artefact servers may be (SUMMIT_ARTEFACT_ORIGINS): live logs are read only there. Absent: any. */
  artefactOrigins?: ArtefactOrigins;
  /**
   * Webhook secrets and deliveries (routes/webhooks.ts); `box` seals the secrets with the payload keys. Absent:
   * the webhook routes answer 503.
   */
  webhooks?: { webhooks: WebhookStore; box?: SecretBox };
  /** How old a task count GET /api/tasks may reuse for the same filter (services/task-list.ts); 0 counts every time. */
  taskTotalMaxAgeMs?: number;
  /** Admin commands on published repositories (streams, tags, prune) through Temporal; absent: those routes answer 503. */
  indexAdmin?: IndexAdminControl;
  /** Try-builds through Temporal (routes/tries.ts); absent: those routes answer 503. */
  tries?: TryControl;
  /** Starts verification builds through Temporal (services/verifications.ts); absent: POST /api/tasks/:id/verify answers 503. */
  verifications?: VerificationControl;
}
