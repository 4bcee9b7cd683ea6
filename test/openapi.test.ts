/**
 * The OpenAPI document is complete and honest: every route the app serves (read from express's router stack) has
 * a description, every description is of a route that exists, every documented example passes the schema the
 * route validates with, and the document and the docs page are served (assets from node_modules, no CDN).
 */
import { mkdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { chromium } from 'playwright-core';
import { createApp } from '../api/app';
import { accessTable, Auth } from '../api/auth';
import { openApiDocument, openApiPath, routesWithoutResponseSchema, undocumentedRoutes, type RouteDoc } from '../api/openapi';
import type { PipelineControl } from '../api/pipeline';
import { ROUTE_DOCS } from '../api/route-docs';
import { routesOf } from '../api/route-table';
import type { Store } from '../db/store';
import { serveApp, type ServedApi } from './helpers/api-server';

// Only the route table and the static routes are used: the store and the hub are never called.
const app = createApp({ store: {} as Store, pipeline: {} as PipelineControl, auth: new Auth([]) });

test('every route of the app is described in api/route-docs.ts (or its module’s table)', () => {
  const missing = undocumentedRoutes(routesOf(app), ROUTE_DOCS);
  if (missing.length > 0) {
    throw new Error(`routes without an OpenAPI description: ${missing.join(', ')}. Add one line per route to ROUTE_DOCS in api/route-docs.ts, e.g. '${missing[0]}': { summary: '…', params: idParams, body: yourBodySchema },`);
  }
});

test('every described route exists', () => {
  const served = new Set(routesOf(app).map((r) => `${r.method} ${r.path}`));
  expect(Object.keys(ROUTE_DOCS).filter((k) => !served.has(k))).toEqual([]);
});

test('the failure message names the missing route', () => {
  expect(undocumentedRoutes([{ method: 'GET', path: '/api/x' }, { method: 'HEAD', path: '/api/x' }], {})).toEqual(['GET /api/x']);
});

test('every route but a 204 declares the schema of its success answer', () => {
  expect(routesWithoutResponseSchema(ROUTE_DOCS)).toEqual([]);
  expect(routesWithoutResponseSchema({ 'GET /x': { summary: 'x' }, 'DELETE /x': { summary: 'x', response: { status: 204 } } })).toEqual(['GET /x']);
});

test('security comes from what each router declares (requireRole, readRoute, publicRoute), one source', () => {
  const access = accessTable(app);
  const doc = openApiDocument(ROUTE_DOCS, { title: 't', version: '0' }, access) as { paths: Record<string, Record<string, Record<string, unknown>>> };
  for (const key of Object.keys(ROUTE_DOCS)) {
    const [method, path] = key.split(' ');
    const op = doc.paths[openApiPath(path)][method.toLowerCase()];
    const a = access[key]!;
    const want = a.kind === 'public' ? 'public' : a.kind === 'read' ? `read:${a.level}` : a.role;
    expect([key, op['x-summit-access']]).toEqual([key, want]);
    expect([key, op.security]).toEqual([key, a.kind === 'public' ? [] : a.kind === 'read' ? [{}, { bearer: [] }] : [{ bearer: [] }]]);
  }
  expect(doc.paths['/api/hooks/git'].post['x-summit-repository']).toBe('body.repository');
  expect(doc.paths['/api/tasks/{id}/log'].get['x-summit-access']).toBe('read:detail');
  // A route whose router declares no access has no place in the document.
  expect(() => openApiDocument({ 'GET /health': ROUTE_DOCS['GET /health'] }, { title: 't', version: '0' }, {})).toThrow(/GET \/health: its router declares no access/);
});

test('a route that answers in more than one media type declares each: the log as text and, followed, as Server-Sent Events', () => {
  const doc = openApiDocument(ROUTE_DOCS, { title: 't', version: '0' }, accessTable(app)) as { paths: Record<string, Record<string, { responses: Record<string, { content?: Record<string, unknown> }> }>> };
  expect(Object.keys(doc.paths['/api/tasks/{id}/log'].get.responses['200'].content ?? {}).sort()).toEqual(['text/event-stream', 'text/plain']);
  expect(Object.keys(doc.paths['/api/tasks'].get.responses['200'].content ?? {})).toEqual(['application/json']);
});

test("README's API table names each route's access as its router declares it", () => {
  // The README's `| `METHOD /path…` | access | … |` rows: words for people, checked against the routers.
  const readme = readFileSync(resolve(__dirname, '..', 'README.md'), 'utf8');
  const rows = [...readme.matchAll(/^\s*\| `(GET|POST|PUT|PATCH|DELETE) (\/[^`?\s]*)[^`]*`[^|]*\| ([^|]+) \|/gm)].map((m) => ({ key: `${m[1]} ${m[2]}`, said: m[3].trim() }));
  const words = (a: NonNullable<ReturnType<typeof accessTable>[string]>): string => {
    if (a.kind === 'public') return a.why.startsWith('signed webhook') ? 'signed' : 'public';
    if (a.kind === 'read') return a.level === 'detail' ? 'read (detail)' : 'read';
    if (a.repository) return `${a.role} of \`${a.repository === 'params.id' ? ':id' : 'repository'}\``;
    return a.role;
  };
  const access = accessTable(app);
  // The API’s own routes (the dashboard's pages have a table of their own, without an access column).
  const table = rows.filter((r) => /^[A-Z]+ \/(api|codec|health|metrics)\b/.test(r.key));
  expect(table.length).toBeGreaterThan(40);
  expect(table.filter((r) => r.said !== words(access[r.key]!)).map((r) => `${r.key}: README says "${r.said}", its router declares "${words(access[r.key]!)}"`)).toEqual([]);
});

const examples = Object.entries(ROUTE_DOCS).flatMap(([route, doc]: [string, RouteDoc]) =>
  (['params', 'query', 'body', 'response'] as const).filter((part) => doc.examples?.[part] !== undefined).map((part) => [route, part, doc] as const),
);

test('the routes document examples', () => {
  // The commands of the admin part all carry one; guard against the table losing them wholesale.
  expect(examples.length).toBeGreaterThan(20);
  expect(examples.filter(([, part]) => part === 'response').length).toBeGreaterThanOrEqual(8);
});

test.each(examples)('the %s example of its %s validates against the schema the route parses with (or answers with)', (_route, part, doc) => {
  const schema = part === 'response' ? doc.response?.schema : doc[part];
  expect(schema).toBeDefined();
  const result = schema!.safeParse(doc.examples![part]);
  expect(result.error?.issues ?? []).toEqual([]);
});

describe('served', () => {
  let served: ServedApi | undefined;
  let base: string;
  beforeAll(async () => {
    served = await serveApp(app);
    base = served.url;
  });
  afterAll(() => served?.close());

  test('GET /api/openapi.json is an OpenAPI 3.1 document with every described route and its schemas', async () => {
    const res = await fetch(`${base}/api/openapi.json`);
    expect(res.status).toBe(200);
    const doc = (await res.json()) as { openapi: string; paths: Record<string, Record<string, { requestBody?: { content: Record<string, { schema: { properties?: object } }> }; parameters?: Array<{ name: string; in: string }>; security?: unknown; responses: Record<string, { content?: Record<string, { schema: Record<string, unknown> }> }> }>> };
    expect(doc.openapi).toBe('3.1.0');
    for (const route of Object.keys(ROUTE_DOCS)) {
      const [method, path] = route.split(' ');
      expect(doc.paths[openApiPath(path)]?.[method.toLowerCase()]).toBeDefined();
    }
    const priority = doc.paths['/api/tasks/{id}/priority'].post;
    expect(priority.parameters).toEqual([expect.objectContaining({ name: 'id', in: 'path' })]);
    expect(priority.requestBody!.content['application/json'].schema.properties).toHaveProperty('priority');
    expect(priority.security).toEqual([{ bearer: [] }]);
    const list = doc.paths['/api/tasks'].get;
    expect(list.parameters!.map((p) => p.name)).toEqual(expect.arrayContaining(['status', 'limit', 'cursor']));
    // Every operation has a 2xx answer with a schema (a 204 has no content).
    for (const [path, ops] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(ops)) {
        const [status, ok] = Object.entries(op.responses).find(([code]) => code.startsWith('2'))!;
        if (status === '204') continue;
        const schema = Object.values(ok.content ?? {})[0]?.schema;
        expect([method, path, Object.keys(schema ?? {}).length > 0]).toEqual([method, path, true]);
      }
    }
    expect(list.responses['200'].content!['application/json'].schema.properties).toHaveProperty('nextCursor');
  });

  test('GET /api/docs is Swagger UI served from this API, with a CSP allowing only its own scripts', async () => {
    const page = await fetch(`${base}/api/docs`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-security-policy')).toContain("script-src 'self'");
    const html = await page.text();
    expect(html).not.toMatch(/https?:\/\//);
    for (const src of [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1])) {
      const asset = await fetch(`${base}${src}`);
      expect([src, asset.status]).toEqual([src, 200]);
      expect((await asset.arrayBuffer()).byteLength).toBeGreaterThan(10);
    }
    expect(await (await fetch(`${base}/api/docs/init.js`)).text()).toContain('/api/openapi.json');
    expect((await fetch(`${base}/api/docs/package.json`)).status).toBe(422);
  });

  test('the docs page renders every route in headless Chromium with no CSP violation or script error', async () => {
    const browser = await chromium.launch({ executablePath: process.env.SUMMIT_CHROMIUM ?? '/usr/bin/chromium', args: ['--headless', '--no-sandbox', '--disable-gpu'] });
    try {
      const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
      const problems: string[] = [];
      page.on('console', (m) => {
        if (m.type() === 'error') problems.push(`console: ${m.text()}`);
      });
      page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
      // Any request leaving the API (a CDN) is refused and reported.
      await page.route((url) => !url.href.startsWith(base), (route) => {
        problems.push(`request outside the API: ${route.request().url()}`);
        return route.abort();
      });
      await page.goto(`${base}/api/docs`);
      await page.locator('.opblock').nth(Object.keys(ROUTE_DOCS).length - 1).waitFor({ timeout: 30_000 });
      expect(await page.locator('.opblock').count()).toBe(Object.keys(ROUTE_DOCS).length);
      await page.locator('#operations-tasks-postApiTasksIdPriority').click();
      await page.getByText('security fix').first().waitFor();
      const dir = resolve(__dirname, '..', 'test-output', 'openapi');
      mkdirSync(dir, { recursive: true });
      await page.screenshot({ path: join(dir, 'docs.png'), fullPage: true });
      expect(problems).toEqual([]);
    } finally {
      await browser.close();
    }
  });
});
