import { z } from 'zod';
import type { Role } from '../core/auth/roles';

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
  /** The role a token must have; absent: public. */
  role?: Role;
  /** Path parameters (an object schema, one key per `:name`); absent: every `:name` is a string. */
  params?: z.ZodType;
  /** Query parameters (an object schema); absent: none. */
  query?: z.ZodType;
  /** The JSON body (absent: none). */
  body?: z.ZodType;
  /** The success status and what it returns (JSON unless `type` says otherwise). */
  response?: { status?: number; type?: string; schema?: z.ZodType; description?: string };
  /** Examples, each validated against its schema by the test: the document shows them. */
  examples?: { params?: Record<string, string>; query?: Record<string, string>; body?: unknown };
}

/** `METHOD /path` (the path as express declares it) → its description. */
export type RouteDocs = Record<string, RouteDoc>;

const jsonSchema = (schema: z.ZodType): Record<string, unknown> => {
  const { $schema: _, ...rest } = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
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

/** The OpenAPI 3.1 document of `docs`. */
export function openApiDocument(docs: RouteDocs, info: { title: string; version: string }): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  // By path, then method: the docs page groups a noun's routes under its tag, in this order.
  const byPath = (k: string) => `${k.split(' ')[1]} ${k.split(' ')[0]}`;
  for (const [key, doc] of Object.entries(docs).sort(([a], [b]) => (byPath(a) < byPath(b) ? -1 : byPath(a) > byPath(b) ? 1 : 0))) {
    const [method, path] = key.split(' ');
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
        ...(status === '204' ? {} : { content: { [type]: { schema: doc.response?.schema ? jsonSchema(doc.response.schema) : {} } } }),
      },
      ...(parameters.length > 0 || doc.body ? { 422: errorResponse('the request does not fit the schema (issues name the field)') } : {}),
      ...(pathParams.length > 0 ? { 404: errorResponse('no such id') } : {}),
      ...(doc.role ? { 401: errorResponse('no or unknown token'), 403: errorResponse(`the token's role is smaller than ${doc.role}`) } : {}),
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
      ...(doc.role ? { security: [{ bearer: [] }], 'x-summit-role': doc.role } : {}),
    };
    (paths[openApiPath(path)] ??= {})[method.toLowerCase()] = operation;
  }
  return {
    openapi: '3.1.0',
    info: { ...info, description: 'Summit build farm API. Reads are public; commands need `Authorization: Bearer <token>` of the role named by `x-summit-role`.' },
    paths,
    components: { schemas: { Error: ERROR_SCHEMA }, securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
  };
}

/**
 * Routes without a description, as `METHOD /path` (HEAD, which express adds for every GET, and catch-alls are
 * left out): what test/openapi.test.ts reports, naming each missing route.
 */
export function undocumentedRoutes(routes: ReadonlyArray<{ method: string; path: string }>, docs: RouteDocs): string[] {
  return routes.filter((r) => r.method !== 'HEAD' && r.method !== '*').map((r) => `${r.method} ${r.path}`).filter((k) => !docs[k]);
}
