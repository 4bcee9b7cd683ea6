import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { silentLogger } from '../api/logger';
import { startApi, type RunningApi } from '../api/main';
import { main } from '../cli/main';
import { expiryFrom } from '../cli/tokens';
import { parseConfig } from '../core/config';
import { freePort } from './support/temporal';

/**
 * `summit tokens create|list|revoke` against the real API (startApi: configuration, the tokens file, the embedded
 * database; Temporal is not needed for tokens and is left down), with the admin token the CLI reads from the data
 * folder, as an operator on the farm's host would.
 */
let dir: string;
let api: RunningApi;
const saved = { ...process.env };

async function run(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await main(argv, { out: (t) => { out += `${t}\n`; }, err: (t) => { err += `${t}\n`; } });
  return { code, out, err };
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'summit-cli-tokens-'));
  const config = parseConfig({ SUMMIT_DATA_DIR: dir, SUMMIT_API_PORT: '0', SUMMIT_TEMPORAL_ADDRESS: `127.0.0.1:${await freePort()}`, SUMMIT_API_PUBLIC_READS: 'none' });
  const write = jest.spyOn(process.stdout, 'write').mockImplementation(() => true);
  try {
    api = await startApi(config, silentLogger);
  } finally {
    write.mockRestore();
  }
  process.env.SUMMIT_API_URL = api.url;
  process.env.SUMMIT_DATA_DIR = dir;
  delete process.env.SUMMIT_TOKEN;
});

afterAll(async () => {
  process.env = saved;
  await api?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('summit tokens', () => {
  it('creates a token (secret shown once), lists it without the secret, revokes it, and the API refuses it at once', async () => {
    const made = await run('tokens', 'create', 'ci-reader', '--role', 'viewer', '--expires', '30d', '--json');
    expect(made).toMatchObject({ code: 0, err: '' });
    const token = JSON.parse(made.out) as { id: string; token: string; expiresAt: string; role: string; createdBy: string };
    expect(token).toMatchObject({ role: 'viewer', createdBy: 'admin', token: expect.stringMatching(/^summit_viewer_/) });
    expect(Date.parse(token.expiresAt) - Date.now()).toBeGreaterThan(29 * 86_400_000);
    const tasks = () => fetch(`${api.url}/api/tasks`, { headers: { authorization: `Bearer ${token.token}` } });
    expect((await tasks()).status).toBe(200);

    const table = await run('tokens', 'list');
    expect(table.code).toBe(0);
    expect(table.out.split('\n')[0]).toMatch(/^ID\s+NAME\s+ROLE\s+REPOSITORIES\s+CREATED\s+STATE$/);
    expect(table.out).toMatch(new RegExp(`${token.id}\\s+ci-reader\\s+viewer\\s+-\\s+\\S+ by admin\\s+active until ${token.expiresAt}`));
    // The bootstrap tokens of tokens.json, imported at the API's start.
    expect(table.out).toMatch(/\s+admin\s+admin\s+-\s+\S+ by tokens\.json\s+active/);
    expect(table.out).toMatch(/\s+hook\s+contributor\s+all\s+/);
    expect(table.out).not.toContain(token.token);

    const revoked = await run('tokens', 'revoke', token.id);
    expect(revoked).toMatchObject({ code: 0, out: expect.stringMatching(new RegExp(`^revoked ${token.id} "ci-reader" at \\S+`)) });
    expect((await tasks()).status).toBe(401);
    expect(JSON.parse((await run('tokens', 'list', '--json')).out).find((t: { id: string }) => t.id === token.id).revokedBy).toBe('admin');
  });

  it('makes a contributor limited to named repositories', async () => {
    const made = await run('tokens', 'create', 'hook-recipes', '--role', 'contributor', '--repositories', 'recipes,extra');
    expect(made.code).toBe(0);
    expect(made.out).toMatch(/^created tok_[0-9a-f]+ "hook-recipes" \(contributor of recipes, extra\)\ntoken \(shown only this once\): summit_contributor_/);
  });

  it('says what is wrong: usage errors exit 2, the API\'s refusals exit 1 with its message', async () => {
    expect(await run('tokens', 'create', 'x')).toMatchObject({ code: 2, err: expect.stringContaining('--role viewer|contributor|builder|admin is required') });
    expect(await run('tokens', 'create', 'x', '--role', 'viewer', '--expires', 'soon')).toMatchObject({ code: 2, err: expect.stringContaining('--expires takes a duration') });
    expect(await run('tokens', 'create', 'x', '--role', 'root')).toMatchObject({ code: 1, err: expect.stringMatching(/422 .*body\.role/) });
    expect(await run('tokens', 'revoke', 'tok_nothing')).toMatchObject({ code: 1, err: expect.stringContaining('404 token "tok_nothing" does not exist') });
    const viewer = JSON.parse((await run('tokens', 'create', 'v', '--role', 'viewer', '--json')).out) as { token: string };
    process.env.SUMMIT_TOKEN = viewer.token;
    try {
      expect(await run('tokens', 'list')).toMatchObject({ code: 1, err: expect.stringContaining('403 this needs the admin role; the token "v" has viewer') });
    } finally {
      delete process.env.SUMMIT_TOKEN;
    }
  });

  it('reads --expires as a duration from now or an ISO date with a zone', () => {
    const now = new Date('2026-12-01T00:00:00Z');
    expect(expiryFrom('90m', now)).toBe('2026-12-01T01:30:00.000Z');
    expect(expiryFrom('2w', now)).toBe('2026-12-15T00:00:00.000Z');
    expect(expiryFrom('2027-01-31T00:00:00+01:00', now)).toBe('2027-01-30T23:00:00.000Z');
    for (const bad of ['2027-01-31', '30', 'd30', '2027-13-45T00:00:00Z']) expect(() => expiryFrom(bad, now)).toThrow(/--expires takes/);
  });
});
