import { ADMIN_DOCS } from './routes/admin';
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
import { TRY_DOCS } from './routes/tries';
import { REGISTRY_DOCS } from './routes/builder-registry';
import { verificationListQuery } from './routes/verifications';
import { z } from 'zod';
import { buildersResponse, healthResponse, identityResponse, indexEventsResponse, indexHistoryResponse, newTokenResponse, openApiResponse, payloadsResponse, projectsResponse, pruneResponse, refreshResponse, repositoriesResponse, repositoryCyclesResponse, repositoryDetailResponse, repositoryResponse, taskCommandResponse, taskDetailResponse, taskListResponse, textResponse, tokenResponse, tokensResponse, waveCommandResponse, waveDetailResponse, wavesResponse, verificationsResponse, verificationStartResponse, webhookDeliveryResponse, webhookSecretResponse } from './routes/responses';

const task = 'build/serpent/recipes/zlib-1.3-1/x86_64';
const at = '2026-12-01T10:00:00.000Z';
/** One task as the API shows it: the response examples below are checked against their schemas like the others. */
const taskExample = { id: task, project: 'serpent', repository: 'recipes', source: 'zlib', version: '1.3', release: 1, isa: 'x86_64', index: 'main', commit: '0123456789abcdef0123456789abcdef01234567', recipePath: 'zlib/stone.yaml', status: 'failed', attempts: 1, priority: 0, builder: 'builder-1', reason: 'build failed: exit status 2', createdAt: at };

/**
 * Every route's description for /api/openapi.json (api/openapi.ts), with the schemas its handler validates with.
 * A new route adds one line here (or a table in its own module, spread in below); test/openapi.test.ts names any
 * route of the app that has none.
 */
/** A forge's push event: its JSON as the forge sends it; the handler checks the signature over the raw bytes first. */
const webhookEvent = z.looseObject({ ref: z.string().optional(), after: z.string().optional(), repository: z.looseObject({}).optional() });

export const ROUTE_DOCS: RouteDocs = {
  'GET /api/repositories/:id/cycles': { summary: 'the dependency cycles among its recipes as of its last intake, each with its bootstrap plan', params: idParams, query: noQuery, response: { schema: repositoryCyclesResponse }, examples: { params: { id: 'recipes' } } },
  // The dashboard's pages (api/dashboard/): server-rendered HTML, the same reads as the API's.
  'GET /': { summary: 'dashboard: the farm at a glance', query: noQuery, response: { schema: textResponse, type: 'text/html' } },
  'GET /tasks': { summary: 'dashboard: tasks with filter, search and paging', query: tasksQuery, response: { schema: textResponse, type: 'text/html' }, examples: { query: { status: 'failed' } } },
  'GET /tasks/:id': { summary: 'dashboard: a task, its events, its live log', params: idParams, query: noQuery, response: { schema: textResponse, type: 'text/html' }, examples: { params: { id: task } } },
  'GET /builders': { summary: 'dashboard: builders', query: noQuery, response: { schema: textResponse, type: 'text/html' } },
  'GET /repositories': { summary: 'dashboard: repositories', query: noQuery, response: { schema: textResponse, type: 'text/html' } },
  'GET /repositories/:id': { summary: 'dashboard: a repository, its invalid recipes and cycles', params: idParams, query: noQuery, response: { schema: textResponse, type: 'text/html' }, examples: { params: { id: 'recipes' } } },
  'GET /packages': { summary: 'dashboard: the published indexes', query: noQuery, response: { schema: textResponse, type: 'text/html' } },
  'GET /packages/:index': { summary: 'dashboard: the packages of an index in a stream', params: pageIndexParams, query: streamQuery, response: { schema: textResponse, type: 'text/html' }, examples: { params: { index: 'main' } } },
  'GET /packages/:index/:name': { summary: 'dashboard: a package, its metadata and history', params: pageParams, query: streamQuery, response: { schema: textResponse, type: 'text/html' }, examples: { params: { index: 'main', name: 'liba' } } },
  'GET /login': { summary: 'dashboard: sign in with a token (kept in the tab only)', query: noQuery, response: { schema: textResponse, type: 'text/html' } },
  'GET /dashboard/assets/:name': { summary: "the dashboard's scripts and styles", params: assetParams, query: noQuery, response: { schema: textResponse, type: 'application/octet-stream' }, examples: { params: { name: 'dashboard.js' } } },
  'GET /api/waves': { summary: 'waves, newest first, each with its status, removals, histories written and progress', query: waveListQuery, response: { schema: wavesResponse }, examples: { response: { items: [{ id: 'wave-recipes-0123456789ab', repository: 'recipes', commit: '0123456789ab', status: 'building', createdAt: at, progress: { total: 3, done: 1, failed: 0, dropped: 0, open: 2 } }] },  query: { status: 'building', limit: '20' } } },
  'GET /api/waves/:id': { summary: 'one wave: its record, progress, tasks and removals', params: idParams, response: { schema: waveDetailResponse }, examples: { params: { id: 'wave-recipes-0123456789ab' } } },
  'POST /api/waves/:id/cancel': { summary: 'cancel a wave: its builds in flight stop, nothing of it is published', params: idParams, body: noBody, response: { schema: waveCommandResponse }, examples: { params: { id: 'wave-recipes-0123456789ab' } } },
  'POST /api/waves/:id/publish-finished': { summary: "publish the wave's finished part now if it is closed under run-time dependencies (409 wave_not_closed otherwise)", params: idParams, body: noBody, response: { schema: waveCommandResponse }, examples: { params: { id: 'wave-recipes-0123456789ab' } } },
  'POST /api/waves/:id/retry-closure': { summary: 'a wave waiting for closure tries its publish again now', params: idParams, body: noBody, response: { schema: waveCommandResponse }, examples: { params: { id: 'wave-recipes-0123456789ab' } } },
  'GET /api/indexes/:index/history': { summary: "a published repository's histories, streams and tags (admin: each read asks vessel through a workflow)", params: indexParams, query: noQuery, response: { schema: indexHistoryResponse }, examples: { params: { index: 'main' } } },
  'GET /api/indexes/:index/events': { summary: 'the index commands (promote, tag, rollback, prune), newest first, with who and how they ended', params: indexParams, query: eventsQuery, response: { schema: indexEventsResponse }, examples: { params: { index: 'main' }, query: { limit: '20' } } },
  'POST /api/indexes/:index/promote': { summary: '`to` (default unstable) takes the history `from` (default volatile) names', params: indexParams, body: promoteBody, response: { schema: indexHistoryResponse }, examples: { params: { index: 'main' }, body: { to: 'unstable', from: 'volatile' } } },
  'POST /api/indexes/:index/tag': { summary: 'name a history; moving an existing tag needs `replace` (409 otherwise)', params: indexParams, body: tagBody, response: { schema: indexHistoryResponse }, examples: { params: { index: 'main' }, body: { tag: 'release-1', history: '3' } } },
  'POST /api/indexes/:index/rollback': { summary: 'point volatile or unstable at another history', params: indexParams, body: rollbackBody, response: { schema: indexHistoryResponse }, examples: { params: { index: 'main' }, body: { stream: 'unstable', history: '2' } } },
  'POST /api/indexes/:index/prune': { summary: 'keep the newest `keep` histories plus every one a stream or tag names; `dryRun` lists what would go', params: indexParams, body: pruneBody, response: { schema: pruneResponse }, examples: { params: { index: 'main' }, body: { keep: 10, dryRun: true } } },
  'POST /api/tokens': { summary: 'make a token; 201 with the record and `token`, the secret, shown this once', body: newToken, response: { schema: newTokenResponse, status: 201 }, examples: { body: { name: 'ci-recipes', role: 'contributor', repositories: ['recipes'], expiresAt: '2030-01-31T00:00:00Z' } } },
  'GET /api/tokens': { summary: 'every token (revoked and expired too), never a secret or its digest', query: noQuery, response: { schema: tokensResponse } },
  'GET /api/tokens/self': { summary: 'who the token sent is', query: noQuery, response: { schema: identityResponse }, examples: { response: { id: 'tok_0123456789abcdef', name: 'alice', role: 'viewer', repositories: null } } },
  'POST /api/tokens/:id/revoke': { summary: 'revoke a token (409 for the last working admin token)', params: idParams, body: noBody, response: { schema: tokenResponse }, examples: { params: { id: 'tok_0123456789abcdef' } } },
  'POST /api/repositories/:id/webhook': { summary: "set the repository's webhook secret (generated when not given), shown this once", params: idParams, body: secretBody, response: { schema: webhookSecretResponse, status: 201 }, examples: { params: { id: 'recipes' }, body: { secret: 'a-long-webhook-secret-0123456789' } } },
  'DELETE /api/repositories/:id/webhook': { summary: 'remove the webhook secret: deliveries are refused from then on', params: idParams, body: noBody, response: { status: 204 }, examples: { params: { id: 'recipes' } } },
  'POST /api/webhooks/github': { summary: 'a GitHub push event signed with X-Hub-Signature-256 (HMAC-SHA256 of the raw body with the repository webhook secret); 401 unsigned or forged, 409 a replay', body: webhookEvent, response: { schema: webhookDeliveryResponse } },
  'POST /api/webhooks/forgejo': { summary: 'a Forgejo or Gitea push event signed with X-Forgejo-Signature or X-Gitea-Signature; 401 unsigned or forged, 409 a replay', body: webhookEvent, response: { schema: webhookDeliveryResponse } },
  'GET /health': { summary: 'database and hub state (503 when the database does not answer)', query: noQuery, response: { schema: healthResponse }, examples: { response: { status: 'ok', database: { ok: true }, hub: { ok: true, state: 'running' } } } },
  'GET /metrics': { summary: 'Prometheus text exposition of the API', query: noQuery, response: { schema: textResponse, type: 'text/plain' } },
  'GET /api/projects': { summary: 'every project with how many repositories it has', query: noQuery, response: { schema: projectsResponse } },
  'GET /api/builders': { summary: 'builders the hub has heard from, with `drained` (who drained it, when, why) or null, and from the registry `trust`, `state` (enrolled, revoked, unenrolled) and `enrolledAt`', query: noQuery, response: { schema: buildersResponse }, examples: { response: { items: [{ id: 'builder-1', host: 'b1.example', isaLevels: ['x86_64', 'x86_64-v3x'], slots: 2, busy: 1, diskFree: 120000000000, lastSeen: at, admitting: true, drained: null }] } } },
  'GET /api/repositories': { summary: 'registered repositories, with `paused` and `protectedPackages`', query: noQuery, response: { schema: repositoriesResponse } },
  'GET /api/repositories/:id': { summary: 'a repository, its invalid recipes with reasons, its pause, protected packages and admin events', params: idParams, query: noQuery, response: { schema: repositoryDetailResponse }, examples: { params: { id: 'recipes' } } },
  'POST /api/repositories': { summary: 'register a repository', body: newRepository, response: { schema: repositoryResponse, status: 201 }, examples: { body: { id: 'recipes', project: 'serpent', url: '/srv/git/recipes.git', ref: 'main' } } },
  'DELETE /api/repositories/:id': { summary: 'forget a repository and its recipes (409 while it has open tasks)', params: idParams, body: noBody, response: { status: 204 }, examples: { params: { id: 'recipes' } } },
  'POST /api/repositories/:id/refresh': { summary: 'read the repository again now', params: idParams, body: noBody, response: { schema: refreshResponse, status: 202 }, examples: { params: { id: 'recipes' } } },
  'POST /api/hooks/git': { summary: 'what the post-receive hook sends after a push', body: push, response: { schema: refreshResponse, status: 202 }, examples: { response: { repository: 'recipes', queued: true },  body: { repository: 'recipes', commit: '0123456789abcdef0123456789abcdef01234567', ref: 'refs/heads/main' } } },
  'GET /api/tasks': { summary: 'tasks, newest first, filtered and paged (keyset `cursor` or `offset`)', query: listQuery, response: { schema: taskListResponse }, examples: { response: { items: [taskExample], total: 1, totalExact: true, totalAt: at, limit: 20, offset: 0, nextCursor: null },  query: { status: 'failed,blocked', limit: '20' } } },
  'GET /api/tasks/:id': { summary: 'a task (id URL-encoded), its events and its approval', params: idParams, response: { schema: taskDetailResponse }, examples: { response: { task: taskExample, events: [{ id: 7, task: task, from: 'building', to: 'failed', reason: 'build failed: exit status 2', at }], approval: null },  params: { id: task } } },
  'GET /api/tasks/:id/log': { summary: 'the build log, whole or its last `tail` lines; with `follow=1` Server-Sent Events (`log` events whose id is the byte offset, resumed with `from` or Last-Event-ID; a `reset` event when a new attempt starts; an `end` event at the build\'s end)', params: idParams, query: logQuery, response: { schema: textResponse, type: 'text/plain', also: { 'text/event-stream': textResponse } }, examples: { params: { id: task }, query: { tail: '100' } } },
  'POST /api/tasks/:id/retry': { summary: 'a failed or cancelled task becomes a new attempt', params: idParams, body: noBody, response: { schema: taskCommandResponse }, examples: { response: { taskId: task, status: 'new' },  params: { id: task } } },
  'POST /api/tasks/:id/cancel': { summary: 'cancel a task; a running build is stopped', params: idParams, body: noBody, response: { schema: taskCommandResponse }, examples: { params: { id: task } } },
  'POST /codec/decode': { summary: "Temporal's remote codec protocol: decrypt payloads", body: payloadsBody, response: { schema: payloadsResponse }, examples: { body: { payloads: [] } } },
  'POST /codec/encode': { summary: "Temporal's remote codec protocol: encrypt payloads", body: payloadsBody, response: { schema: payloadsResponse }, examples: { body: { payloads: [{ metadata: { encoding: 'anNvbi9wbGFpbg==' }, data: 'e30=' }] } } },
  ...ADMIN_DOCS,
  'GET /api/verifications': { summary: 'verification builds, newest first: result (identical, different, skipped, failed, running), both builders, the differing files', query: verificationListQuery, response: { schema: verificationsResponse }, examples: { query: { result: 'different', limit: '20' } } },
  'POST /api/tasks/:id/verify': { summary: 'rebuild a published build on another builder and compare its packages file by file (202; its own workflow verify-<build id>-<n>)', params: idParams, body: noBody, response: { status: 202, schema: verificationStartResponse }, examples: { params: { id: task } } },
  ...REGISTRY_DOCS,
  ...FARM_DOCS,
  ...TRY_DOCS,
  'GET /api/openapi.json': { summary: 'this document: OpenAPI 3.1, generated from the schemas the routes validate with', query: noQuery, response: { schema: openApiResponse } },
  'GET /api/docs': { summary: 'interactive API docs (Swagger UI, served from this API: no CDN)', query: noQuery, response: { schema: textResponse, type: 'text/html' } },
  'GET /api/docs/:asset': { summary: "the docs page's scripts and styles", params: docsAsset, query: noQuery, response: { schema: textResponse, type: 'application/octet-stream' }, examples: { params: { asset: 'swagger-ui.css' } } },
};
