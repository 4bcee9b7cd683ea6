import { ADMIN_DOCS } from './routes/admin';
import { REGISTRY_DOCS } from './routes/builder-registry';
import { payloadsBody } from './routes/codec';
import { FARM_DOCS } from './routes/farm';
import { push } from './routes/hooks';
import { newRepository } from './routes/repositories';
import { idParams, noBody, noQuery } from './routes/schemas';
import { listQuery, logQuery } from './routes/tasks';
import type { RouteDocs } from './openapi';
import { docsAsset } from './routes/docs-assets';
import { newToken } from './routes/tokens';
import { assetParams, pageIndexParams, pageParams } from './dashboard/router';
import { tasksQuery } from './dashboard/pages/tasks';
import { streamQuery } from './dashboard/pages/packages';
import { waveListQuery } from './routes/waves';
import { eventsQuery, indexParams, promoteBody, pruneBody, rollbackBody, tagBody } from './routes/indexes';
import { secretBody } from './routes/webhooks';
import { z } from 'zod';

const task = 'build/serpent/recipes/zlib-1.3-1/x86_64';

/**
 * Every route's description for /api/openapi.json (api/openapi.ts), with the schemas its handler validates with.
 * A new route adds one line here (or a table in its own module, spread in below); test/openapi.test.ts names any
 * route of the app that has none.
 */
/** A forge's push event: its JSON as the forge sends it; the handler checks the signature over the raw bytes first. */
const webhookEvent = z.looseObject({ ref: z.string().optional(), after: z.string().optional(), repository: z.looseObject({}).optional() });

export const ROUTE_DOCS: RouteDocs = {
  'GET /api/repositories/:id/cycles': { summary: 'the dependency cycles among its recipes as of its last intake, each with its bootstrap plan', params: idParams, query: noQuery, examples: { params: { id: 'recipes' } } },
  // The dashboard's pages (api/dashboard/): server-rendered HTML, the same reads as the API's.
  'GET /': { summary: 'dashboard: the farm at a glance', query: noQuery, response: { type: 'text/html' } },
  'GET /tasks': { summary: 'dashboard: tasks with filter, search and paging', query: tasksQuery, response: { type: 'text/html' }, examples: { query: { status: 'failed' } } },
  'GET /tasks/:id': { summary: 'dashboard: a task, its events, its live log', params: idParams, query: noQuery, response: { type: 'text/html' }, examples: { params: { id: task } } },
  'GET /builders': { summary: 'dashboard: builders', query: noQuery, response: { type: 'text/html' } },
  'GET /repositories': { summary: 'dashboard: repositories', query: noQuery, response: { type: 'text/html' } },
  'GET /repositories/:id': { summary: 'dashboard: a repository, its invalid recipes and cycles', params: idParams, query: noQuery, response: { type: 'text/html' }, examples: { params: { id: 'recipes' } } },
  'GET /packages': { summary: 'dashboard: the published indexes', query: noQuery, response: { type: 'text/html' } },
  'GET /packages/:index': { summary: 'dashboard: the packages of an index in a stream', params: pageIndexParams, query: streamQuery, response: { type: 'text/html' }, examples: { params: { index: 'main' } } },
  'GET /packages/:index/:name': { summary: 'dashboard: a package, its metadata and history', params: pageParams, query: streamQuery, response: { type: 'text/html' }, examples: { params: { index: 'main', name: 'liba' } } },
  'GET /login': { summary: 'dashboard: sign in with a token (kept in the tab only)', query: noQuery, response: { type: 'text/html' } },
  'GET /dashboard/assets/:name': { summary: "the dashboard's scripts and styles", params: assetParams, query: noQuery, response: { type: 'application/octet-stream' }, examples: { params: { name: 'dashboard.js' } } },
  'GET /api/waves': { summary: 'waves, newest first, each with its status, removals, histories written and progress', query: waveListQuery, examples: { query: { status: 'building', limit: '20' } } },
  'GET /api/waves/:id': { summary: 'one wave: its record, progress, tasks and removals', params: idParams, examples: { params: { id: 'wave-recipes-0123456789ab' } } },
  'POST /api/waves/:id/cancel': { summary: 'cancel a wave: its builds in flight stop, nothing of it is published', role: 'admin', params: idParams, body: noBody, examples: { params: { id: 'wave-recipes-0123456789ab' } } },
  'POST /api/waves/:id/publish-finished': { summary: "publish the wave's finished part now if it is closed under run-time dependencies (409 wave_not_closed otherwise)", role: 'admin', params: idParams, body: noBody, examples: { params: { id: 'wave-recipes-0123456789ab' } } },
  'POST /api/waves/:id/retry-closure': { summary: 'a wave waiting for closure tries its publish again now', role: 'admin', params: idParams, body: noBody, examples: { params: { id: 'wave-recipes-0123456789ab' } } },
  'GET /api/indexes/:index/history': { summary: "a published repository's histories, streams and tags (admin: each read asks vessel through a workflow)", role: 'admin', params: indexParams, query: noQuery, examples: { params: { index: 'main' } } },
  'GET /api/indexes/:index/events': { summary: 'the index commands (promote, tag, rollback, prune), newest first, with who and how they ended', params: indexParams, query: eventsQuery, examples: { params: { index: 'main' }, query: { limit: '20' } } },
  'POST /api/indexes/:index/promote': { summary: '`to` (default unstable) takes the history `from` (default volatile) names', role: 'admin', params: indexParams, body: promoteBody, examples: { params: { index: 'main' }, body: { to: 'unstable', from: 'volatile' } } },
  'POST /api/indexes/:index/tag': { summary: 'name a history; moving an existing tag needs `replace` (409 otherwise)', role: 'admin', params: indexParams, body: tagBody, examples: { params: { index: 'main' }, body: { tag: 'release-1', history: '3' } } },
  'POST /api/indexes/:index/rollback': { summary: 'point volatile or unstable at another history', role: 'admin', params: indexParams, body: rollbackBody, examples: { params: { index: 'main' }, body: { stream: 'unstable', history: '2' } } },
  'POST /api/indexes/:index/prune': { summary: 'keep the newest `keep` histories plus every one a stream or tag names; `dryRun` lists what would go', role: 'admin', params: indexParams, body: pruneBody, examples: { params: { index: 'main' }, body: { keep: 10, dryRun: true } } },
  'POST /api/tokens': { summary: 'make a token; 201 with the record and `token`, the secret, shown this once', role: 'admin', body: newToken, response: { status: 201 }, examples: { body: { name: 'ci-recipes', role: 'contributor', repositories: ['recipes'], expiresAt: '2030-01-31T00:00:00Z' } } },
  'GET /api/tokens': { summary: 'every token (revoked and expired too), never a secret or its digest', role: 'admin', query: noQuery },
  'GET /api/tokens/self': { summary: 'who the token sent is', role: 'viewer', query: noQuery },
  'POST /api/tokens/:id/revoke': { summary: 'revoke a token (409 for the last working admin token)', role: 'admin', params: idParams, body: noBody, examples: { params: { id: 'tok_0123456789abcdef' } } },
  'POST /api/repositories/:id/webhook': { summary: "set the repository's webhook secret (generated when not given), shown this once", role: 'admin', params: idParams, body: secretBody, response: { status: 201 }, examples: { params: { id: 'recipes' }, body: { secret: 'a-long-webhook-secret-0123456789' } } },
  'DELETE /api/repositories/:id/webhook': { summary: 'remove the webhook secret: deliveries are refused from then on', role: 'admin', params: idParams, body: noBody, response: { status: 204 }, examples: { params: { id: 'recipes' } } },
  'POST /api/webhooks/github': { summary: 'a GitHub push event signed with X-Hub-Signature-256 (HMAC-SHA256 of the raw body with the repository webhook secret); 401 unsigned or forged, 409 a replay', body: webhookEvent },
  'POST /api/webhooks/forgejo': { summary: 'a Forgejo or Gitea push event signed with X-Forgejo-Signature or X-Gitea-Signature; 401 unsigned or forged, 409 a replay', body: webhookEvent },
  'GET /health': { summary: 'database and hub state (503 when the database does not answer)', query: noQuery },
  'GET /metrics': { summary: 'Prometheus text exposition of the API', query: noQuery, response: { type: 'text/plain' } },
  'GET /api/projects': { summary: 'every project with how many repositories it has', query: noQuery },
  'GET /api/builders': { summary: 'builders the hub has heard from, with `drained` (who drained it, when, why) or null, and from the registry `trust`, `state` (enrolled, revoked, unenrolled) and `enrolledAt`', query: noQuery },
  'GET /api/repositories': { summary: 'registered repositories, with `paused` and `protectedPackages`', query: noQuery },
  'GET /api/repositories/:id': { summary: 'a repository, its invalid recipes with reasons, its pause, protected packages and admin events', params: idParams, query: noQuery, examples: { params: { id: 'recipes' } } },
  'POST /api/repositories': { summary: 'register a repository', role: 'admin', body: newRepository, response: { status: 201 }, examples: { body: { id: 'recipes', project: 'serpent', url: '/srv/git/recipes.git', ref: 'main' } } },
  'DELETE /api/repositories/:id': { summary: 'forget a repository and its recipes (409 while it has open tasks)', role: 'admin', params: idParams, body: noBody, response: { status: 204 }, examples: { params: { id: 'recipes' } } },
  'POST /api/repositories/:id/refresh': { summary: 'read the repository again now', role: 'contributor', params: idParams, body: noBody, response: { status: 202 }, examples: { params: { id: 'recipes' } } },
  'POST /api/hooks/git': { summary: 'what the post-receive hook sends after a push', role: 'contributor', body: push, response: { status: 202 }, examples: { body: { repository: 'recipes', commit: '0123456789abcdef0123456789abcdef01234567', ref: 'refs/heads/main' } } },
  'GET /api/tasks': { summary: 'tasks, newest first, filtered and paged (keyset `cursor` or `offset`)', query: listQuery, examples: { query: { status: 'failed,blocked', limit: '20' } } },
  'GET /api/tasks/:id': { summary: 'a task (id URL-encoded), its events and its approval', params: idParams, examples: { params: { id: task } } },
  'GET /api/tasks/:id/log': { summary: 'the build log, whole or its last `tail` lines', params: idParams, query: logQuery, response: { type: 'text/plain' }, examples: { params: { id: task }, query: { tail: '100' } } },
  'POST /api/tasks/:id/retry': { summary: 'a failed or cancelled task becomes a new attempt', role: 'admin', params: idParams, body: noBody, examples: { params: { id: task } } },
  'POST /api/tasks/:id/cancel': { summary: 'cancel a task; a running build is stopped', role: 'admin', params: idParams, body: noBody, examples: { params: { id: task } } },
  'POST /codec/decode': { summary: "Temporal's remote codec protocol: decrypt payloads", role: 'admin', body: payloadsBody, examples: { body: { payloads: [] } } },
  'POST /codec/encode': { summary: "Temporal's remote codec protocol: encrypt payloads", role: 'admin', body: payloadsBody, examples: { body: { payloads: [{ metadata: { encoding: 'anNvbi9wbGFpbg==' }, data: 'e30=' }] } } },
  ...ADMIN_DOCS,
  ...REGISTRY_DOCS,
  ...FARM_DOCS,
  'GET /api/openapi.json': { summary: 'this document: OpenAPI 3.1, generated from the schemas the routes validate with', query: noQuery },
  'GET /api/docs': { summary: 'interactive API docs (Swagger UI, served from this API: no CDN)', query: noQuery, response: { type: 'text/html' } },
  'GET /api/docs/:asset': { summary: "the docs page's scripts and styles", params: docsAsset, query: noQuery, response: { type: 'application/octet-stream' }, examples: { params: { asset: 'swagger-ui.css' } } },
};
