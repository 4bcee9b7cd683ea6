import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { Agent, request, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { MikroORM } from '@mikro-orm/core';
import { Client, Connection } from '@temporalio/client';
import type { Application } from 'express';
import { createApp } from '../api/app';
import { Auth } from '../api/auth';
import { TemporalPipeline } from '../api/pipeline-temporal';
import { routesOf } from '../api/route-table';
import { parseConfig } from '../core/config';
import { AesGcmPayloadCodec, generatePayloadKey, parsePayloadKeys } from '../core/payload-codec';
import { prng, randInt } from '../core/prng';
import { openDatabase } from '../db/orm';
import { Store } from '../db/store';
import { TokenStore } from '../db/token-store';
import { WebhookStore } from '../db/webhook-store';
import { SecretBox } from '../core/security/secret-box';
import { signBody } from '../core/auth/webhook';
import { startSummit, type RunningRole } from '../workers/summit';
import { loadVesselConfig, startVessel, type RunningVessel } from '../workers/vessel';
import { TemporalIndexAdmin } from '../api/services/index-admin';
import { TemporalTries } from '../api/services/tries';
import { IndexEventStore } from '../db/index-event-store';
import { recipeYaml, TestRepo } from './helpers/git-repo';
import { createTestDatabase, type TestDatabase } from './support/postgres';
import { serveApp, type ServedApi } from './helpers/api-server';
import { startTemporalTestServer, type TemporalTestServer } from './support/temporal';
import { installQuietWorkerRuntime } from './support/worker';

/**
 * A seeded fuzz of the whole API, every part real: PostgreSQL behind the store, a Temporal dev server with the
 * real summit worker running the hub (so pushes, refreshes, retries and cancels reach a hub that answers).
 * Every route of the app, read from its router stack, gets valid and hostile requests with no token, the hook
 * token, the admin token and wrong ones. No answer may be a 5xx, every error body must be in the documented
 * shape with the request id of its header, and /health must still say ok at the end.
 */
const SEED = 0x5eed_2026;
const REQUESTS = 10_000;
// Enough parallel keep-alive connections to keep the server busy, few enough for a 2-core machine.
const CONCURRENCY = 16;

const ADMIN = `summit_admin_${'a'.repeat(43)}`;
const HOOK = `summit_hook_${'h'.repeat(43)}`;
const FUZZ_WEBHOOK_SECRET = 'a fuzz secret of enough length';
const BASE = { project: 'serpent', repository: 'recipes', version: '1.0', release: 1, isa: 'x86_64', index: 'main', commit: 'c0ffee', recipePath: 'x' };
const taskId = (source: string) => `build/serpent/recipes/${source}-1.0-1/x86_64`;
const SEEDED = ['broken', 'done', 'n1', 'n2', 'far'];

type Rand = () => number;
const pick = <T>(rand: Rand, xs: readonly T[]): T => xs[randInt(rand, xs.length)];
const chance = (rand: Rand, p: number) => rand() < p;

// ---------------------------------------------------------------------------------------------------------------
// Hostile material. Path and query material is given as it goes on the wire (already percent-encoded, or
// deliberately not); body material as JavaScript values or raw text.

const BAD_ENCODING = ['%', '%Z', '%ZZ', '%E0%A4%A', '%C0%80', '%ED%A0%80', '%FF', '%F0%9F%98', '%%41', '%u0041'];
const CONTROL = ['%00', 'a%00b', '%01', '%0A', '%0D%0A', '%1B%5B31m', '%7F', '%C2%80', '%C2%9F', 'x%09y'];
const UNICODE = [encodeURIComponent('ünïcødé'), '%F0%9F%98%80', encodeURIComponent('\u202eevil'), encodeURIComponent('\uFEFF'), '\u00fc', '\u00ff\u00fe'];
const TRAVERSAL = ['..', '%2E%2E', '..%2F..%2Fetc%2Fpasswd', '%2F', '%2Fetc%2Fpasswd', '.', '%5C..%5C'];
const ODD = ["'%20OR%201%3D1%20--", '__proto__', 'constructor', 'prototype', '-1', '1e309', 'NaN', '%20', '+', '*', '$', '~', '(', 'a;b', 'null', 'undefined'];
const NUMBERS = ['-1', '0', '1', '2', '1.5', '-0', 'NaN', 'Infinity', '-Infinity', '1e309', '9007199254740993', '1e21', '0x10', '', '%20', '200', '201', '100000', '100001', '5%00', 'abc', '1,2'];

/** A path segment: a real id half the time, otherwise something hostile. */
function segment(rand: Rand, valid: readonly string[]): string {
  if (chance(rand, 0.45)) return encodeURIComponent(pick(rand, valid));
  const kind = randInt(rand, 7);
  if (kind === 0) return pick(rand, BAD_ENCODING);
  if (kind === 1) return pick(rand, CONTROL);
  if (kind === 2) return pick(rand, UNICODE);
  if (kind === 3) return pick(rand, TRAVERSAL);
  if (kind === 4) return pick(rand, ODD);
  if (kind === 5) return 'x'.repeat(pick(rand, [1_000, 1_025, 5_000, 9_000]));
  return `${encodeURIComponent(pick(rand, valid))}${pick(rand, [...BAD_ENCODING, ...CONTROL])}`;
}

function hostileString(rand: Rand): string {
  return pick(rand, [
    '', 'a\u0000b', '\u0000', '\u0007', 'line\nbreak', '\u007f', '\u0085', 'ünïcødé', '😀', '\ud800', '\udfff', '\u202e',
    'x'.repeat(300), 'x'.repeat(3_000), '../../etc/passwd', '-oProxyCommand=x', '--upload-pack=touch /tmp/x', 'recipes',
    "' OR 1=1 --", '%00', '__proto__', 'HEAD', 'refs/heads/main', 'main', '0123456789abcdef0123456789abcdef01234567',
  ]);
}

function hostileValue(rand: Rand, depth = 0): unknown {
  const kind = randInt(rand, depth > 2 ? 6 : 9);
  if (kind === 0) return hostileString(rand);
  if (kind === 1) return pick(rand, [0, -1, 1.5, 1e308, -1e308, Number.MAX_SAFE_INTEGER + 2, 2 ** 53]);
  if (kind === 2) return pick(rand, [true, false, null]);
  if (kind === 3) return pick(rand, ['recipes', 'serpent', 'main', 'extra']);
  if (kind === 4) return [];
  if (kind === 5) return {};
  if (kind === 6) return Array.from({ length: 1 + randInt(rand, 3) }, () => hostileValue(rand, depth + 1));
  if (kind === 7) return { [pick(rand, ['a', 'repository', '__proto__', 'constructor', 'id'])]: hostileValue(rand, depth + 1) };
  return { nested: hostileValue(rand, depth + 1) };
}

interface Body {
  text?: string;
  contentType?: string;
  /** Send with Transfer-Encoding: chunked rather than a Content-Length. */
  chunked?: boolean;
}

const CONTENT_TYPES = [
  undefined, 'text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/xml',
  'application/json; charset=iso-8859-1', 'application/json; charset=utf-16', 'application/json;;;', 'application/vnd.api+json',
  'application/octet-stream', 'json', '*/*',
];

/** A codec request: payloads in Temporal's JSON form, some well formed, some not base64, some with a forged key id. */
function codecPayloads(rand: Rand): Record<string, unknown> {
  const b64 = (text: string) => Buffer.from(text).toString('base64');
  const payload = () =>
    pick(rand, [
      { metadata: { encoding: b64('json/plain') }, data: b64('{"a":1}') },
      { metadata: { encoding: b64('binary/encrypted'), 'encryption-key-id': b64('fuzz') }, data: b64('not a ciphertext') },
      { metadata: { encoding: b64('binary/encrypted'), 'encryption-key-id': b64('nokey') }, data: '' },
      { metadata: { encoding: '***' }, data: '%%%' },
      {},
    ]);
  return { payloads: Array.from({ length: randInt(rand, 4) }, payload) };
}

/** A body for a route whose valid bodies `valid` makes: valid, mutated, or hostile in form. */
function body(rand: Rand, valid: () => Record<string, unknown>): Body {
  const kind = randInt(rand, 12);
  const json = (value: unknown): Body => ({ text: JSON.stringify(value), contentType: 'application/json', chunked: chance(rand, 0.1) });
  if (kind <= 2) return json(valid());
  if (kind === 3) return json({ ...valid(), [pick(rand, ['extra', 'branch', '__proto__', 'constructor', 'prototype', 'a\u0000'])]: hostileValue(rand) });
  if (kind === 4) {
    const v = valid();
    const keys = Object.keys(v);
    if (keys.length) v[pick(rand, keys)] = hostileValue(rand);
    return json(v);
  }
  if (kind === 5) return json(hostileValue(rand));
  if (kind === 6) {
    const depth = pick(rand, [10, 17, 100, 5_000, 20_000]);
    return { text: `${'['.repeat(depth)}${']'.repeat(depth)}`, contentType: 'application/json' };
  }
  if (kind === 7) return { text: pick(rand, ['{', '{"a":', 'nul', '\u0000', '{"a":1}}', "{'a':1}", '{"a":NaN}', '"str"', '1', 'null', 'true', '[', '\ufeff{}', '{"\\ud800":1}']), contentType: 'application/json' };
  if (kind === 8) return { text: JSON.stringify(valid()), contentType: pick(rand, CONTENT_TYPES) };
  if (kind === 9) return { text: JSON.stringify({ ...valid(), pad: 'x'.repeat(pick(rand, [60_000, 70_000, 200_000])) }), contentType: 'application/json', chunked: chance(rand, 0.5) };
  if (kind === 10) return { text: '', contentType: pick(rand, ['application/json', undefined]) };
  return {};
}

/** A query string for /api/tasks-like routes: known keys with good and bad values, unknown and repeated keys. */
function query(rand: Rand, keys: readonly string[], values: (key: string) => string): string {
  if (chance(rand, 0.3)) return '';
  const parts: string[] = [];
  const n = 1 + randInt(rand, 4);
  for (let i = 0; i < n; i++) {
    const kind = randInt(rand, 10);
    if (kind <= 5) {
      const key = pick(rand, keys);
      parts.push(`${key}=${values(key)}`);
      if (chance(rand, 0.1)) parts.push(`${key}=${values(key)}`);
    } else if (kind === 6) parts.push(`${pick(rand, ['x', 'state', '__proto__', 'constructor', 'limit[]', 'a%00', '%ZZ', ''])}=${pick(rand, NUMBERS)}`);
    else if (kind === 7) parts.push(`${pick(rand, keys)}=${pick(rand, [...BAD_ENCODING, ...CONTROL, ...UNICODE])}`);
    else if (kind === 8) parts.push(pick(rand, keys));
    else parts.push(pick(rand, ['&', '=', '==', '&&&', '=x', '+']));
  }
  return `?${parts.join('&')}`;
}

// ---------------------------------------------------------------------------------------------------------------
// The fuzz table: one entry per route of the app. A route added later without an entry here fails the test.

interface Known {
  repositories: string[];
  tasks: string[];
}

interface Entry {
  /**
   * How often the route is picked, relative to 1 (the default). The dashboard's pages share one HTML renderer and
   * the services the JSON routes already exercise; a lower weight keeps them from crowding out the commands.
   */
  weight?: number;
  /** The path with its parameters filled, possibly with a query. */
  path(rand: Rand, known: Known): string;
  body?(rand: Rand, known: Known): Body;
}

const sometimesEmpty = (rand: Rand, make: () => Body): Body => (chance(rand, 0.6) ? {} : make());
const tasksQuery = (rand: Rand, known: Known) =>
  query(rand, ['status', 'repository', 'source', 'limit', 'offset', 'cursor', 'total'], (key) => {
    if (key === 'total') return pick(rand, ['exact', 'recent', 'EXACT', 'none', '', pick(rand, NUMBERS)]);
    if (key === 'cursor') {
      const good = Buffer.from(JSON.stringify([Date.now() - randInt(rand, 1e9), pick(rand, [...known.tasks, 'x'])])).toString('base64url');
      return pick(rand, [encodeURIComponent(good), good.slice(0, -2), 'AAAA', '%3D%3D', `${good}.`, pick(rand, NUMBERS), pick(rand, CONTROL)]);
    }
    if (key === 'status') return pick(rand, ['failed', 'failed,blocked', 'new', 'done', ',', 'failed,%00', 'completed,,new', pick(rand, CONTROL)]);
    if (key === 'limit' || key === 'offset') return pick(rand, NUMBERS);
    return chance(rand, 0.5) ? pick(rand, [...known.repositories, 'liba', 'broken']) : segment(rand, known.repositories);
  });
const indexSegment = (rand: Rand): string => (chance(rand, 0.7) ? pick(rand, ['main', 'main-v3x', 'try-x']) : segment(rand, ['main']));
const noBodyOrJunk = (rand: Rand): Body => sometimesEmpty(rand, () => body(rand, () => ({})));
const reasonOrJunk = (rand: Rand): Body => sometimesEmpty(rand, () => body(rand, () => ({ reason: hostileString(rand) })));

/** A push delivery (GitHub and Forgejo share the fields summit reads), valid, mutated or hostile like any body. */
const webhookBody = (rand: Rand): Body =>
  body(rand, () => ({
    ref: pick(rand, ['refs/heads/main', 'refs/heads/wip', '', 'a b']),
    after: pick(rand, ['0123456789abcdef0123456789abcdef01234567', '0'.repeat(40), 'xyz']),
    // example.invalid/r.git is the URL the fuzz registers repositories under (POST /api/repositories).
    repository: pick(rand, [{ clone_url: 'https://example.invalid/r.git' }, { clone_url: 'https://git.example.org/serpent/recipes.git' }, { ssh_url: 'git@h:a/b.git' }, {}, 'x', null]),
  }));

const FUZZ: Record<string, Entry> = {
  'GET /health': { path: (rand) => `/health${query(rand, ['verbose'], () => pick(rand, NUMBERS))}` },
  'GET /metrics': { path: (rand) => `/metrics${query(rand, ['name[]', 'format'], () => pick(rand, NUMBERS))}` },
  'GET /api/projects': { path: (rand) => `/api/projects${query(rand, ['limit'], () => pick(rand, NUMBERS))}` },
  'GET /api/builders': { path: (rand) => `/api/builders${query(rand, ['limit'], () => pick(rand, NUMBERS))}` },
  'GET /api/repositories': { path: (rand) => `/api/repositories${query(rand, ['limit'], () => pick(rand, NUMBERS))}` },
  // Being added by other parts of issue 7; listed so that the table is ready when they land.
  'GET /api/repositories/:id': { path: (rand, k) => `/api/repositories/${segment(rand, k.repositories)}` },
  'DELETE /api/repositories/:id': { path: (rand, k) => `/api/repositories/${segment(rand, [...k.repositories, 'gone'])}`, body: noBodyOrJunk },
  // A 201 needs the admin token, a valid body and a free id at once (about 1 request in 300 here): picked more often.
  'POST /api/repositories': {
    weight: 3,
    path: () => '/api/repositories',
    body: (rand) =>
      body(rand, () => ({
        id: chance(rand, 0.7) ? `fz${randInt(rand, 50)}` : pick(rand, ['recipes', 'a/b', '../x', '-x', 'x'.repeat(101)]),
        project: pick(rand, ['serpent', 'fuzz', 'a b']),
        // Half of them the one URL that registers, so that 201 stays among the answers however many routes share the requests.
        url: chance(rand, 0.5) ? 'https://example.invalid/r.git' : pick(rand, ['/nonexistent/fuzz.git', '--upload-pack=touch /tmp/pwned', 'file:///etc', 'ext::sh -c x', '']),
        ...(chance(rand, 0.5) ? { ref: pick(rand, ['main', 'refs/heads/main', 'HEAD', 'a b', '']) } : {}),
        ...(chance(rand, 0.3) ? { cascade: pick(rand, [true, false, 'yes', 1]) } : {}),
      })),
  },
  'POST /api/repositories/:id/refresh': { path: (rand, k) => `/api/repositories/${segment(rand, k.repositories)}/refresh`, body: noBodyOrJunk },
  'POST /api/hooks/git': {
    path: () => '/api/hooks/git',
    body: (rand, k) =>
      body(rand, () => ({
        repository: pick(rand, [...k.repositories, 'nope']),
        ...(chance(rand, 0.6) ? { commit: pick(rand, ['0123456789abcdef0123456789abcdef01234567', 'abc1234', 'XYZ', '']) } : {}),
        ...(chance(rand, 0.6) ? { ref: pick(rand, ['main', 'refs/heads/main', 'refs/heads/wip', 'HEAD']) } : {}),
      })),
  },
  'GET /api/tasks': { path: (rand, k) => `/api/tasks${tasksQuery(rand, k)}` },
  'GET /api/tasks/:id': { path: (rand, k) => `/api/tasks/${segment(rand, k.tasks)}` },
  'GET /api/tasks/:id/log': {
    path: (rand, k) => `/api/tasks/${segment(rand, k.tasks)}/log${query(rand, ['tail'], () => pick(rand, NUMBERS))}`,
  },
  'POST /api/tasks/:id/retry': { path: (rand, k) => `/api/tasks/${segment(rand, k.tasks)}/retry`, body: noBodyOrJunk },
  // Verification builds: the fuzz's tasks are never published, so a start is a 409 (or 404, 422); no Temporal start.
  'POST /api/tasks/:id/verify': { path: (rand, k) => `/api/tasks/${segment(rand, k.tasks)}/verify`, body: noBodyOrJunk },
  'GET /api/verifications': { path: (rand) => `/api/verifications${query(rand, ['result', 'repository', 'builder', 'limit'], (key) => (key === 'result' ? pick(rand, ['different', 'identical', 'nope', '']) : pick(rand, NUMBERS)))}` },
  'POST /api/tasks/:id/cancel': { path: (rand, k) => `/api/tasks/${segment(rand, k.tasks)}/cancel`, body: noBodyOrJunk },
  'POST /api/tokens': {
    path: () => '/api/tokens',
    body: (rand, k) =>
      body(rand, () => ({
        name: pick(rand, ['ci', 'fz-token', 'a b', '', 'x'.repeat(200)]),
        role: pick(rand, ['viewer', 'contributor', 'builder', 'admin', 'hook', 'root', '']),
        ...(chance(rand, 0.4) ? { repositories: pick(rand, [k.repositories, [], ['a/b'], 'recipes', [1]]) } : {}),
        ...(chance(rand, 0.4) ? { expiresAt: pick(rand, ['2099-01-01T00:00:00Z', '2000-01-01T00:00:00Z', '2099-01-01', 'tomorrow', '', pick(rand, NUMBERS)]) } : {}),
      })),
  },
  'GET /api/tokens/self': { path: (rand) => `/api/tokens/self${query(rand, ['x'], () => pick(rand, NUMBERS))}` },
  'GET /api/tokens': { path: (rand) => `/api/tokens${query(rand, ['limit'], () => pick(rand, NUMBERS))}` },
  // Never a real token's id: the fuzz must not revoke the tokens it sends.
  'POST /api/tokens/:id/revoke': { path: (rand) => `/api/tokens/${segment(rand, ['tok_0000000000000000', 'nothing'])}/revoke`, body: noBodyOrJunk },
  'POST /api/repositories/:id/webhook': {
    path: (rand, k) => `/api/repositories/${segment(rand, [...k.repositories, 'fz1', 'fz2', 'fz3', 'nothing'])}/webhook`,
    body: (rand) => sometimesEmpty(rand, () => body(rand, () => ({ secret: pick(rand, [FUZZ_WEBHOOK_SECRET, 'short', '', 'x'.repeat(300), 'tab\there']) }))),
  },
  'DELETE /api/repositories/:id/webhook': { path: (rand, k) => `/api/repositories/${segment(rand, [...k.repositories, 'nothing'])}/webhook`, body: noBodyOrJunk },
  'POST /api/webhooks/github': { path: () => '/api/webhooks/github', body: (rand) => webhookBody(rand) },
  'POST /api/webhooks/forgejo': { path: () => '/api/webhooks/forgejo', body: (rand) => webhookBody(rand) },
  // Index commands (issue 9) against a real vessel worker over an empty repository folder: refusals are 409s.
  'GET /api/indexes/:index/history': { path: (rand) => `/api/indexes/${indexSegment(rand)}/history${chance(rand, 0.2) ? query(rand, ['limit'], () => pick(rand, NUMBERS)) : ''}` },
  'GET /api/indexes/:index/events': { path: (rand) => `/api/indexes/${indexSegment(rand)}/events${query(rand, ['limit'], () => pick(rand, NUMBERS))}` },
  'POST /api/indexes/:index/promote': {
    path: (rand) => `/api/indexes/${indexSegment(rand)}/promote`,
    body: (rand) => sometimesEmpty(rand, () => body(rand, () => ({ ...(chance(rand, 0.5) ? { to: pick(rand, ['unstable', 'volatile', 'stable', '']) } : {}), ...(chance(rand, 0.5) ? { from: pick(rand, ['volatile', 'unstable', 1]) } : {}) }))),
  },
  'POST /api/indexes/:index/tag': {
    path: (rand) => `/api/indexes/${indexSegment(rand)}/tag`,
    body: (rand) => body(rand, () => ({ tag: pick(rand, ['v1', 'release-1', '-x', 'volatile', 'a'.repeat(101), '']), history: pick(rand, ['1', '0', '99', 'x', 1]), ...(chance(rand, 0.3) ? { replace: pick(rand, [true, 'yes']) } : {}) })),
  },
  'POST /api/indexes/:index/rollback': {
    path: (rand) => `/api/indexes/${indexSegment(rand)}/rollback`,
    body: (rand) => body(rand, () => ({ stream: pick(rand, ['volatile', 'unstable', 'stable']), history: pick(rand, ['1', '2', '0', '-1', 'x']) })),
  },
  'POST /api/indexes/:index/prune': {
    path: (rand) => `/api/indexes/${indexSegment(rand)}/prune`,
    body: (rand) => body(rand, () => ({ keep: pick(rand, [1, 3, 0, -1, 1.5, 1e9, '2']), ...(chance(rand, 0.7) ? { dryRun: pick(rand, [true, false, 'no']) } : {}) })),
  },
  'GET /api/repositories/:id/cycles': { path: (rand, k) => `/api/repositories/${segment(rand, k.repositories)}/cycles${query(rand, ['limit'], () => pick(rand, NUMBERS))}` },
  // The dashboard's pages (api/dashboard/): HTML on success, the API's JSON errors for clients that do not ask for HTML.
  'GET /': { weight: 0.25, path: (rand) => `/${query(rand, ['x'], () => pick(rand, NUMBERS))}` },
  'GET /tasks': { weight: 0.25, path: (rand, k) => `/tasks${query(rand, ['status', 'repository', 'q', 'cursor', 'limit'], (key) => (key === 'q' ? pick(rand, ['liba', 'build/x', encodeURIComponent(pick(rand, k.tasks)), '%3Cscript%3E', ...CONTROL]) : key === 'status' ? pick(rand, ['failed', 'new,failed', 'done', '']) : pick(rand, NUMBERS)))}` },
  'GET /tasks/:id': { weight: 0.25, path: (rand, k) => `/tasks/${segment(rand, k.tasks)}` },
  'GET /builders': { weight: 0.25, path: (rand) => `/builders${query(rand, ['x'], () => pick(rand, NUMBERS))}` },
  'GET /repositories': { weight: 0.25, path: (rand) => `/repositories${query(rand, ['x'], () => pick(rand, NUMBERS))}` },
  'GET /repositories/:id': { weight: 0.25, path: (rand, k) => `/repositories/${segment(rand, k.repositories)}` },
  'GET /packages': { weight: 0.25, path: (rand) => `/packages${query(rand, ['stream'], () => pick(rand, NUMBERS))}` },
  'GET /packages/:index': { weight: 0.25, path: (rand) => `/packages/${segment(rand, ['main', 'main-v3x'])}${query(rand, ['stream', 'q'], () => pick(rand, ['volatile', 'unstable', 'nope', ...NUMBERS]))}` },
  'GET /packages/:index/:name': { weight: 0.25, path: (rand) => `/packages/${segment(rand, ['main'])}/${segment(rand, ['liba', 'nothing'])}${query(rand, ['stream'], () => pick(rand, ['volatile', 'nope']))}` },
  'GET /login': { weight: 0.25, path: (rand) => `/login${query(rand, ['token'], () => pick(rand, NUMBERS))}` },
  'GET /dashboard/assets/:name': { weight: 0.25, path: (rand) => `/dashboard/assets/${segment(rand, ['dashboard.js', 'dashboard.css', 'htmx.min.js', 'nope.js'])}` },
  // Try-builds (api/routes/tries.ts): refs that exist nowhere make tries that fail in their intake, never a 5xx.
  'POST /api/repositories/:id/try': {
    path: (rand, k) => `/api/repositories/${segment(rand, k.repositories)}/try`,
    body: (rand) => body(rand, () => ({
      ref: pick(rand, ['feature/x', 'refs/pull/7/head', 'a..b', '-x', '', 'x'.repeat(300), 'ok']),
      ...(chance(rand, 0.5) ? { name: pick(rand, ['fz', 'a..b', '../x', 'x'.repeat(61), '']) } : {}),
      ...(chance(rand, 0.3) ? { ttl: pick(rand, ['1h', '30d', '7', 'x']) } : {}),
    })),
  },
  'GET /api/tries': { path: (rand) => `/api/tries${query(rand, ['live', 'repository', 'limit'], () => pick(rand, [...NUMBERS, 'true', 'false']))}` },
  'GET /api/tries/:name': { path: (rand) => `/api/tries/${segment(rand, ['fz', 'pr-7'])}` },
  'POST /api/tries/:name/expire': { path: (rand) => `/api/tries/${segment(rand, ['fz', 'pr-7'])}/expire`, body: noBodyOrJunk },
  'POST /api/tries/sweep': { weight: 0.2, path: () => '/api/tries/sweep', body: (rand) => sometimesEmpty(rand, () => body(rand, () => ({ dryRun: pick(rand, [true, false, 'yes']) }))) },
  'GET /api/waves': {
    path: (rand) => `/api/waves${query(rand, ['status', 'repository', 'limit'], () => pick(rand, [...NUMBERS, 'building', 'published,cancelled', 'done', ',', pick(rand, CONTROL)]))}`,
  },
  'GET /api/waves/:id': { path: (rand) => `/api/waves/${segment(rand, ['wave-fuzz-0123456789ab'])}` },
  'POST /api/waves/:id/cancel': { path: (rand) => `/api/waves/${segment(rand, ['wave-fuzz-0123456789ab'])}/cancel`, body: noBodyOrJunk },
  'POST /api/waves/:id/publish-finished': { path: (rand) => `/api/waves/${segment(rand, ['wave-fuzz-0123456789ab'])}/publish-finished`, body: noBodyOrJunk },
  'POST /api/waves/:id/retry-closure': { path: (rand) => `/api/waves/${segment(rand, ['wave-fuzz-0123456789ab'])}/retry-closure`, body: noBodyOrJunk },
  'POST /codec/encode': { path: () => '/codec/encode', body: (rand) => body(rand, () => codecPayloads(rand)) },
  // Admins' pause, drain, priority and approval (api/routes/admin.ts, farm.ts); the OpenAPI document and docs page.
  'POST /api/repositories/:id/pause': { path: (rand, k) => `/api/repositories/${segment(rand, k.repositories)}/pause`, body: reasonOrJunk },
  'POST /api/repositories/:id/resume': { path: (rand, k) => `/api/repositories/${segment(rand, k.repositories)}/resume`, body: reasonOrJunk },
  'POST /api/repositories/:id/protect': {
    path: (rand, k) => `/api/repositories/${segment(rand, k.repositories)}/protect`,
    body: (rand) => body(rand, () => ({ packages: pick(rand, [[], ['gcc*'], ['a b'], ['*'], [''], ['x'.repeat(101)], 'gcc', [1]]), ...(chance(rand, 0.3) ? { reason: hostileString(rand) } : {}) })),
  },
  'POST /api/builders/:id/drain': { path: (rand) => `/api/builders/${segment(rand, ['b1', 'ghost'])}/drain`, body: reasonOrJunk },
  'POST /api/builders/:id/resume': { path: (rand) => `/api/builders/${segment(rand, ['b1', 'ghost'])}/resume`, body: reasonOrJunk },
  'POST /api/builders/enrolments': {
    path: () => '/api/builders/enrolments',
    body: (rand) => body(rand, () => ({ trust: pick(rand, ['trusted', 'community', 'root', '', 1, null]), ...(chance(rand, 0.5) ? { expiresIn: pick(rand, ['1h', '7d', '31d', '0m', 'soon', 5, hostileString(rand)]) } : {}) })),
  },
  'POST /api/builders/enrol': {
    path: () => '/api/builders/enrol',
    body: (rand) => body(rand, () => ({
      token: pick(rand, ['summit_enrol_nope', '', hostileString(rand), 7]),
      builderId: pick(rand, ['b1', 'a/b', '', hostileString(rand)]),
      publicKey: pick(rand, ['MCowBQYDK2VwAyEAIP4i5ZADOW0kiVOAnBTNFcnk+gV3rMG7wokrOLriDkU=', 'not a key', '', hostileString(rand)]),
    })),
  },
  'GET /api/builders/:id/standing': { path: (rand) => `/api/builders/${segment(rand, ['b1', 'ghost'])}/standing` },
  'POST /api/builders/:id/trust': {
    path: (rand) => `/api/builders/${segment(rand, ['b1', 'ghost'])}/trust`,
    body: (rand) => body(rand, () => ({ trust: pick(rand, ['trusted', 'community', 'root', null]), ...(chance(rand, 0.3) ? { reason: hostileString(rand) } : {}) })),
  },
  'POST /api/builders/:id/revoke': { path: (rand) => `/api/builders/${segment(rand, ['b1', 'ghost'])}/revoke`, body: reasonOrJunk },
  'POST /api/tasks/:id/priority': {
    path: (rand, k) => `/api/tasks/${segment(rand, k.tasks)}/priority`,
    body: (rand) => body(rand, () => ({ priority: pick(rand, [0, 5, -5, 1000, 1001, -1001, 1.5, '5', null, 1e308]), ...(chance(rand, 0.3) ? { reason: hostileString(rand) } : {}) })),
  },
  'POST /api/tasks/:id/approve': { path: (rand, k) => `/api/tasks/${segment(rand, k.tasks)}/approve`, body: reasonOrJunk },
  'GET /api/farm': { path: (rand) => `/api/farm${query(rand, ['limit'], () => pick(rand, NUMBERS))}` },
  'POST /api/farm/pause': { path: () => '/api/farm/pause', body: reasonOrJunk },
  'POST /api/farm/resume': { path: () => '/api/farm/resume', body: reasonOrJunk },
  'GET /api/openapi.json': { path: (rand) => `/api/openapi.json${query(rand, ['format'], () => pick(rand, NUMBERS))}` },
  'GET /api/docs': { path: (rand) => `/api/docs${query(rand, ['url'], () => pick(rand, NUMBERS))}` },
  'GET /api/docs/:asset': { path: (rand) => `/api/docs/${segment(rand, ['swagger-ui.css', 'init.js', 'swagger-ui-bundle.js', 'package.json', 'index.html'])}` },
  'POST /codec/decode': { path: () => '/codec/decode', body: (rand) => body(rand, () => codecPayloads(rand)) },
};

const AUTHORIZATIONS = [
  undefined, `Bearer ${HOOK}`, `Bearer ${ADMIN}`, 'Bearer summit_admin_wrong', `bearer ${ADMIN}`, `Basic ${ADMIN}`, 'Bearer',
  `Bearer ${'a'.repeat(5_000)}`, `Bearer ${ADMIN} extra`, 'Bearer \u00ff',
];
const METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'HEAD', 'PROPFIND', 'TRACE'];

function pickWeighted(rand: Rand, routes: Array<{ method: string; path: string }>): { method: string; path: string } {
  const weights = routes.map((r) => FUZZ[`${r.method} ${r.path}`]?.weight ?? 1);
  let x = rand() * weights.reduce((a, b) => a + b, 0);
  for (let i = 0; i < routes.length; i++) if ((x -= weights[i]) < 0) return routes[i];
  return routes[routes.length - 1];
}

interface Planned {
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: Body;
}

function plan(rand: Rand, routes: Array<{ method: string; path: string }>, known: Known): Planned {
  const route = pickWeighted(rand, routes);
  const entry = FUZZ[`${route.method} ${route.path}`];
  let path = entry.path(rand, known);
  // Now and then: another method on the same path, or a path no route has.
  const method = chance(rand, 0.1) ? pick(rand, METHODS) : route.method;
  if (chance(rand, 0.03)) path = pick(rand, ['/', '/api', '/api/', '/api/tasks/', '/api/nothing', `/api/${segment(rand, ['x'])}`, '//api//tasks', '/API/TASKS', '/health/']);
  const headers: Record<string, string> = {};
  const authorization = pick(rand, AUTHORIZATIONS);
  if (authorization) headers.authorization = authorization;
  if (chance(rand, 0.05)) headers['x-request-id'] = pick(rand, ['ok-1', 'x'.repeat(500), 'a b', '\u00ff', '../../x']);
  if (chance(rand, 0.01)) headers['x-padding'] = 'p'.repeat(20_000);
  const sent = entry.body ? entry.body(rand, known) : chance(rand, 0.1) ? body(rand, () => ({})) : undefined;
  if (route.path.startsWith('/api/webhooks/') && chance(rand, 0.8)) {
    // Signed with the secret the fuzz sets on repositories half the time, so that some deliveries get past the check.
    const signature = chance(rand, 0.5) && sent?.text !== undefined ? signBody(sent.text, FUZZ_WEBHOOK_SECRET) : pick(rand, ['', 'zz', '0'.repeat(64), 'sha256=', '\u00ff']);
    const name = pick(rand, ['x-hub-signature-256', 'x-forgejo-signature', 'x-gitea-signature']);
    headers[name] = name === 'x-hub-signature-256' && chance(rand, 0.8) ? `sha256=${signature}` : signature;
    headers[pick(rand, ['x-github-delivery', 'x-forgejo-delivery'])] = pick(rand, [`d-${randInt(rand, 1e9)}`, 'd-1', 'a b', 'x'.repeat(300), '']);
    if (chance(rand, 0.5)) headers[pick(rand, ['x-github-event', 'x-gitea-event'])] = pick(rand, ['push', 'ping', 'issues', '']);
  }
  return { method, path, headers, body: sent };
}

interface Answer {
  status: number;
  headers: IncomingHttpHeaders;
  text: string;
}

function send(agent: Agent, port: number, req: Planned): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { ...req.headers };
    const payload = req.body?.text !== undefined ? Buffer.from(req.body.text) : undefined;
    if (req.body?.contentType) headers['content-type'] = req.body.contentType;
    // Framed either way: Node sends a GET's or a HEAD's body without framing unless told, which would be our bug.
    if (payload) headers[req.body?.chunked ? 'transfer-encoding' : 'content-length'] = req.body?.chunked ? 'chunked' : String(payload.length);
    const outgoing = request({ host: '127.0.0.1', port, agent, method: req.method, path: req.path, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    outgoing.on('error', (err) => reject(Object.assign(err, { reused: outgoing.reusedSocket })));
    outgoing.end(payload);
  });
}

/** What is wrong with an answer, or undefined when it is a fine one. */
function problem(req: Planned, answer: Answer): string | undefined {
  if (answer.status >= 500) return `status ${answer.status}`;
  if (answer.status < 400 || req.method === 'HEAD') return undefined;
  let parsed: { error?: { code?: unknown; message?: unknown; requestId?: unknown; issues?: unknown } };
  try {
    parsed = JSON.parse(answer.text);
  } catch {
    return `error body is not JSON: ${answer.text.slice(0, 80)}`;
  }
  const error = parsed.error;
  if (!error || typeof error.code !== 'string' || typeof error.message !== 'string') return 'error body lacks code or message';
  if (typeof error.requestId !== 'string' || error.requestId === '' || error.requestId !== answer.headers['x-request-id']) {
    return `requestId ${String(error.requestId)} is not the x-request-id header ${String(answer.headers['x-request-id'])}`;
  }
  if (error.issues !== undefined) {
    const ok = Array.isArray(error.issues) && error.issues.every((i: { path?: unknown; message?: unknown }) => typeof i.path === 'string' && typeof i.message === 'string');
    if (!ok) return 'issues are not [{ path, message }]';
  }
  if (Object.keys(parsed).length !== 1) return 'the error body has more than { error }';
  return undefined;
}

// ---------------------------------------------------------------------------------------------------------------

let temporal: TemporalTestServer;
let pg: TestDatabase;
let dir: string;
let orm: MikroORM;
let summit: RunningRole | undefined;
let vessel: RunningVessel | undefined;
let connection: Connection;
let app: Application;
let served: ServedApi | undefined;
let port: number;
const known: Known = { repositories: ['recipes'], tasks: [] };
const parserRefusals = new Map<string, number>();

beforeAll(async () => {
  installQuietWorkerRuntime();
  dir = mkdtempSync(join(tmpdir(), 'summit-api-fuzz-'));
  // One after the other, so that a failure of the first leaves nothing running that afterAll cannot stop.
  pg = await createTestDatabase('api_fuzz');
  temporal = await startTemporalTestServer();
  orm = await openDatabase({ url: pg.url, dataDir: dir });
  const store = new Store(orm);

  const repo = new TestRepo(join(dir, 'recipes'));
  repo.write('l/liba/stone.yaml', recipeYaml({ name: 'liba' }));
  repo.commit('one recipe');
  await store.addRepository({ id: 'recipes', project: 'serpent', url: repo.dir, ref: 'main' });
  for (const source of SEEDED) await store.createTask({ ...BASE, id: taskId(source), source }, `recipe ${source}`);
  await store.setStatus(taskId('broken'), 'queued', 'dispatched');
  await store.setStatus(taskId('broken'), 'building', 'picked up', { builder: 'b1' });
  await store.setStatus(taskId('broken'), 'failed', 'did not compile');
  for (const to of ['queued', 'building', 'publishing', 'completed'] as const) await store.setStatus(taskId('done'), to, to);
  const log = join(dir, 'broken.log');
  writeFileSync(log, Array.from({ length: 50 }, (_, i) => `line ${i + 1}`).join('\n'));
  await store.updateTask(taskId('broken'), { logPath: log });
  await store.updateTask(taskId('far'), { logPath: '/nonexistent/far.log' });
  // liba's task comes from the hub's intake of the repository; nothing's never exists.
  known.tasks = [...SEEDED.map(taskId), taskId('liba'), taskId('nothing')];

  const config = parseConfig({
    SUMMIT_DATA_DIR: join(dir, 'summit'),
    SUMMIT_TEMPORAL_ADDRESS: temporal.address,
    SUMMIT_TEMPORAL_NAMESPACE: temporal.namespace,
    SUMMIT_DATABASE_URL: pg.url,
    SUMMIT_POLL_INTERVAL: '1h',
  });
  summit = await startSummit(config);
  connection = await Connection.connect({ address: temporal.address });
  const client = new Client({ connection, namespace: temporal.namespace });
  // Tokens in the database, as the API keeps them; the fuzz's admin and hook tokens are the bootstrap file's.
  const tokens = new TokenStore(orm);
  await tokens.importBootstrap([{ name: 'admin', role: 'admin', token: ADMIN }, { name: 'hook', role: 'hook', token: HOOK }]);
  const auth = new Auth(tokens);
  const codec = new AesGcmPayloadCodec(parsePayloadKeys(generatePayloadKey('fuzz'), 'the fuzz test key'));
  const webhooks = { webhooks: new WebhookStore(orm), box: new SecretBox(parsePayloadKeys(generatePayloadKey('fuzz'), 'the fuzz test key')) };
  vessel = await startVessel(loadVesselConfig({ SUMMIT_DATA_DIR: join(dir, 'summit'), SUMMIT_TEMPORAL_ADDRESS: temporal.address, SUMMIT_TEMPORAL_NAMESPACE: temporal.namespace }));
  const indexAdmin = new TemporalIndexAdmin(client, new IndexEventStore(orm));
  const tries = new TemporalTries(client, store, 7 * 86_400_000);
  app = createApp({ store, pipeline: new TemporalPipeline(client, temporal.address), auth, codec: { codec }, webhooks, indexAdmin, tries });
  served = await serveApp(app);
  port = (served.server.address() as AddressInfo).port;
  // Counted for the summary: requests Node's parser refused before express (answered by server.ts).
  served.server.on('clientError', (err: NodeJS.ErrnoException) => parserRefusals.set(err.code ?? '?', (parserRefusals.get(err.code ?? '?') ?? 0) + 1));
}, 180_000);

afterAll(async () => {
  await served?.close();
  await summit?.stop();
  await vessel?.stop();
  await connection?.close();
  await orm?.close(true);
  await temporal?.stop();
  await pg?.drop();
  if (dir) rmSync(dir, { recursive: true, force: true });
}, 60_000);

describe('the API under a seeded fuzz', () => {
  it('has a fuzz table entry for every route the app serves', () => {
    const missing = routesOf(app)
      .filter((r) => r.method !== 'HEAD')
      .map((r) => `${r.method} ${r.path}`)
      .filter((key) => !FUZZ[key]);
    expect(missing).toEqual([]);
  });

  it(`answers ${REQUESTS} valid and hostile requests without a 5xx, every error in the documented shape`, async () => {
    // The hub must be up first, or the first pushes would rightly be 503s.
    await waitFor(async () => JSON.parse((await send(new Agent(), port, { method: 'GET', path: '/health', headers: {} })).text).status === 'ok');

    const routes = routesOf(app).filter((r) => r.method !== 'HEAD');
    const rand = prng(SEED);
    const requests = Array.from({ length: REQUESTS }, () => plan(rand, routes, known));

    const agent = new Agent({ keepAlive: true, maxSockets: CONCURRENCY });
    const histogram = new Map<number, number>();
    const failures: string[] = [];
    let next = 0;
    const started = process.hrtime.bigint();
    const lane = async () => {
      while (next < requests.length) {
        const req = requests[next++];
        let answer: Answer;
        try {
          answer = await send(agent, port, req);
        } catch (err) {
          const sent = { ...req.headers, authorization: undefined, 'x-padding': req.headers['x-padding']?.length, body: { ...req.body, text: req.body?.text?.length } };
          failures.push(`${req.method} ${req.path.slice(0, 120)} ${JSON.stringify(sent)}: no answer (${(err as Error).message}, reused socket ${(err as { reused?: boolean }).reused})`);
          continue;
        }
        histogram.set(answer.status, (histogram.get(answer.status) ?? 0) + 1);
        const wrong = problem(req, answer);
        if (wrong) failures.push(`${req.method} ${req.path.slice(0, 120)} [${req.body?.contentType ?? '-'} ${req.body?.text?.slice(0, 60) ?? ''}]: ${wrong}`);
      }
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, lane));
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    agent.destroy();

    const statuses = [...histogram].sort(([a], [b]) => a - b).map(([s, n]) => `${s}: ${n}`).join(', ');
    const refused = [...parserRefusals].map(([code, n]) => `${code}: ${n}`).join(', ');
    process.stdout.write(
      `api fuzz (seed ${SEED}): ${REQUESTS} requests in ${seconds.toFixed(1)} s, ${Math.round(REQUESTS / seconds)} requests/s, ` +
        `${CONCURRENCY} keep-alive connections; statuses ${statuses}; refused by Node's parser ${refused || 'none'}\n`,
    );
    expect(failures.slice(0, 30)).toEqual([]);
    // Valid requests were among them: the fuzz exercised handlers, not only the edge.
    const expected = [200, 201, 202, 204, 400, 401, 403, 404, 405, 409, 413, 414, 415, 422];
    expect(expected.filter((s) => !histogram.has(s))).toEqual([]);

    const health = await send(new Agent(), port, { method: 'GET', path: '/health', headers: {} });
    expect(health.status).toBe(200);
    expect(JSON.parse(health.text)).toMatchObject({ status: 'ok', database: { ok: true }, hub: { ok: true } });
  }, 600_000);
});

/** Polls a condition until it holds; jest's timeout bounds the wait. */
async function waitFor(condition: () => Promise<boolean>): Promise<void> {
  for (;;) {
    if (await condition().catch(() => false)) return;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}
