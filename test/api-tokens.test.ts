import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Auth } from '../api/auth';
import { startApi } from '../api/main';
import { silentLogger } from '../api/logger';
import { loadOrCreateTokens, TokensFileError } from '../api/tokens';
import { parseConfig } from '../core/config';
import { freePort } from './support/temporal';

describe('API tokens in the data folder', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'summit-tokens-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('generates an admin and a hook token once, in a file only its owner can read', async () => {
    const first = await loadOrCreateTokens(join(dir, 'data'));
    expect(first.created).toBe(true);
    expect(first.path).toBe(join(dir, 'data', 'tokens.json'));
    expect(statSync(first.path).mode & 0o777).toBe(0o600);
    expect(first.tokens.map((t) => t.role)).toEqual(['admin', 'hook']);
    for (const t of first.tokens) expect(t.token).toMatch(new RegExp(`^summit_${t.role}_[A-Za-z0-9_-]{43}$`));

    const again = await loadOrCreateTokens(join(dir, 'data'));
    expect(again).toEqual({ ...first, created: false });
  });

  it('lets exactly one of several simultaneous first starts create the file', async () => {
    const results = await Promise.all(Array.from({ length: 6 }, () => loadOrCreateTokens(dir)));
    expect(results.filter((r) => r.created)).toHaveLength(1);
    expect(new Set(results.map((r) => JSON.stringify(r.tokens))).size).toBe(1);
  });

  it('refuses a tokens file other users can read, saying how to fix it', async () => {
    const { path } = await loadOrCreateTokens(dir);
    chmodSync(path, 0o644);
    await expect(loadOrCreateTokens(dir)).rejects.toThrow(TokensFileError);
    await expect(loadOrCreateTokens(dir)).rejects.toThrow(`chmod 600 ${path}`);
  });

  it('identifies tokens by role (hook: a contributor of every repository), and nobody for an unknown or truncated one', async () => {
    const { tokens } = await loadOrCreateTokens(dir);
    const auth = new Auth(tokens);
    expect(await auth.identify(tokens[0].token)).toEqual({ name: 'admin', role: 'admin', repositories: null });
    expect(await auth.identify(tokens[1].token)).toEqual({ name: 'hook', role: 'contributor', repositories: null });
    expect(await auth.identify(tokens[0].token.slice(0, -1))).toBeUndefined();
    expect(await auth.identify('')).toBeUndefined();
  });
});

describe('the API entry point', () => {
  it('prints generated tokens on the first start only, and serves /health with Temporal down', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'summit-api-main-'));
    const config = parseConfig({
      SUMMIT_DATA_DIR: dir, SUMMIT_API_PORT: '0', SUMMIT_TEMPORAL_ADDRESS: `127.0.0.1:${await freePort()}`,
    });
    const printed: string[] = [];
    const write = jest.spyOn(process.stdout, 'write').mockImplementation((chunk) => {
      printed.push(String(chunk));
      return true;
    });
    const startAndCheck = async (): Promise<string> => {
      printed.length = 0;
      const api = await startApi(config, silentLogger);
      try {
        const health = await fetch(`${api.url}/health`);
        expect(health.status).toBe(200);
        expect(await health.json()).toMatchObject({ status: 'degraded', database: { ok: true }, hub: { ok: false, state: 'unreachable' } });
      } finally {
        await api.close();
      }
      return printed.join('');
    };
    try {
      const first = await startAndCheck();
      const tokens = JSON.parse(readFileSync(join(dir, 'tokens.json'), 'utf8')).tokens as Array<{ token: string }>;
      for (const t of tokens) expect(first).toContain(t.token);
      expect(first).toContain(join(dir, 'tokens.json'));
      expect(await startAndCheck()).toBe('');
    } finally {
      write.mockRestore();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
