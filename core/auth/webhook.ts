import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Signed push webhooks from GitHub and Forgejo/Gitea, the alternative to the post-receive hook script: the
 * forge signs the raw request body with the repository's webhook secret (HMAC-SHA256), we verify it in constant
 * time and map the push to registered repositories by their clone URL. Pure: the route (api/routes/webhooks.ts)
 * reads headers and the database.
 */
export const WEBHOOK_PROVIDERS = ['github', 'forgejo'] as const;
export type WebhookProvider = (typeof WEBHOOK_PROVIDERS)[number];

/** What each forge sends, header names lower case (Node's). Forgejo still sends Gitea's names too. */
const HEADERS: Record<WebhookProvider, { signature: string[]; event: string[]; delivery: string[]; prefix: string }> = {
  // X-Hub-Signature-256: sha256=<hex>. (The SHA-1 X-Hub-Signature is ignored: SHA-256 only.)
  github: { signature: ['x-hub-signature-256'], event: ['x-github-event'], delivery: ['x-github-delivery'], prefix: 'sha256=' },
  // X-Forgejo-Signature / X-Gitea-Signature: <hex>, no prefix.
  forgejo: { signature: ['x-forgejo-signature', 'x-gitea-signature'], event: ['x-forgejo-event', 'x-gitea-event'], delivery: ['x-forgejo-delivery', 'x-gitea-delivery'], prefix: '' },
};

export interface WebhookHeaders {
  /** The HMAC as hex, the provider's prefix removed; undefined when the header is absent. */
  signature?: string;
  event?: string;
  delivery?: string;
}

type HeaderBag = Record<string, string | string[] | undefined>;

function first(headers: HeaderBag, names: string[]): string | undefined {
  for (const name of names) {
    const v = headers[name];
    const value = Array.isArray(v) ? v[0] : v;
    if (value !== undefined && value !== '') return value;
  }
  return undefined;
}

export function webhookHeaders(provider: WebhookProvider, headers: HeaderBag): WebhookHeaders {
  const h = HEADERS[provider];
  const raw = first(headers, h.signature);
  return {
    signature: raw === undefined ? undefined : raw.startsWith(h.prefix) ? raw.slice(h.prefix.length) : '',
    event: first(headers, h.event),
    delivery: first(headers, h.delivery),
  };
}

/** The signature a forge computes: hex HMAC-SHA256 of the raw body with the secret. */
export function signBody(body: Buffer | string, secret: string): string {
  return createHmac('sha256', secret).update(body).digest('hex');
}

/**
 * Whether `presented` (hex) is the body's HMAC under `secret`. Constant-time over the 32-byte digests; anything
 * that is not 64 hex digits is refused before any comparison.
 */
export function verifySignature(body: Buffer, secret: string, presented: string | undefined): boolean {
  if (!presented || !/^[0-9a-fA-F]{64}$/.test(presented)) return false;
  const expected = createHmac('sha256', secret).update(body).digest();
  return timingSafeEqual(expected, Buffer.from(presented, 'hex'));
}

/** What a push event says, as far as summit cares. */
export interface PushEvent {
  /** Every URL the forge gives for the repository (clone over https, ssh, the web page). */
  urls: string[];
  ref?: string;
  /** The commit the ref now points at; undefined for a deletion. */
  commit?: string;
  deleted: boolean;
}

const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);

/**
 * The parts of a GitHub or Forgejo push payload summit reads (both use the same field names). Returns undefined
 * when the body does not look like a push of a repository.
 */
export function parsePush(body: unknown): PushEvent | undefined {
  if (!body || typeof body !== 'object') return undefined;
  const b = body as Record<string, unknown>;
  const repo = b.repository as Record<string, unknown> | undefined;
  if (!repo || typeof repo !== 'object') return undefined;
  const urls = ['clone_url', 'ssh_url', 'git_url', 'html_url', 'url'].map((k) => str(repo[k])).filter((u): u is string => u !== undefined);
  if (urls.length === 0) return undefined;
  const after = str(b.after);
  const deleted = b.deleted === true || (after !== undefined && /^0+$/.test(after));
  return { urls, ref: str(b.ref), commit: deleted ? undefined : after, deleted };
}

/**
 * A repository URL reduced to host and path, lower case, without scheme, user, port, a trailing `.git` or slash:
 * `https://Git.Example.org/a/b.git`, `git@git.example.org:a/b` and `ssh://git@git.example.org:2222/a/b/` are all
 * `git.example.org/a/b`. A local path stays a path (and so never matches a forge's URL).
 */
export function repositoryKey(url: string): string {
  let hostAndPath: string;
  const scheme = /^[a-z][a-z0-9+.-]*:\/\/(.*)$/i.exec(url);
  const scp = /^(?:[^@/]+@)?([^:/]+):(?!\/\/)(.*)$/.exec(url);
  if (scheme) {
    const rest = scheme[1].replace(/^[^@/]*@/, '');
    const slash = rest.indexOf('/');
    const host = (slash < 0 ? rest : rest.slice(0, slash)).replace(/:\d*$/, '');
    hostAndPath = `${host}/${slash < 0 ? '' : rest.slice(slash + 1)}`;
  } else if (scp && !url.startsWith('/')) {
    hostAndPath = `${scp[1]}/${scp[2]}`;
  } else {
    return url.replace(/\/+$/, '');
  }
  return hostAndPath.toLowerCase().replace(/\/+$/, '').replace(/\.git$/, '').replace(/\/+/g, '/').replace(/\/$/, '');
}
