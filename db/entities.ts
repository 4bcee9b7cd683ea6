import { defineEntity, type InferEntity } from '@mikro-orm/core';
import type { BuilderHealth } from '../core/builder/health';

/**
 * Summit's read model. Temporal owns the pipeline's state; these tables are what the workflows' activities
 * record of it, so the API and dashboards can list, filter and page without asking Temporal. Written for both
 * drivers (PostgreSQL in production, the embedded libsql file for `npm start`): JSON columns, no arrays.
 */

export const Repository = defineEntity({
  name: 'Repository',
  tableName: 'repositories',
  properties: (p) => ({
    /** Short name, unique in its project; part of every build id. */
    id: p.string().primary(),
    project: p.string().index(),
    /** Where summit fetches from: a path or any URL git understands. */
    url: p.string(),
    /** Branch or ref watched; HEAD of the remote by default. */
    ref: p.string().default('HEAD'),
    /** Rebuild reverse dependencies when a recipe changes (opt-in). */
    cascade: p.boolean().default(false),
    /**
     * Recipes of this repository saying `networking: true` may have the network (opt-in), where their builder
     * allows it too (SUMMIT_BUILD_NETWORK). Added to older databases by the safe schema update at open.
     */
    networking: p.boolean().default(false),
    /**
     * Promote policy (issue 9, item 5): `unstable` moves `unstable` to a wave's new history when the wave ended with
     * every build published (none failed, dropped or left out) and its histories passed the closure check; null: only
     * admins promote.
     */
    promote: p.string().nullable(),
    /**
     * A declared base repository (issue 9, item 6): another index whose packages satisfy this repository's closure
     * check (e.g. `main` for a repository of add-ons built on it); null: none besides the variant's own base.
     */
    base: p.string().nullable(),
    /**
     * Verification builds of its published builds (core/build/verification.ts VerifyPolicy): a sample rate and
     * packages always verified; null: none but those an admin asks for.
     */
    verify: p.json<{ sampleRate?: number; packages?: string[] }>().nullable(),
    lastCommit: p.string().nullable(),
    lastRefreshAt: p.datetime().nullable(),
    createdAt: p.datetime().onCreate(() => new Date()),
  }),
});

export const Recipe = defineEntity({
  name: 'Recipe',
  tableName: 'recipes',
  uniques: [{ properties: ['repository', 'source'] }],
  properties: (p) => ({
    id: p.integer().primary().autoincrement(),
    repository: p.string().index(),
    source: p.string(),
    version: p.string(),
    release: p.integer(),
    commit: p.string(),
    /** Folder of the recipe inside the repository. */
    path: p.string(),
    /** Emitted packages with provides/depends/buildDepends (from the committed manifest, or derived). */
    packages: p.json<Array<{ name: string; provides: string[]; depends: string[]; buildDepends: string[] }>>(),
    /** True when no manifest was committed and the lists were derived from stone.yaml alone. */
    derived: p.boolean().default(false),
    architectures: p.json<string[]>(),
    /**
     * Git object ids of the stone.yaml and of the manifest read with it (null: none, or a row from before they
     * were kept): a later intake whose tree has the same blobs at the same path reuses the row unparsed.
     */
    blob: p.string().nullable(),
    manifestBlob: p.string().nullable(),
    updatedAt: p.datetime().onCreate(() => new Date()).onUpdate(() => new Date()),
  }),
});

/**
 * What each repository's recipe snapshot was read from: the commit, the limits it was read under, and a
 * generation bumped by every replacement (in the same transaction as the recipes). Intake skips a commit it has
 * read under the same limits; planning reloads a repository's recipes only when its generation moved.
 */
export const RecipeSnapshot = defineEntity({
  name: 'RecipeSnapshot',
  tableName: 'recipe_snapshots',
  properties: (p) => ({
    repository: p.string().primary(),
    commit: p.string(),
    /** The intake limits the tree was read under (a stricter or looser size or parse limit reads it again). */
    readWith: p.string(),
    generation: p.integer(),
    recipes: p.integer(),
    at: p.datetime().onCreate(() => new Date()).onUpdate(() => new Date()),
  }),
});

/**
 * Recipes of a repository that intake could not use, with the reasons, as read at the repository's last
 * refresh: what GET /api/repositories/:id shows a packager. Replaced as a whole by each refresh.
 */
export const InvalidRecipe = defineEntity({
  name: 'InvalidRecipe',
  tableName: 'invalid_recipes',
  uniques: [{ properties: ['repository', 'path'] }],
  properties: (p) => ({
    id: p.integer().primary().autoincrement(),
    repository: p.string().index(),
    /** The stone.yaml's path inside the repository. */
    path: p.text(),
    commit: p.string(),
    errors: p.json<string[]>(),
    at: p.datetime().onCreate(() => new Date()),
  }),
});

export const Task = defineEntity({
  name: 'Task',
  tableName: 'tasks',
  // The task list's order (createdAt desc, id desc) alone and after each of its filters, so that a page and its
  // keyset cursor are an index range, not a full scan and sort. Created on older databases by the safe schema
  // update at open.
  indexes: [
    { name: 'tasks_created_at_id_index', properties: ['createdAt', 'id'] },
    { name: 'tasks_status_created_at_id_index', properties: ['status', 'createdAt', 'id'] },
    { name: 'tasks_repository_created_at_id_index', properties: ['repository', 'createdAt', 'id'] },
    { name: 'tasks_source_created_at_id_index', properties: ['source', 'createdAt', 'id'] },
    // Planning reads only the completions since its last round (durations, what each index publishes).
    { name: 'tasks_status_finished_at_index', properties: ['status', 'finishedAt'] },
    // Intake's question per repository: the tasks of its sources and the newest completed release of each.
    { name: 'tasks_repository_status_index', properties: ['repository', 'status'] },
  ],
  properties: (p) => ({
    /** The build id, also the build workflow's id. */
    id: p.string().primary(),
    project: p.string().index(),
    repository: p.string().index(),
    source: p.string().index(),
    version: p.string(),
    release: p.integer(),
    isa: p.string(),
    /** The index (profile variant) the packages publish to. */
    index: p.string(),
    commit: p.string(),
    recipePath: p.string(),
    status: p.string().index(),
    attempts: p.integer().default(0),
    builder: p.string().nullable(),
    priority: p.double().default(0),
    logPath: p.string().nullable(),
    logTail: p.text().nullable(),
    reason: p.text().nullable(),
    supersededBy: p.string().nullable(),
    published: p.json<Array<{ name: string; uri: string; sha256: string; size: number }>>().nullable(),
    createdAt: p.datetime().onCreate(() => new Date()),
    startedAt: p.datetime().nullable(),
    builtAt: p.datetime().nullable(),
    finishedAt: p.datetime().nullable(),
    updatedAt: p.datetime().onCreate(() => new Date()).onUpdate(() => new Date()),
    /** The wave (db/wave-store.ts) that publishes this build; null for tasks recorded before waves. */
    wave: p.string().nullable().index(),
    /**
     * The planning run (workflow, run, activity id) that queued the task: a run of the same activity again (its
     * workflow task failed, its worker died after planning committed) decides that dispatch again instead of
     * leaving the task queued with no build workflow (activities/summit/planning.ts).
     */
    dispatchKey: p.string().nullable(),
  }),
});

/**
 * A rebuild wave (core/contracts/wave.ts): the builds of one push, cascade or rebuild request, published together.
 * Its tasks point at it (Task.wave); the wave workflow of the same id records here what it did.
 */
export const Wave = defineEntity({
  name: 'Wave',
  tableName: 'waves',
  indexes: [{ name: 'waves_created_at_id_index', properties: ['createdAt', 'id'] }],
  properties: (p) => ({
    /** `wave-<repository>-<commit12>` (a later round of the same commit: `-<n>`), also its workflow id. */
    id: p.string().primary(),
    repository: p.string().index(),
    commit: p.string(),
    /** Who made it: hook, poll, api, start, retry. */
    origin: p.string(),
    status: p.string().index(),
    /** Packages of recipes removed from the repository, taken out of the next history. */
    removals: p.json<Array<{ index: string; source: string; packages: string[] }>>(),
    /** Recipes rebuilt because a dependency changed (cascade), with their cause. */
    cascade: p.json<Array<{ source: string; cause: string; depth: number }>>().nullable(),
    /** The closure reports vessel answered while the wave waits (status waiting-for-closure). */
    closure: p.json<Array<{ index: string; unresolved: Array<{ dependency: string; neededBy: string[] }> }>>().nullable(),
    /** The histories it wrote, per index, in order (an early publish of the finished part comes first). */
    histories: p.json<Array<{ index: string; historyId: string; builds: number; at: string; resolvedByBase?: Array<{ base: string; dependencies: string[] }> }>>(),
    /** Tasks already published by this wave (an early publish): the final publish leaves them out. */
    publishedTasks: p.json<string[]>(),
    /** Builds its publish left out, and why. */
    skipped: p.json<Array<{ taskId: string; reason: string }>>(),
    reason: p.text().nullable(),
    /** The wave workflow's last estimate of the time left (ms; null: unknown) and when it made it. */
    estimate: p.json<{ etaMs: number | null; at: string }>().nullable(),
    createdAt: p.datetime().onCreate(() => new Date()),
    startedAt: p.datetime().nullable(),
    finishedAt: p.datetime().nullable(),
    updatedAt: p.datetime().onCreate(() => new Date()).onUpdate(() => new Date()),
  }),
});

/** Every status change of every task, in order: the audit trail and the source of build timings. */
export const TaskEvent = defineEntity({
  name: 'TaskEvent',
  tableName: 'task_events',
  properties: (p) => ({
    id: p.integer().primary().autoincrement(),
    task: p.string().index(),
    from: p.string().nullable(),
    to: p.string(),
    reason: p.text().nullable(),
    at: p.datetime().onCreate(() => new Date()),
  }),
});

export const Builder = defineEntity({
  name: 'Builder',
  tableName: 'builders',
  properties: (p) => ({
    id: p.string().primary(),
    host: p.string(),
    isaLevels: p.json<string[]>(),
    slots: p.integer(),
    busy: p.integer().default(0),
    diskFree: p.bigint('number').nullable(),
    /** Load, memory, disk and pressure as its last heartbeat reported them (core/builder/health.ts). */
    health: p.json<BuilderHealth>().nullable(),
    lastSeen: p.datetime(),
  }),
});

/**
 * API tokens (db/token-store.ts): only the SHA-256 of each secret is kept, so a copy of the database gives no
 * working token. Revoked tokens stay, with when and by whom, for the audit trail; nothing is ever deleted.
 */
export const ApiToken = defineEntity({
  name: 'ApiToken',
  tableName: 'api_tokens',
  properties: (p) => ({
    id: p.string().primary(),
    /** Shown in task events as who asked; not unique (a rotated token may keep its name). */
    name: p.string(),
    /** viewer, contributor, builder or admin (core/auth/roles.ts). */
    role: p.string(),
    /** Repositories a contributor's rights cover; null: every repository. */
    repositories: p.json<string[]>().nullable(),
    /** Hex SHA-256 of the secret: what each request is looked up by. */
    hash: p.string().unique(),
    /** `api` (created through POST /api/tokens) or `bootstrap` (imported from <data>/tokens.json). */
    origin: p.string().default('api'),
    createdBy: p.string().nullable(),
    createdAt: p.datetime().onCreate(() => new Date()),
    expiresAt: p.datetime().nullable(),
    revokedAt: p.datetime().nullable(),
    revokedBy: p.string().nullable(),
  }),
});

/**
 * A repository's webhook secret (api/routes/webhooks.ts), sealed with a key derived from the payload keys
 * (core/security/secret-box.ts): verifying a signature needs the secret itself, and the database alone does not
 * reveal it.
 */
export const WebhookSecret = defineEntity({
  name: 'WebhookSecret',
  tableName: 'webhook_secrets',
  properties: (p) => ({
    repository: p.string().primary(),
    sealed: p.text(),
    createdBy: p.string().nullable(),
    createdAt: p.datetime().onCreate(() => new Date()).onUpdate(() => new Date()),
  }),
});

/**
 * Webhook deliveries already taken, by the forge's delivery id and by the digest of the signed body, so that a
 * captured delivery sent again is refused whatever delivery id it carries. Rows older than 30 days are pruned.
 */
export const WebhookDelivery = defineEntity({
  name: 'WebhookDelivery',
  tableName: 'webhook_deliveries',
  properties: (p) => ({
    /** `<provider>:delivery:<id>` or `<provider>:body:<sha256>`. */
    key: p.string().primary(),
    at: p.datetime().index().onCreate(() => new Date()),
  }),
});

/**
 * An admin's hold on part of the farm, in force until lifted: the whole farm paused (`farm`), a repository paused
 * (`repository:<id>`), a builder drained (`builder:<id>`). Planning reads them every round (core/planning/admin.ts).
 */
export const AdminHold = defineEntity({
  name: 'AdminHold',
  tableName: 'admin_holds',
  properties: (p) => ({
    subject: p.string().primary(),
    by: p.string(),
    reason: p.text().nullable(),
    at: p.datetime().onCreate(() => new Date()),
  }),
});

/** Package names or globs of a repository whose builds wait for an admin's approval (toolchain packages). */
export const RepositoryProtection = defineEntity({
  name: 'RepositoryProtection',
  tableName: 'repository_protections',
  properties: (p) => ({
    repository: p.string().primary(),
    packages: p.json<string[]>(),
    by: p.string(),
    at: p.datetime().onCreate(() => new Date()).onUpdate(() => new Date()),
  }),
});

/** An admin's approval of one task (one build id: a new release is a new task and needs its own). */
export const TaskApproval = defineEntity({
  name: 'TaskApproval',
  tableName: 'task_approvals',
  properties: (p) => ({
    task: p.string().primary(),
    by: p.string(),
    reason: p.text().nullable(),
    at: p.datetime().onCreate(() => new Date()),
  }),
});

/** What admins did to the farm, repositories and builders (task commands are task events): who, when, why. */
export const AdminEvent = defineEntity({
  name: 'AdminEvent',
  tableName: 'admin_events',
  indexes: [{ name: 'admin_events_subject_id_index', properties: ['subject', 'id'] }],
  properties: (p) => ({
    id: p.integer().primary().autoincrement(),
    /** `farm`, `repository:<id>`, `builder:<id>`. */
    subject: p.string(),
    action: p.string(),
    by: p.string(),
    reason: p.text().nullable(),
    at: p.datetime().onCreate(() => new Date()),
  }),
});

/**
 * A build's log as summit knows it: where the running attempt's log is read (the builder's artefact server and a
 * token of the build, from the pickup), then the sealed log collected from there when the attempt ended
 * (redacted, zstd-compressed), so the API serves it wherever it runs, after the builder cleaned up.
 */
export const TaskLog = defineEntity({
  name: 'TaskLog',
  tableName: 'task_logs',
  properties: (p) => ({
    task: p.string().primary(),
    builder: p.string().nullable(),
    url: p.string().nullable(),
    token: p.text().nullable(),
    attempt: p.integer().default(0),
    /** The collected log: one zstd frame of the redacted log. */
    collected: p.blob().nullable(),
    plainBytes: p.bigint('number').nullable(),
    collectedAt: p.datetime().nullable(),
    updatedAt: p.datetime().onCreate(() => new Date()).onUpdate(() => new Date()),
  }),
});

/**
 * Every admin command on a published repository (promote, tag, rollback, prune; issue 9 streams): who asked,
 * when, with what, and how it ended. Written by the API once vessel has answered (db/index-event-store.ts).
 */
export const IndexEvent = defineEntity({
  name: 'IndexEvent',
  tableName: 'index_events',
  indexes: [{ name: 'index_events_index_id_index', properties: ['index', 'id'] }],
  properties: (p) => ({
    id: p.integer().primary().autoincrement(),
    index: p.string(),
    command: p.string(),
    params: p.json<Record<string, unknown>>(),
    by: p.string(),
    /** ok | refused | failed */
    outcome: p.string(),
    detail: p.text().nullable(),
    /** What the streams named after the command (stream → history id), when it succeeded. */
    streams: p.json<Record<string, string>>().nullable(),
    at: p.datetime().onCreate(() => new Date()),
  }),
});


/**
 * Try-builds (issue 9, item 7; core/contracts/try.ts): a branch or pull-request ref of a registered repository
 * built into the throw-away index `try/<name>`. A name is held by one live try at a time; `seq` numbers the tries
 * that ever held it, so a name used again after its try expired gets build ids of its own (`key`).
 */
export const TryBuild = defineEntity({
  name: 'TryBuild',
  tableName: 'try_builds',
  uniques: [{ properties: ['name', 'seq'] }],
  properties: (p) => ({
    id: p.integer().primary().autoincrement(),
    name: p.string().index(),
    seq: p.integer(),
    /** The registered repository whose ref is built. */
    repository: p.string().index(),
    ref: p.string(),
    /** The commit the ref resolved to (null until read). */
    commit: p.string().nullable(),
    /** `try/<name>`. */
    index: p.string(),
    /** Its recipes' and tasks' repository key in the read model (`try~<name>~<seq>`). */
    key: p.string().index(),
    status: p.string().index(),
    waveId: p.string().nullable(),
    /** Tasks made (what differs from the main line). */
    tasks: p.integer().default(0),
    /** The histories its wave wrote in its index. */
    histories: p.json<Array<{ index: string; historyId: string }>>(),
    reason: p.text().nullable(),
    by: p.string(),
    createdAt: p.datetime().onCreate(() => new Date()),
    expiresAt: p.datetime(),
    expiredAt: p.datetime().nullable(),
  }),
});

/**
 * A verification build (issue 10, core/contracts/verification.ts): a published build rebuilt on another builder
 * and compared file by file. One row per verification, keyed by its workflow id `verify-<build id>-<n>`; written by
 * the verification workflow's summit activities (db/verification-store.ts).
 */
export const Verification = defineEntity({
  name: 'Verification',
  tableName: 'verifications',
  indexes: [{ name: 'verifications_original_builder_finished_index', properties: ['originalBuilder', 'finishedAt'] }],
  properties: (p) => ({
    id: p.string().primary(),
    buildId: p.string().index(),
    n: p.integer(),
    repository: p.string(),
    /** `policy` or `admin:<token name>`. */
    by: p.string(),
    /** running | identical | different | skipped | failed */
    result: p.string().index(),
    /** Who built the published build, and who rebuilt it. */
    originalBuilder: p.string().nullable(),
    verifier: p.string().nullable(),
    reason: p.text().nullable(),
    packages: p.integer().nullable(),
    files: p.integer().nullable(),
    differenceCount: p.integer().default(0),
    /** The first differences (path and what differs), bounded (core/build/verification.ts). */
    differences: p.json<Array<{ package: string; path: string; what: string[] }>>().nullable(),
    startedAt: p.datetime().onCreate(() => new Date()),
    finishedAt: p.datetime().nullable(),
  }),
});

/**
 * One-time enrolment tokens (db/builder-registry-store.ts): an admin issues one for a trust level; a builder spends
 * it once to register its public key. Only the SHA-256 of the secret is kept.
 */
export const BuilderEnrolment = defineEntity({
  name: 'BuilderEnrolment',
  tableName: 'builder_enrolments',
  properties: (p) => ({
    id: p.string().primary(),
    hash: p.string().unique(),
    /** trusted or community (core/contracts/trust.ts): the level the builder enrolling with it gets. */
    trust: p.string(),
    createdBy: p.string(),
    createdAt: p.datetime().onCreate(() => new Date()),
    expiresAt: p.datetime(),
    /** When spent, and by which builder: a token enrols once. */
    usedAt: p.datetime().nullable(),
    usedBy: p.string().nullable(),
  }),
});

/**
 * The builder registry: each enrolled builder's identity (its Ed25519 public key), trust level and state. The
 * `builders` table stays the liveness record (heartbeats); this is who a builder is and what it may build.
 */
export const EnrolledBuilder = defineEntity({
  name: 'EnrolledBuilder',
  tableName: 'enrolled_builders',
  properties: (p) => ({
    id: p.string().primary(),
    /** The builder's Ed25519 public key: base64 of its DER (SPKI) encoding. */
    publicKey: p.text(),
    trust: p.string(),
    /** enrolled or revoked (core/trust/standing.ts). */
    state: p.string(),
    enrolment: p.string(),
    enrolledAt: p.datetime(),
    trustChangedBy: p.string().nullable(),
    trustChangedAt: p.datetime().nullable(),
    revokedBy: p.string().nullable(),
    revokedReason: p.text().nullable(),
    revokedAt: p.datetime().nullable(),
  }),
});

/**
 * One version per group of small tables another process writes (db/change-markers.ts), bumped by each writer in
 * the transaction of its change, so that readers keeping those tables in memory know when to read them again.
 */
export const ChangeMarker = defineEntity({
  name: 'ChangeMarker',
  tableName: 'change_markers',
  properties: (p) => ({
    group: p.string().primary(),
    version: p.integer().default(0),
  }),
});

export const ENTITIES = [Repository, Recipe, RecipeSnapshot, InvalidRecipe, Task, TaskEvent, Builder, ApiToken, WebhookSecret, WebhookDelivery, AdminHold, RepositoryProtection, TaskApproval, AdminEvent, TaskLog, IndexEvent, Wave, TryBuild, Verification, BuilderEnrolment, EnrolledBuilder, ChangeMarker];

/** A task as the read model holds it. */
export type TaskRow = InferEntity<typeof Task>;
