import express, { Router, type Response } from 'express';
import { z } from 'zod';
import type { WebhookProvider } from '../../core/auth/webhook';
import { NotFoundError } from '../../db/store';
import { identityOf, publicRoute, requireRole } from '../auth';
import type { ApiDeps } from '../deps';
import { sendError, UnsupportedMediaTypeError } from '../errors';
import { acceptWebhook, removeWebhookSecret, setWebhookSecret, WebhooksUnavailableError, type WebhookDeps } from '../services/webhooks';
import { parse } from '../validate';
import { idParams, noBody } from './schemas';

/**
 * A push payload lists at most 20 commits (GitHub) with their file lists; 2 MiB holds that with room. Read before
 * the signature can be checked, as the signature covers these very bytes.
 */
const RAW_LIMIT = '2mb';

// eslint-disable-next-line no-control-regex -- control characters are what the rule refuses
export const secretBody = z.strictObject({ secret: z.string().min(16).max(256).regex(/^[^\x00-\x1f\x7f]+$/, 'printable characters only').optional() }).optional();

function webhookDeps(deps: ApiDeps, res: Response): WebhookDeps | undefined {
  if (!deps.webhooks) {
    sendError(res, 503, 'webhooks_unavailable', 'this API keeps no webhook table');
    return undefined;
  }
  return { store: deps.store, pipeline: deps.pipeline, ...deps.webhooks };
}

/** WebhooksUnavailableError (no payload keys to seal secrets with) as a 503; anything else to the error handler. */
async function unlessUnavailable(res: Response, work: () => Promise<void>): Promise<void> {
  try {
    await work();
  } catch (err) {
    if (!(err instanceof WebhooksUnavailableError)) throw err;
    sendError(res, 503, 'webhooks_unavailable', err.message);
  }
}

/**
 * The receivers, mounted before the JSON parser (app.ts): the signature is over the raw bytes, so the body is
 * read raw here and parsed only by the service.
 * POST /api/webhooks/github   GitHub push events, X-Hub-Signature-256
 * POST /api/webhooks/forgejo  Forgejo and Gitea push events, X-Forgejo-Signature / X-Gitea-Signature
 * Public: no bearer token; the signature with the repository's secret is the credential (services/webhooks.ts).
 */
export function webhookReceiversRouter(deps: ApiDeps): Router {
  const router = Router();
  for (const provider of ['github', 'forgejo'] as const satisfies readonly WebhookProvider[]) {
    router.post(`/api/webhooks/${provider}`, publicRoute('signed webhook: the handler checks the HMAC signature'), express.raw({ type: () => true, limit: RAW_LIMIT }), async (req, res) => {
      if (!req.is('application/json')) throw new UnsupportedMediaTypeError('a webhook delivery must be application/json (GitHub: set the webhook\'s content type to application/json)');
      const w = webhookDeps(deps, res);
      if (!w) return;
      const raw = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
      await unlessUnavailable(res, async () => {
        const result = await acceptWebhook(w, provider, req.headers, raw);
        res.status(result.results.some((r) => r.queued) ? 202 : 200).json(result);
      });
    });
  }
  return router;
}

/**
 * A repository's webhook secret, admin:
 * POST   /api/repositories/:id/webhook  { secret? } → 201 { repository, secret }: the secret to give the forge
 *                                       (generated when not given), shown this once; setting it again replaces it
 * DELETE /api/repositories/:id/webhook  204; the repository's deliveries are refused from then on
 */
export function webhookSecretsRouter(deps: ApiDeps): Router {
  const router = Router();
  router.post('/api/repositories/:id/webhook', requireRole(deps.auth, 'admin'), async (req, res) => {
    const { id } = parse('params', idParams, req.params);
    const body = parse('body', secretBody, req.body);
    const w = webhookDeps(deps, res);
    if (!w) return;
    await unlessUnavailable(res, async () => {
      res.status(201).json(await setWebhookSecret(w, id, identityOf(res.locals).name, body?.secret));
    });
  });
  router.delete('/api/repositories/:id/webhook', requireRole(deps.auth, 'admin'), async (req, res) => {
    const { id } = parse('params', idParams, req.params);
    parse('body', noBody, req.body);
    const w = webhookDeps(deps, res);
    if (!w) return;
    if (!(await removeWebhookSecret(w, id))) throw new NotFoundError('webhook secret of repository', id);
    res.status(204).end();
  });
  return router;
}
