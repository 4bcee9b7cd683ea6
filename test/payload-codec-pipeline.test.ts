/**
 * Payload encryption on the real pipeline: a recipe pushed to a farm (real Temporal, PostgreSQL, git, nspawn) is
 * built and published, and its build workflow's history, read raw through a client without the key, holds the
 * artefact token nowhere in clear; the API's codec endpoint, given the admin token, decodes it back.
 */
import { execFile, execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import express from 'express';
import { Client, Connection } from '@temporalio/client';
import { Auth } from '../api/auth';
import { codecRouter } from '../api/routes/codec';
import { main as summitCli } from '../cli/main';
import { AesGcmPayloadCodec, ENCRYPTED_ENCODING, generatePayloadKey, parsePayloadKeys } from '../core/payload-codec';
import { Farm, startFarm, waitFor } from './helpers/farm';
import { recipeYaml } from './helpers/git-repo';
import { describeWhenAvailable } from './support/ci';
import { nspawnUnavailableReason } from './support/nspawn';
import { createTestDatabase, TestDatabase } from './support/postgres';
import { startTemporalTestServer, temporalBinary, TemporalTestServer } from './support/temporal';

jest.setTimeout(600_000);

interface JsonPayload { metadata?: Record<string, string>; data?: string }

const git = (cwd: string, ...args: string[]) => execFileSync('git', args, { cwd, encoding: 'utf8', env: { ...process.env, GIT_TERMINAL_PROMPT: '0' } }).trim();

/** Every byte of a history as the server returned it, bytes fields included, for a plain substring search. */
function rawBytes(history: unknown): Buffer {
  return Buffer.from(JSON.stringify(history, (_k, v: unknown) => (v instanceof Uint8Array ? Buffer.from(v).toString('latin1') : v)), 'latin1');
}

/**
 * The payloads of a history's events, in the codec protocol's JSON form. Search attributes are left out: Temporal
 * indexes them, so they never pass through a codec (they hold the package, ISA, builder, commit and status).
 */
function payloadsOf(history: unknown): JsonPayload[] {
  const found: JsonPayload[] = [];
  const walk = (v: unknown, key?: string): void => {
    if (key === 'searchAttributes') return;
    if (!v || typeof v !== 'object' || v instanceof Uint8Array) return;
    const o = v as Record<string, unknown>;
    // A patch marker (workflow code versioning, `patched()`) carries only the patch's id, written by the SDK itself.
    if (o.markerName === 'core_patch') return;
    // A local activity's marker: its `data` is the SDK's own bookkeeping (activity id and type, attempt, times), written
    // by the SDK's core in JSON; its `result` is the activity's answer, our payload, which must be encrypted.
    if (o.markerName === 'core_local_activity') {
      walk((o.details as Record<string, unknown> | undefined)?.result, 'result');
      return;
    }
    if (o.data instanceof Uint8Array && o.metadata && typeof o.metadata === 'object') {
      found.push({
        metadata: Object.fromEntries(Object.entries(o.metadata as Record<string, Uint8Array>).map(([k, b]) => [k, Buffer.from(b).toString('base64')])),
        data: Buffer.from(o.data).toString('base64'),
      });
      return;
    }
    for (const [k, child] of Object.entries(o)) walk(child, k);
  };
  walk(history);
  return found;
}

describeWhenAvailable(nspawnUnavailableReason(), 'encrypted payloads in a real build', () => {
  let temporal: TemporalTestServer;
  let pg: TestDatabase;
  let work: string;
  let farm: Farm;

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'summit-codec-'));
    [temporal, pg] = await Promise.all([startTemporalTestServer(), createTestDatabase('codec')]);
    farm = await startFarm({ work, temporalAddress: temporal.address, databaseUrl: pg.url });
    await farm.startBuilder('codec-av');
  });

  afterAll(async () => {
    await farm?.stop();
    await temporal?.stop();
    await pg?.drop();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('keeps the artefact token out of the history in clear, and the codec endpoint decodes it for an admin', async () => {
    const bare = join(work, 'recipes.git');
    git(work, 'init', '-q', '--bare', '-b', 'main', bare);
    expect(await summitCli(['hook', 'install', bare, '--repository', 'recipes', '--url', farm.api.url, '--token', farm.hookToken, '--ref', 'main'], { out: () => undefined, err: (t) => console.error(t) })).toBe(0);
    const created = await fetch(`${farm.api.url}/api/repositories`, {
      method: 'POST', headers: { authorization: `Bearer ${farm.adminToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ id: 'recipes', project: 'codec', url: bare, ref: 'main' }),
    });
    expect(created.status).toBe(201);
    const clone = join(work, 'clone');
    git(work, 'clone', '-q', bare, clone);
    git(clone, 'checkout', '-q', '-b', 'main');
    const file = join(clone, 'hush', 'stone.yaml');
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, recipeYaml({ name: 'hush', version: '1.0.0', build: 'install -Dm644 /dev/null %(installroot)%(datadir)/hush/file' }));
    git(clone, 'add', '-A');
    git(clone, '-c', 'user.email=codec@summit.invalid', '-c', 'user.name=Codec', 'commit', '-q', '-m', 'hush');
    // Asynchronously: the hook calls the API, which runs in this process.
    await promisify(execFile)('git', ['push', '-q', 'origin', 'main'], { cwd: clone });

    const id = 'build/codec/recipes/hush-1.0.0-1/x86_64';
    await waitFor(`${id} to be completed`, async () => {
      const res = await fetch(`${farm.api.url}/api/tasks/${encodeURIComponent(id)}`);
      const body = res.status === 200 ? ((await res.json()) as { task: { status: string; reason: string | null } }) : undefined;
      if (body?.task.status === 'failed') throw new Error(`the build failed: ${body.task.reason}`);
      return body?.task.status === 'completed' ? true : undefined;
    }, 300_000);

    // A client without the key: what anyone reading Temporal's API or database gets.
    const raw = new Client({ connection: await Connection.connect({ address: temporal.address }) });
    let history: unknown;
    try {
      history = await raw.workflow.getHandle(id).fetchHistory();
    } finally {
      await raw.connection.close();
    }
    const payloads = payloadsOf(history);
    expect(payloads.length).toBeGreaterThan(3);
    for (const p of payloads) expect(Buffer.from(p.metadata!.encoding, 'base64').toString()).toBe(ENCRYPTED_ENCODING);

    const decode = (auth?: string) => fetch(`${farm.api.url}/codec/decode`, {
      method: 'POST', headers: { 'content-type': 'application/json', 'x-namespace': 'default', ...(auth ? { authorization: auth } : {}) },
      body: JSON.stringify({ payloads }),
    });
    expect((await decode()).status).toBe(401);
    expect((await decode(`Bearer ${farm.hookToken}`)).status).toBe(403);
    const res = await decode(`Bearer ${farm.adminToken}`);
    expect(res.status).toBe(200);
    const decoded = ((await res.json()) as { payloads: JsonPayload[] }).payloads.map((p) => Buffer.from(p.data ?? '', 'base64').toString('utf8'));
    const token = decoded.map((d) => /"artefactToken":"(v1\.[^"]+)"/.exec(d)?.[1]).find(Boolean);
    expect(token).toBeDefined();
    const bytes = rawBytes(history);
    expect(bytes.includes(token!)).toBe(false);
    expect(bytes.includes('artefactToken')).toBe(false);
    // The token's MAC alone (its last part) is not there either, in any encoding the history could hold.
    const mac = token!.split('.')[3];
    expect(bytes.includes(mac)).toBe(false);
    expect(bytes.includes(Buffer.from(mac, 'base64url').toString('latin1'))).toBe(false);

    // What the README tells an operator to run: the Temporal CLI decodes through the endpoint with the admin token.
    // Its JSON output keeps payload data in base64: decode every `data` field to read what the operator sees.
    const cli = async (auth: string): Promise<string> => {
      const { stdout } = await promisify(execFile)(temporalBinary(), [
        'workflow', 'show', '--address', temporal.address, '-w', id, '--output', 'json',
        '--codec-endpoint', `${farm.api.url}/codec`, '--codec-auth', auth,
      ], { maxBuffer: 64 * 1024 * 1024 }).catch((err: { stdout?: string }) => ({ stdout: err.stdout ?? '' }));
      const datas: string[] = [];
      JSON.parse(stdout || '{}', (k, v: unknown) => {
        if (k === 'data' && typeof v === 'string') datas.push(Buffer.from(v, 'base64').toString('utf8'));
        return v;
      });
      return datas.join('\n');
    };
    expect(await cli(`Bearer ${farm.adminToken}`)).toContain(token!);
    expect(await cli('Bearer wrong-token')).not.toContain(token!);
  });
});

describe('the codec endpoint for the Temporal UI', () => {
  const ui = 'http://127.0.0.1:8233';
  const admin = 'summit_admin_' + 'x'.repeat(40);
  let url: string;
  let close: () => Promise<void>;

  beforeAll(async () => {
    const app = express();
    app.use(codecRouter({ auth: new Auth([{ name: 'admin', role: 'admin', token: admin }]), codec: new AesGcmPayloadCodec(parsePayloadKeys(generatePayloadKey('ui'), 'test')), uiOrigin: ui }));
    const server = await new Promise<import('node:http').Server>((resolve) => { const s = app.listen(0, '127.0.0.1', () => resolve(s)); });
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    close = () => new Promise((resolve) => server.close(() => resolve()));
  });

  afterAll(async () => close?.());

  it('answers the UI origin\'s preflight with CORS headers that allow the Authorization header, and no other origin', async () => {
    const preflight = await fetch(`${url}/codec/decode`, { method: 'OPTIONS', headers: { origin: ui, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization,content-type,x-namespace' } });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-origin')).toBe(ui);
    expect(preflight.headers.get('access-control-allow-headers')).toMatch(/Authorization/);
    const other = await fetch(`${url}/codec/decode`, { method: 'OPTIONS', headers: { origin: 'http://evil.example', 'access-control-request-method': 'POST' } });
    expect(other.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('encodes and decodes round trip in the protocol\'s JSON form', async () => {
    const call = async (direction: string, payloads: JsonPayload[]) => {
      const res = await fetch(`${url}/codec/${direction}`, { method: 'POST', headers: { origin: ui, authorization: `Bearer ${admin}`, 'content-type': 'application/json' }, body: JSON.stringify({ payloads }) });
      expect(res.status).toBe(200);
      expect(res.headers.get('access-control-allow-origin')).toBe(ui);
      return ((await res.json()) as { payloads: JsonPayload[] }).payloads;
    };
    const original = [{ metadata: { encoding: Buffer.from('json/plain').toString('base64') }, data: Buffer.from('"hello"').toString('base64') }];
    const encoded = await call('encode', original);
    expect(Buffer.from(encoded[0].metadata!.encoding, 'base64').toString()).toBe(ENCRYPTED_ENCODING);
    expect(await call('decode', encoded)).toEqual(original);
  });
});
