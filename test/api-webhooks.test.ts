import { createHmac, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { MikroORM } from '@mikro-orm/core';
import { createApp } from '../api/app';
import { Auth } from '../api/auth';
import type { HubStatus, PipelineControl } from '../api/pipeline';
import type { RefreshRequest, TaskCommand, TaskCommandResult } from '../core/contracts/hub';
import { generatePayloadKey, parsePayloadKeys } from '../core/payload-codec';
import { SecretBox } from '../core/security/secret-box';
import { openDatabase } from '../db/orm';
import { Store } from '../db/store';
import { TokenStore } from '../db/token-store';
import { WebhookStore } from '../db/webhook-store';
import { serveApp, type ServedApi } from './helpers/api-server';
import { createTestDatabase, type TestDatabase } from './support/postgres';

/**
 * Signed webhooks over the real API and database (PostgreSQL and libsql): GitHub's X-Hub-Signature-256 and
 * Forgejo's X-Forgejo-Signature / X-Gitea-Signature over the raw body, with the secret an admin set for the
 * repository. Signed pushes become the hook's refresh; forged, missing or replayed ones change nothing.
 */
class RecordingPipeline implements PipelineControl {
  readonly calls: RefreshRequest[] = [];
  refresh(req: RefreshRequest): Promise<void> {
    this.calls.push(req);
    return Promise.resolve();
  }
  retry(cmd: TaskCommand): Promise<TaskCommandResult> {
    return Promise.resolve({ taskId: cmd.taskId, status: 'new' });
  }
  cancel(cmd: TaskCommand): Promise<TaskCommandResult> {
    return Promise.resolve({ taskId: cmd.taskId, status: 'cancelled' });
  }
  hubStatus(): Promise<HubStatus> {
    return Promise.resolve({ ok: true, state: 'running' });
  }
}

const ADMIN = `summit_admin_${'a'.repeat(43)}`;
const COMMIT = '0123456789abcdef0123456789abcdef01234567';

/** A push event as GitHub and Forgejo send it (the fields summit reads, and some it does not). */
function pushBody(opts: { host?: string; path?: string; ref?: string; after?: string; note?: string } = {}): string {
  const host = opts.host ?? 'git.example.org';
  const path = opts.path ?? 'serpent/recipes';
  return JSON.stringify({
    ref: opts.ref ?? 'refs/heads/main', before: '1'.repeat(40), after: opts.after ?? COMMIT, created: false, deleted: false,
    repository: { id: 7, full_name: path, clone_url: `https://${host}/${path}.git`, ssh_url: `git@${host}:${path}.git`, html_url: `https://${host}/${path}` },
    pusher: { name: 'dev', email: 'dev@example.org' },
    commits: [{ id: opts.after ?? COMMIT, message: opts.note ?? 'bump nano', added: [], removed: [], modified: ['n/nano/stone.yaml'] }],
  });
}

const hmac = (body: string, secret: string) => createHmac('sha256', secret).update(body).digest('hex');

describe.each(['postgresql', 'embedded libsql'])('signed webhooks on %s', (driver) => {
  let dir: string;
  let pg: TestDatabase | undefined;
  let orm: MikroORM;
  let served: ServedApi | undefined;
  let base: string;
  const pipeline = new RecordingPipeline();
  const secrets: Record<string, string> = {};

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'summit-webhooks-'));
    if (driver === 'postgresql') pg = await createTestDatabase('webhooks');
    orm = await openDatabase({ url: pg?.url, dataDir: dir });
    const store = new Store(orm);
    await store.addRepository({ id: 'recipes', project: 'serpent', url: 'https://git.example.org/serpent/recipes.git', ref: 'main' });
    // The same forge repository registered twice, watching another branch; and one registered by its ssh URL.
    await store.addRepository({ id: 'recipes-stable', project: 'serpent', url: 'https://git.example.org/serpent/recipes', ref: 'stable' });
    await store.addRepository({ id: 'extra', project: 'serpent', url: 'ssh://git@git.example.org:2222/serpent/extra.git', ref: 'main' });
    await store.addRepository({ id: 'unsigned', project: 'serpent', url: 'https://git.example.org/serpent/unsigned.git', ref: 'main' });
    const tokens = new TokenStore(orm);
    await tokens.importBootstrap([{ name: 'admin', role: 'admin', token: ADMIN }]);
    const box = new SecretBox(parsePayloadKeys(generatePayloadKey('w'), 'test'));
    const app = createApp({ store, pipeline, auth: new Auth(tokens), webhooks: { webhooks: new WebhookStore(orm), box } });
    served = await serveApp(app);
    base = served.url;
  });

  afterAll(async () => {
    await served?.close();
    await orm?.close(true);
    await pg?.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  beforeEach(() => {
    pipeline.calls.length = 0;
  });

  const admin = (method: string, path: string, body?: unknown) =>
    fetch(`${base}${path}`, { method, headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' }, body: JSON.stringify(body ?? {}) });

  const deliver = async (provider: 'github' | 'forgejo', body: string, headers: Record<string, string>) => {
    const res = await fetch(`${base}/api/webhooks/${provider}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });
    // eslint-disable-next-line @typescript-eslint/no-explicit-any -- checked field by field
    return { status: res.status, json: (await res.json()) as any };
  };
  const github = (body: string, secret: string, delivery: string = randomUUID(), event = 'push') =>
    deliver('github', body, { 'x-github-event': event, 'x-github-delivery': delivery, 'x-hub-signature-256': `sha256=${hmac(body, secret)}` });

  it('an admin sets a secret per repository: generated, or the one given; shown once and stored sealed', async () => {
    const generated = await admin('POST', '/api/repositories/recipes/webhook');
    expect(generated.status).toBe(201);
    const made = (await generated.json()) as { repository: string; secret: string };
    expect(made).toEqual({ repository: 'recipes', secret: expect.stringMatching(/^[0-9a-f]{64}$/) });
    secrets.recipes = made.secret;
    for (const id of ['recipes-stable', 'extra']) {
      secrets[id] = `given secret for ${id}`;
      expect((await admin('POST', `/api/repositories/${id}/webhook`, { secret: secrets[id] })).status).toBe(201);
    }
    const rows: Array<{ repository: string; sealed: string }> = await orm.em.fork().getConnection().execute('select repository, sealed from webhook_secrets');
    expect(rows.map((r) => r.repository).sort()).toEqual(['extra', 'recipes', 'recipes-stable']);
    for (const r of rows) {
      expect(r.sealed).toMatch(/^w:[A-Za-z0-9+/=]+$/);
      expect(r.sealed).not.toContain(secrets[r.repository]);
      expect(Buffer.from(r.sealed.slice(2), 'base64').toString('latin1')).not.toContain(secrets[r.repository]);
    }
    expect((await admin('POST', '/api/repositories/nothing/webhook')).status).toBe(404);
    expect((await admin('POST', '/api/repositories/recipes/webhook', { secret: 'short' })).status).toBe(422);
  });

  it('a GitHub push signed with the repository\'s secret refreshes it like the hook; the branch another registration watches is acknowledged', async () => {
    const body = pushBody({ note: 'github push' });
    const reply = await github(body, secrets.recipes);
    expect(reply.status).toBe(202);
    // Only the registration whose secret signed it; recipes-stable shares the URL but not the secret.
    expect(reply.json).toEqual({ event: 'push', delivery: expect.any(String), results: [{ repository: 'recipes', queued: true }] });
    expect(pipeline.calls).toEqual([{ repository: 'recipes', commit: COMMIT, origin: 'hook' }]);

    const stable = await github(pushBody({ note: 'to main, signed for stable' }), secrets['recipes-stable']);
    expect(stable.status).toBe(200);
    expect(stable.json.results).toEqual([{ repository: 'recipes-stable', queued: false, reason: 'refs/heads/main is not the watched ref refs/heads/stable' }]);
    expect(pipeline.calls).toHaveLength(1);
  });

  it('Forgejo and Gitea signatures (hex, no prefix) are taken, the push mapped by its ssh URL', async () => {
    for (const header of ['x-forgejo-signature', 'x-gitea-signature']) {
      const body = pushBody({ host: 'git.example.org', path: 'serpent/extra', note: header });
      const reply = await deliver('forgejo', body, { 'x-forgejo-event': 'push', 'x-forgejo-delivery': randomUUID(), [header]: hmac(body, secrets.extra) });
      expect(reply.status).toBe(202);
      expect(reply.json.results).toEqual([{ repository: 'extra', queued: true }]);
    }
    expect(pipeline.calls.map((c) => c.repository)).toEqual(['extra', 'extra']);
  });

  it.each([
    ['no signature', () => ({}), /is not signed/],
    ['a signature with the wrong secret', (body: string) => ({ 'x-hub-signature-256': `sha256=${hmac(body, 'not the secret at all')}` }), /does not verify/],
    ['the signature of another body', () => ({ 'x-hub-signature-256': `sha256=${hmac(pushBody({ after: 'f'.repeat(40) }), secrets.recipes)}` }), /does not verify/],
    ['a signature that is not hex', () => ({ 'x-hub-signature-256': `sha256=${'z'.repeat(64)}` }), /does not verify/],
    ['a truncated signature', (body: string) => ({ 'x-hub-signature-256': `sha256=${hmac(body, secrets.recipes).slice(0, 63)}` }), /does not verify/],
    ['a signature without its sha256= prefix', (body: string) => ({ 'x-hub-signature-256': hmac(body, secrets.recipes) }), /does not verify/],
    ['the SHA-1 header only', (body: string) => ({ 'x-hub-signature': `sha1=${createHmac('sha1', secrets.recipes).update(body).digest('hex')}` }), /is not signed/],
  ])('refuses a delivery with %s: 401, nothing asked', async (_what, headersFor, message) => {
    const body = pushBody({ note: `forged ${_what}` });
    const reply = await deliver('github', body, { 'x-github-event': 'push', 'x-github-delivery': randomUUID(), ...headersFor(body) });
    expect(reply.status).toBe(401);
    expect(reply.json.error).toMatchObject({ code: 'unauthorized', message: expect.stringMatching(message) });
    expect(pipeline.calls).toEqual([]);
  });

  it('refuses a signed push for a repository without a secret, or for a URL nobody registered (401 either way)', async () => {
    for (const path of ['serpent/unsigned', 'someone/else']) {
      const body = pushBody({ path });
      expect((await github(body, secrets.recipes)).status).toBe(401);
    }
    expect(pipeline.calls).toEqual([]);
  });

  it('refuses a replay: the same delivery id, or the same signed body under a new id (409)', async () => {
    const body = pushBody({ note: 'replayed' });
    const delivery = randomUUID();
    expect((await github(body, secrets.recipes, delivery)).status).toBe(202);
    const again = await github(body, secrets.recipes, delivery);
    expect(again.status).toBe(409);
    expect(again.json.error.message).toMatch(/replay is refused/);
    expect((await github(body, secrets.recipes, randomUUID())).status).toBe(409);
    expect((await github(pushBody({ note: 'new body, old id' }), secrets.recipes, delivery)).status).toBe(409);
    expect(pipeline.calls).toHaveLength(1);
  });

  it('answers a signed ping (a forge\'s test delivery) without refreshing; a forged one is a 401', async () => {
    const body = JSON.stringify({ zen: 'Keep it logically awesome.', hook_id: 1, repository: JSON.parse(pushBody()).repository });
    const ok = await github(body, secrets.recipes, randomUUID(), 'ping');
    expect(ok.status).toBe(200);
    expect(ok.json.results).toEqual([{ repository: 'recipes', queued: false, reason: 'ping event: nothing to do' }]);
    expect((await github(body, 'wrong secret', randomUUID(), 'ping')).status).toBe(401);
    expect(pipeline.calls).toEqual([]);
  });

  it('takes only application/json deliveries (GitHub\'s form encoding is a 415 saying what to set)', async () => {
    const body = `payload=${encodeURIComponent(pushBody())}`;
    const res = await fetch(`${base}/api/webhooks/github`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-hub-signature-256': `sha256=${hmac(body, secrets.recipes)}` }, body });
    expect(res.status).toBe(415);
    expect(((await res.json()) as { error: { message: string } }).error.message).toMatch(/application\/json/);
  });

  it('a removed secret refuses the repository\'s deliveries from then on', async () => {
    expect((await admin('DELETE', '/api/repositories/extra/webhook')).status).toBe(204);
    expect((await admin('DELETE', '/api/repositories/extra/webhook')).status).toBe(404);
    const body = pushBody({ path: 'serpent/extra', note: 'after removal' });
    const reply = await deliver('forgejo', body, { 'x-forgejo-delivery': randomUUID(), 'x-forgejo-signature': hmac(body, secrets.extra) });
    expect(reply.status).toBe(401);
    expect(pipeline.calls).toEqual([]);
  });
});
