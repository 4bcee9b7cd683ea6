import { z } from 'zod';
import { ROLES } from '../../core/auth/roles';
import { TASK_STATUSES } from '../../core/task/state';

/**
 * What the routes answer on success, as zod schemas: api/openapi.ts writes them into /api/openapi.json, and the
 * tests check real answers against them (test/api-routes.test.ts validates every 2xx JSON body it receives with
 * the schema of the route that sent it, test/openapi.test.ts every documented response example). Objects are
 * loose: they name the fields clients may rely on, and a field added later does not break an old client.
 * Dates travel as ISO strings (JSON), counts as integers.
 */
const date = z.iso.datetime({ offset: true });
const nullableDate = date.nullable();
const count = z.number().int().min(0);

/** A task row as the API lists it (GET /api/tasks items, GET /api/tasks/:id `task`). */
export const taskResponse = z.looseObject({
  id: z.string(),
  project: z.string(),
  repository: z.string(),
  source: z.string(),
  version: z.string(),
  release: z.number().int(),
  isa: z.string(),
  index: z.string(),
  commit: z.string(),
  status: z.enum(TASK_STATUSES),
  attempts: count,
  priority: z.number().int().optional(),
  builder: z.string().nullable().optional(),
  reason: z.string().nullable().optional(),
  createdAt: date,
});

export const taskEventResponse = z.looseObject({ task: z.string(), from: z.string().nullable(), to: z.string(), reason: z.string().nullable().optional(), at: date });

/** Who, when, why an admin held something back (a pause, a drain). */
export const holdResponse = z.looseObject({ by: z.string(), reason: z.string().nullable(), at: date });

export const taskListResponse = z.looseObject({
  items: z.array(taskResponse),
  total: count,
  totalExact: z.boolean(),
  totalAt: date,
  limit: count,
  offset: count,
  nextCursor: z.string().nullable(),
});

export const taskDetailResponse = z.looseObject({
  task: taskResponse,
  events: z.array(taskEventResponse),
  approval: z.looseObject({ by: z.string(), at: date }).nullable(),
});

/** retry, cancel: what the hub made of the command. */
export const taskCommandResponse = z.looseObject({ taskId: z.string(), status: z.string() });

export const healthResponse = z.looseObject({
  status: z.enum(['ok', 'degraded', 'down']),
  database: z.looseObject({ ok: z.boolean(), detail: z.string().optional() }),
  hub: z.looseObject({ ok: z.boolean(), state: z.string() }),
});

export const projectsResponse = z.looseObject({ items: z.array(z.looseObject({ id: z.string(), repositories: count })) });

export const builderResponse = z.looseObject({
  id: z.string(),
  isaLevels: z.array(z.string()),
  slots: count,
  busy: count,
  lastSeen: date,
  admitting: z.boolean(),
  drained: holdResponse.nullable(),
});
export const buildersResponse = z.looseObject({ items: z.array(builderResponse) });

export const repositoryResponse = z.looseObject({ id: z.string(), project: z.string(), url: z.string(), ref: z.string() });
export const repositoriesResponse = z.looseObject({
  items: z.array(repositoryResponse.extend({ paused: holdResponse.nullable(), protectedPackages: z.array(z.string()) })),
});
const adminEvent = z.looseObject({ subject: z.string(), action: z.string(), by: z.string(), at: date });
export const repositoryDetailResponse = repositoryResponse.extend({
  invalidRecipes: z.array(z.looseObject({ path: z.string(), errors: z.array(z.string()) })),
  paused: holdResponse.nullable(),
  protectedPackages: z.array(z.string()),
  events: z.array(adminEvent),
});

export const repositoryCyclesResponse = z.looseObject({
  repository: z.string(),
  commit: z.string().nullable(),
  recipes: count,
  cycles: z.array(z.looseObject({})),
  unresolved: count,
});

/** A push or a refresh: whether the hub was asked to read the repository, and why not. */
export const refreshResponse = z.looseObject({ repository: z.string(), queued: z.boolean(), reason: z.string().optional() });

export const tokenResponse = z.looseObject({
  id: z.string(),
  name: z.string(),
  role: z.enum(ROLES),
  repositories: z.array(z.string()).nullable(),
  createdAt: date,
  expiresAt: nullableDate,
  revokedAt: nullableDate,
});
export const newTokenResponse = tokenResponse.extend({ token: z.string().min(32) });
export const tokensResponse = z.looseObject({ items: z.array(tokenResponse) });
export const identityResponse = z.looseObject({ name: z.string(), role: z.enum(ROLES), repositories: z.array(z.string()).nullable() });

const waveProgress = z.looseObject({ total: count, done: count, failed: count, dropped: count, open: count });
export const waveResponse = z.looseObject({ id: z.string(), repository: z.string(), status: z.string(), createdAt: date, progress: waveProgress });
export const wavesResponse = z.looseObject({ items: z.array(waveResponse) });
export const waveDetailResponse = z.looseObject({ wave: z.looseObject({ id: z.string(), status: z.string() }), progress: waveProgress, tasks: z.array(z.looseObject({ id: z.string(), status: z.string() })), removals: z.unknown() });
export const waveCommandResponse = z.looseObject({});

export const indexHistoryResponse = z.looseObject({
  index: z.string(),
  histories: z.array(z.looseObject({})),
  streams: z.record(z.string(), z.string()),
  tags: z.record(z.string(), z.string()),
});
export const pruneResponse = indexHistoryResponse.or(z.looseObject({ index: z.string(), dryRun: z.boolean(), keep: count, kept: z.array(z.string()), removedHistories: z.array(z.string()), history: indexHistoryResponse }));
export const indexEventsResponse = z.looseObject({ items: z.array(z.looseObject({ index: z.string(), command: z.string(), by: z.string(), outcome: z.string() })) });

export const webhookSecretResponse = z.looseObject({ repository: z.string(), secret: z.string() });
export const webhookDeliveryResponse = z.looseObject({ event: z.string(), delivery: z.string().nullable(), results: z.array(refreshResponse) });

/** Pause, resume, drain: the subject, its hold now (null when released) and whether the command changed it. */
export const holdCommandResponse = z.looseObject({ changed: z.boolean() });
export const priorityResponse = z.looseObject({ taskId: z.string(), status: z.string(), priority: z.number().int() });
export const approveResponse = z.looseObject({ taskId: z.string(), status: z.string(), approved: z.looseObject({ by: z.string(), at: date }), changed: z.boolean() });
export const protectResponse = z.looseObject({ repository: z.string(), protectedPackages: z.array(z.string()) });
export const farmResponse = z.looseObject({
  paused: holdResponse.nullable(),
  pausedRepositories: z.array(holdResponse.extend({ id: z.string() })),
  drainedBuilders: z.array(holdResponse.extend({ id: z.string() })),
  events: z.array(adminEvent),
});

export const payloadsResponse = z.looseObject({ payloads: z.array(z.looseObject({ metadata: z.record(z.string(), z.string()).optional(), data: z.string().optional() })) });

/** Routes that answer text: an HTML page, a log, a Prometheus exposition, a script. */
export const textResponse = z.string();
/** The OpenAPI document itself. */
export const openApiResponse = z.looseObject({ openapi: z.literal('3.1.0'), paths: z.record(z.string(), z.unknown()) });

/** A try-build (api/services/tries.ts TryView). */
export const tryResponse = z.looseObject({
  name: z.string(), seq: count, repository: z.string(), ref: z.string(), commit: z.string().nullable(), index: z.string(), status: z.string(),
  waveId: z.string().nullable(), tasks: count, histories: z.array(z.looseObject({ index: z.string(), historyId: z.string() })), reason: z.string().nullable(),
  by: z.string(), createdAt: date, expiresAt: date, expiredAt: nullableDate, workflowId: z.string(),
});
export const triesResponse = z.looseObject({ items: z.array(tryResponse) });
export const trySweepResponse = z.looseObject({ dryRun: z.boolean(), expired: z.array(z.looseObject({ name: z.string(), expiresAt: date })), orphans: z.array(z.unknown()) });

/** A verification build (db/verification-store.ts VerificationView). */
export const verificationResponse = z.looseObject({
  id: z.string(), buildId: z.string(), n: count, repository: z.string(), by: z.string(), result: z.string(),
  originalBuilder: z.string().nullable(), verifier: z.string().nullable(), reason: z.string().nullable(), packages: count.nullable(), files: count.nullable(),
  differenceCount: count, differences: z.array(z.looseObject({ package: z.string(), path: z.string(), what: z.array(z.string()) })), startedAt: date, finishedAt: nullableDate,
});
export const verificationsResponse = z.looseObject({ items: z.array(verificationResponse) });
export const verificationStartResponse = z.looseObject({ id: z.string(), buildId: z.string(), n: count, by: z.string() });

/** The builder registry (api/routes/builder-registry.ts). */
export const enrolmentTokenResponse = z.looseObject({ id: z.string(), token: z.string().min(32), trust: z.string(), expiresAt: date });
export const enrolledResponse = z.looseObject({ builderId: z.string(), trust: z.string(), state: z.string(), enrolledAt: date });
export const standingResponse = z.looseObject({
  builderId: z.string(), enrolled: z.boolean(), trust: z.string().nullable(), state: z.string().nullable(), publicKey: z.string().nullable(), enrolledAt: nullableDate,
  revoked: z.looseObject({ by: z.string(), reason: z.string().nullable(), at: date }).nullable(), drained: z.looseObject({}).nullable(),
});
export const builderStandingCommandResponse = z.looseObject({ builder: z.string(), trust: z.string(), state: z.string(), changed: z.boolean() });
