import { z } from 'zod';
import type { Access } from '../core/auth/roles';

/**
 * The API's OpenAPI 3.1 description, written from the very zod schemas the routes validate with: a route declares
 * its schemas once, in a RouteDoc (its module's table, or api/route-docs.ts), and its handler parses with the same
 * objects (`parse('body', DOCS['POST /x'].body, req.body)`). test/openapi.test.ts checks that every route of the
 * app (api/route-table.ts) has a RouteDoc and that every example validates against its schema.
 *
 * Adding a route's description is one line in a table: `'POST /api/things/:id/poke': { summary: '…', role: 'admin', params: idParams, body: pokeBody }`.
 */
export interface RouteDoc {
  summary: string;
  /** Path parameters (an object schema, one key per `:name`); absent: every `:name` is a string. */
  params?: z.ZodType;
  /** Query parameters (an object schema); absent: none. */
  query?: z.ZodType;
  /** The JSON body (absent: none). */
  body?: z.ZodType;
  /**
   * The success status and what it returns (JSON unless `type` says otherwise): `schema` (api/routes/responses.ts)
   * for every route but a 204, which returns nothing. test/openapi.test.ts refuses a route without one. `also`: other
   * media types the same route answers with, as the request asks (the log's Server-Sent Events with `follow=1`).
   */
  response?: { status?: number; type?: string; schema?: z.ZodType; description?: string; also?: Record<string, z.ZodType> };
  /** Examples, each validated against its schema by the test: the document shows them. */
  examples?: { params?: Record<string, string>; query?: Record<string, string>; body?: unknown; response?: unknown };
}

/** `METHOD /path` (the path as express declares it) → its description. */
export type RouteDocs = Record<string, RouteDoc>;

const jsonSchema = (schema: z.ZodType, io: 'input' | 'output' = 'input'): Record<string, unknown> => {
  const { $schema: _, ...rest } = z.toJSONSchema(schema, { io, unrepresentable: 'any' }) as Record<string, unknown>;
  return rest;
};

/** The keys of an object schema with each one's schema and whether it must be given. */
function fieldsOf(schema: z.ZodType | undefined): Array<{ name: string; schema: Record<string, unknown>; required: boolean }> {
  if (!schema) return [];
  const json = jsonSchema(schema) as { properties?: Record<string, Record<string, unknown>>; required?: string[] };
  return Object.entries(json.properties ?? {}).map(([name, s]) => ({ name, schema: s, required: (json.required ?? []).includes(name) }));
}

const ERROR_SCHEMA = {
  type: 'object',
  properties: {
    error: {
      type: 'object',
      properties: {
        code: { type: 'string' },
        message: { type: 'string' },
        issues: { type: 'array', items: { type: 'object', properties: { path: { type: 'string' }, message: { type: 'string' } } } },
        requestId: { type: 'string' },
      },
      required: ['code', 'message', 'requestId'],
    },
  },
  required: ['error'],
};

const errorResponse = (description: string) => ({ description, content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } });

/** The noun a path is about: `/api/tasks/:id/log` → `tasks`, `/codec/decode` → `codec`, `/health` → `health`. */
function tagOf(path: string): string {
  const parts = path.split('/').filter(Boolean);
  const noun = (parts[0] === 'api' ? parts[1] : parts[0]) ?? 'api';
  return noun === 'openapi.json' ? 'docs' : noun;
}

/** `/api/tasks/:id/log` → `/api/tasks/{id}/log`. */
export function openApiPath(path: string): string {
  return path.replace(/:([A-Za-z_][A-Za-z0-9_]*)/g, '{$1}');
}

/** `METHOD /path` → the access its router declares (api/auth.ts's routeAccess, read from the app). */
export type RouteAccessTable = Readonly<Record<string, Access | undefined>>;

/** What a route's access means for its OpenAPI operation: security, the extension naming it, its 401/403. */
function accessPart(access: Access): { security: Array<Record<string, string[]>>; extensions: Record<string, string>; errors: Record<string, unknown> } {
  if (access.kind === 'public') return { security: [], extensions: { 'x-summit-access': 'public' }, errors: {} };
  if (access.kind === 'read') {
    const opens = access.level === 'summary' ? '`all` or `summary`' : '`all`';
    return {
      // Optional: no token where SUMMIT_API_PUBLIC_READS opens this read, a viewer's otherwise.
      security: [{}, { bearer: [] }],
      extensions: { 'x-summit-access': `read:${access.level}`, 'x-summit-role': 'viewer' },
      errors: { 401: errorResponse(`no, unknown, revoked or expired token, unless SUMMIT_API_PUBLIC_READS is ${opens}`), 403: errorResponse('a token of no role that reads') },
    };
  }
  return {
    security: [{ bearer: [] }],
    extensions: { 'x-summit-access': access.role, 'x-summit-role': access.role, ...(access.repository ? { 'x-summit-repository': access.repository } : {}) },
    errors: {
      401: errorResponse('no, unknown, revoked or expired token'),
      403: errorResponse(`the token's role does not include ${access.role}${access.repository ? ', or it does not name the repository' : ''}`),
    },
  };
}

/**
 * The OpenAPI 3.1 document of `docs`, with each route's security from `access`: what its router declares with
 * requireRole/readRoute/publicRoute (api/auth.ts), the one place access is written. A described route whose router
 * declares nothing is refused here, as the route×role test refuses it.
 */
export function openApiDocument(docs: RouteDocs, info: { title: string; version: string }, access: RouteAccessTable): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  // By path, then method: the docs page groups a noun's routes under its tag, in this order.
  const byPath = (k: string) => `${k.split(' ')[1]} ${k.split(' ')[0]}`;
  for (const [key, doc] of Object.entries(docs).sort(([a], [b]) => (byPath(a) < byPath(b) ? -1 : byPath(a) > byPath(b) ? 1 : 0))) {
    const [method, path] = key.split(' ');
    const declaredAccess = access[key];
    if (!declaredAccess) throw new Error(`${key}: its router declares no access (requireRole, readRoute or publicRoute in api/auth.ts)`);
    const guard = accessPart(declaredAccess);
    const pathParams = [...path.matchAll(/:([A-Za-z_][A-Za-z0-9_]*)/g)].map((m) => m[1]);
    const declared = new Map(fieldsOf(doc.params).map((f) => [f.name, f.schema]));
    const parameters = [
      ...pathParams.map((name) => ({ name, in: 'path', required: true, schema: declared.get(name) ?? { type: 'string' }, ...(doc.examples?.params?.[name] ? { example: doc.examples.params[name] } : {}) })),
      ...fieldsOf(doc.query).map((f) => ({ name: f.name, in: 'query', required: f.required, schema: f.schema, ...(doc.examples?.query?.[f.name] ? { example: doc.examples.query[f.name] } : {}) })),
    ];
    const status = String(doc.response?.status ?? 200);
    const type = doc.response?.type ?? 'application/json';
    const responses: Record<string, unknown> = {
      [status]: {
        description: doc.response?.description ?? 'success',
        ...(status === '204' ? {} : {
          content: {
            [type]: { schema: doc.response?.schema ? jsonSchema(doc.response.schema, 'output') : {}, ...(doc.examples?.response !== undefined ? { example: doc.examples.response } : {}) },
            ...Object.fromEntries(Object.entries(doc.response?.also ?? {}).map(([media, schema]) => [media, { schema: jsonSchema(schema, 'output') }])),
          },
        }),
      },
      ...(parameters.length > 0 || doc.body ? { 422: errorResponse('the request does not fit the schema (issues name the field)') } : {}),
      ...(pathParams.length > 0 ? { 404: errorResponse('no such id') } : {}),
      ...guard.errors,
    };
    const operation: Record<string, unknown> = {
      summary: doc.summary,
      tags: [tagOf(path)],
      operationId: `${method.toLowerCase()}${path.replace(/[^A-Za-z0-9]+(.)?/g, (_m, c: string | undefined) => (c ? c.toUpperCase() : ''))}`,
      ...(parameters.length > 0 ? { parameters } : {}),
      ...(doc.body
        ? { requestBody: { required: !doc.body.safeParse(undefined).success, content: { 'application/json': { schema: jsonSchema(doc.body), ...(doc.examples?.body !== undefined ? { example: doc.examples.body } : {}) } } } }
        : {}),
      responses,
      security: guard.security,
      ...guard.extensions,
    };
    (paths[openApiPath(path)] ??= {})[method.toLowerCase()] = operation;
  }
  return {
    openapi: '3.1.0',
    info: { ...info, description: 'Summit build farm API. Reads are public unless SUMMIT_API_PUBLIC_READS closes them (`x-summit-access` `read:summary` or `read:detail`: then a viewer token); commands need `Authorization: Bearer <token>` of the role named by `x-summit-role`; `public` routes need none.' },
    paths,
    components: { schemas: { Error: ERROR_SCHEMA }, securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
  };
}

/** Described routes with no success schema (a 204 needs none: it returns nothing). */
export function routesWithoutResponseSchema(docs: RouteDocs): string[] {
  return Object.entries(docs).filter(([, doc]) => (doc.response?.status ?? 200) !== 204 && !doc.response?.schema).map(([key]) => key);
}

/**
 * Routes without a description, as `METHOD /path` (HEAD, which express adds for every GET, and catch-alls are
 * left out): what test/openapi.test.ts reports, naming each missing route.
 */

export function undocumentedRoutes(routes: ReadonlyArray<{ method: string; path: string }>, docs: RouteDocs): string[] {
  return routes.filter((r) => r.method !== 'HEAD' && r.method !== '*').map((r) => `${r.method} ${r.path}`).filter((k) => !docs[k]);
}
