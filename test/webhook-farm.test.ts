/**
 * Signed webhooks on a real farm (Temporal dev server, PostgreSQL, the hub and the API; no builder): the recipe
 * repository has no post-receive hook and the poll is an hour away, so only a delivery can make the hub read a
 * push. A forged or unsigned GitHub delivery is refused (401) and nothing is read; the same push signed with the
 * repository's secret makes the hub read it, and its recipes become tasks at the pushed commit; a Forgejo
 * delivery, signed its way, does the same for the next push. (test/api-webhooks.test.ts covers the edge cases
 * against the API alone.)
 */
import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { signBody } from '../core/auth/webhook';
import { Farm, hookedRepository, startFarm, waitFor, type TaskView } from './helpers/farm';
import { createTestDatabase, TestDatabase } from './support/postgres';
import { startTemporalTestServer, TemporalTestServer } from './support/temporal';

jest.setTimeout(300_000);

const EXAMPLES = resolve(__dirname, '..', 'examples', 'recipes');

let temporal: TemporalTestServer;
let pg: TestDatabase;
let work: string;
let farm: Farm;
let bare: string;
let clone: string;
let secret: string;

const git = (cwd: string, ...args: string[]) => execFileSync('git', args, { cwd, encoding: 'utf8' }).trim();

async function tasks(): Promise<Array<TaskView & { commit: string }>> {
  return ((await (await fetch(`${farm.api.url}/api/tasks?limit=200`)).json()) as { items: Array<TaskView & { commit: string }> }).items;
}

/** A forge's push delivery for `bare` at `after`, as GitHub and Forgejo shape it. */
function pushBody(after: string): string {
  return JSON.stringify({ ref: 'refs/heads/main', before: '0'.repeat(40), after, repository: { full_name: 'serpent/recipes', clone_url: bare } });
}

function deliver(provider: 'github' | 'forgejo', body: string, signature: string | undefined, delivery: string): Promise<Response> {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (provider === 'github') {
    Object.assign(headers, { 'x-github-event': 'push', 'x-github-delivery': delivery });
    if (signature !== undefined) headers['x-hub-signature-256'] = `sha256=${signature}`;
  } else {
    Object.assign(headers, { 'x-forgejo-event': 'push', 'x-forgejo-delivery': delivery });
    if (signature !== undefined) headers['x-forgejo-signature'] = signature;
  }
  return fetch(`${farm.api.url}/api/webhooks/${provider}`, { method: 'POST', headers, body });
}

function commitAndPush(message: string): string {
  git(clone, 'add', '-A');
  git(clone, 'commit', '-q', '-m', message);
  git(clone, 'push', '-q', 'origin', 'main');
  return git(clone, 'rev-parse', 'HEAD');
}

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'summit-webhook-farm-'));
  [temporal, pg] = await Promise.all([startTemporalTestServer(), createTestDatabase('webhook_farm')]);
  farm = await startFarm({ work, temporalAddress: temporal.address, databaseUrl: pg.url });
  ({ bare, clone } = await hookedRepository(farm, work, 'hooks'));
  // No hook: the webhook is the only way the hub hears of a push.
  rmSync(join(bare, 'hooks', 'post-receive'));
  const made = await fetch(`${farm.api.url}/api/repositories/recipes/webhook`, {
    method: 'POST', headers: { authorization: `Bearer ${farm.adminToken}`, 'content-type': 'application/json' }, body: '{}',
  });
  expect(made.status).toBe(201);
  secret = ((await made.json()) as { secret: string }).secret;
});

afterAll(async () => {
  await farm?.stop();
  await temporal?.stop();
  await pg?.drop();
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('signed webhooks on a real farm', () => {
  it('refuses a forged or unsigned push, and builds from the one signed with the repository secret', async () => {
    cpSync(join(EXAMPLES, 'liba'), join(clone, 'liba'), { recursive: true });
    const commit = commitAndPush('liba');
    const body = pushBody(commit);

    const forged = await deliver('github', body, signBody(body, 'not-the-secret-at-all-0123456789'), 'd-forged');
    expect(forged.status).toBe(401);
    const unsigned = await deliver('github', body, undefined, 'd-unsigned');
    expect(unsigned.status).toBe(401);
    // Signed over other bytes: the signature is of the raw body, not of what it means.
    const tampered = await deliver('github', body.replace('refs/heads/main', 'refs/heads/main '), signBody(body, secret), 'd-tampered');
    expect(tampered.status).toBe(401);
    // The farm read nothing: the repository has no commit and no task.
    const repo = (await (await fetch(`${farm.api.url}/api/repositories/recipes`)).json()) as { lastCommit: string | null };
    expect([repo.lastCommit, (await tasks()).length]).toEqual([null, 0]);

    const signed = await deliver('github', body, signBody(body, secret), 'd-signed');
    expect([signed.status, await signed.json()]).toEqual([202, { event: 'push', delivery: 'd-signed', results: [{ repository: 'recipes', queued: true }] }]);
    const made = await waitFor('liba to become a task at the pushed commit', async () => {
      const found = (await tasks()).find((t) => t.id === 'build/hooks/recipes/liba-1.0.0-1/x86_64');
      return found?.commit === commit ? found : undefined;
    }, 120_000, async () => JSON.stringify(await tasks()));
    expect(made.status).toMatch(/^(new|queued)$/);
    // The same delivery again is a replay.
    expect((await deliver('github', body, signBody(body, secret), 'd-signed')).status).toBe(409);
  });

  it('takes a Forgejo delivery signed its way for the next push', async () => {
    cpSync(join(EXAMPLES, 'tool'), join(clone, 'tool'), { recursive: true });
    const commit = commitAndPush('tool');
    const body = pushBody(commit);
    expect((await deliver('forgejo', body, signBody(body, 'wrong-secret-wrong-secret-0123456'), 'f-forged')).status).toBe(401);
    const signed = await deliver('forgejo', body, signBody(body, secret), 'f-signed');
    expect(signed.status).toBe(202);
    await waitFor('tool to become a task at the pushed commit', async () =>
      ((await tasks()).some((t) => t.id === 'build/hooks/recipes/tool-1.0.0-1/x86_64' && t.commit === commit) ? true : undefined), 120_000, async () => JSON.stringify(await tasks()));
  });
});
