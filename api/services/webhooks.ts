import { createHash, randomBytes } from 'node:crypto';
import { COMMIT_ID_PATTERN } from '../../core/contracts/commit';
import { parsePush, repositoryKey, verifySignature, webhookHeaders, type WebhookProvider } from '../../core/auth/webhook';
import { SecretBoxError, type SecretBox } from '../../core/security/secret-box';
import type { Store } from '../../db/store';
import type { WebhookStore } from '../../db/webhook-store';
import { ConflictError } from '../../db/store';
import { BadRequestError, UnauthorizedError, ValidationError } from '../errors';
import type { PipelineControl } from '../pipeline';
import { acceptPush, type RefreshQueued } from './refresh';

/**
 * Signed webhooks (GitHub, Forgejo/Gitea): the secret per repository, and a delivery turned into the same push
 * the post-receive hook reports (services/refresh.ts acceptPush). Only what the signature covers is trusted: the
 * body. Headers (event, delivery id) are not signed, hence the replay check on the body's digest too.
 */
export interface WebhookDeps {
  store: Store;
  pipeline: PipelineControl;
  webhooks: WebhookStore;
  /** Seals and opens the secrets (core/security/secret-box.ts); absent when the API has no payload keys. */
  box?: SecretBox;
}

export class WebhooksUnavailableError extends Error {
  override readonly name = 'WebhooksUnavailableError';
}

function boxOf(deps: Pick<WebhookDeps, 'box'>): SecretBox {
  if (!deps.box) throw new WebhooksUnavailableError('webhook secrets are sealed with the payload keys, which this API does not have (SUMMIT_PAYLOAD_KEYS / SUMMIT_PAYLOAD_KEY_FILE)');
  return deps.box;
}

/**
 * Sets a repository's webhook secret: the one given, or 32 random bytes as hex. Returned so the admin can paste it
 * into the forge; never shown again.
 */
export async function setWebhookSecret(deps: Omit<WebhookDeps, 'pipeline'>, repository: string, by: string, given?: string): Promise<{ repository: string; secret: string }> {
  const box = boxOf(deps);
  const repo = await deps.store.getRepository(repository);
  const secret = given ?? randomBytes(32).toString('hex');
  await deps.webhooks.setSecret(repo.id, box.seal(secret, repo.id), by);
  return { repository: repo.id, secret };
}

export async function removeWebhookSecret(deps: Pick<WebhookDeps, 'webhooks'>, repository: string): Promise<boolean> {
  return deps.webhooks.removeSecret(repository);
}

export interface WebhookResult {
  event: string;
  delivery: string | null;
  /** One per registered repository the delivery's signature verified for. */
  results: RefreshQueued[];
}

const DELIVERY_ID = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;

/**
 * One delivery: 401 unless its signature verifies with the secret of a repository registered under one of the
 * URLs it names (the same answer whether no repository matches or the secret is wrong, so an unsigned caller
 * learns nothing); 409 for a delivery id or a body already taken; then a push per verified repository, the same
 * as the hook's (a ref not watched is acknowledged and ignored). Events other than push are acknowledged (a
 * forge's test delivery, `ping`, thus shows whether the secret is right).
 */
export async function acceptWebhook(deps: WebhookDeps, provider: WebhookProvider, headers: Record<string, string | string[] | undefined>, raw: Buffer): Promise<WebhookResult> {
  const h = webhookHeaders(provider, headers);
  const signatureHeader = provider === 'github' ? 'X-Hub-Signature-256 (sha256=<hex>)' : 'X-Forgejo-Signature or X-Gitea-Signature';
  if (h.signature === undefined) throw new UnauthorizedError(`the delivery is not signed: ${signatureHeader} is missing; set a secret on the webhook`);
  let body: unknown;
  try {
    body = JSON.parse(raw.toString('utf8'));
  } catch {
    throw new BadRequestError('the delivery body is not JSON; set the webhook\'s content type to application/json');
  }
  const push = parsePush(body);
  if (!push) throw new BadRequestError('the delivery names no repository (repository.clone_url); only repository webhooks are taken');

  const keys = new Set(push.urls.map(repositoryKey));
  const candidates = (await deps.store.listRepositories()).filter((r) => keys.has(repositoryKey(r.url)));
  const box = boxOf(deps);
  const verified: string[] = [];
  for (const { repository, sealed } of await deps.webhooks.sealedSecrets(candidates.map((r) => r.id))) {
    let secret: string;
    try {
      secret = box.open(sealed, repository);
    } catch (err) {
      // A secret sealed under a payload key since removed: this repository cannot verify until it is set again.
      if (err instanceof SecretBoxError) continue;
      throw err;
    }
    if (verifySignature(raw, secret, h.signature)) verified.push(repository);
  }
  if (verified.length === 0) throw new UnauthorizedError(`the ${signatureHeader} signature does not verify with the webhook secret of any repository registered under the delivery's URLs`);

  const event = h.event ?? 'push';
  if (h.delivery !== undefined && !DELIVERY_ID.test(h.delivery)) throw new ValidationError([{ path: 'headers.delivery', message: 'a delivery id of letters, digits, . _ : - (at most 128)' }]);
  if (event !== 'push') return { event, delivery: h.delivery ?? null, results: verified.map((repository) => ({ repository, queued: false, reason: `${event} event: nothing to do` })) };

  const digest = createHash('sha256').update(raw).digest('hex');
  const taken = [`${provider}:body:${digest}`, ...(h.delivery ? [`${provider}:delivery:${h.delivery}`] : [])];
  if (!(await deps.webhooks.recordDelivery(taken))) throw new ConflictError(`delivery ${h.delivery ?? digest} was taken before; a replay is refused`);

  const commit = push.commit && COMMIT_ID_PATTERN.test(push.commit) ? push.commit : undefined;
  const results: RefreshQueued[] = [];
  for (const repository of verified) {
    if (push.deleted) results.push({ repository, queued: false, reason: `${push.ref ?? 'the ref'} was deleted` });
    else results.push(await acceptPush(deps, { repository, commit, ref: push.ref }));
  }
  return { event, delivery: h.delivery ?? null, results };
}
