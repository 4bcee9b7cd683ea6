import { availableParallelism } from 'node:os';
import { join, posix } from 'node:path';
import { buildId } from '../../core/contracts/ids';
import type { RefreshRequest } from '../../core/contracts/hub';
import type { IntakeProgress, IntakeResult, InvalidRecipe } from '../../core/contracts/summit';
import { formatDependency } from '../../core/formats/dependency';
import { recipeDependencies } from '../../core/formats/recipe';
import { DEFAULT_RECIPE_MAX_BYTES, sizeProblem } from '../../core/formats/recipe-limits';
import { decideTree, needsTask, type WantedTask } from '../../core/intake/tasks';
import type { TaskStatus } from '../../core/task/state';
import type { RecipeRow, Store } from '../../db/store';
import type { WaveRow } from '../../db/wave-store';
import { listTree, readBlobs, resolveCommit, syncMirror, type TreeBlob } from './git';
import { sharedParsers, type ParseOutcome } from './recipe-parser';
import { Variant } from '../../core/variants';
import { buildGraph } from '../../core/graph/graph';
import { rebuildCascade } from '../../core/graph/cascade';

export interface IntakeLimits {
  /** Largest stone.yaml or manifest read (bytes); bigger ones are invalid from their size, unread. */
  maxBytes: number;
  parseTimeoutMs: number;
  parseMemoryMb: number;
}

export const DEFAULT_INTAKE_LIMITS: IntakeLimits = { maxBytes: DEFAULT_RECIPE_MAX_BYTES, parseTimeoutMs: 10_000, parseMemoryMb: 256 };

/**
 * When a repository with `cascade` on rebuilds the reverse dependencies of a changed recipe: `provides` only when
 * what the recipe provides changed (its packages' names or provides), `always` on every new release.
 */
export type CascadePolicy = 'provides' | 'always';

export interface IntakeDeps {
  store: Store;
  cascadePolicy?: CascadePolicy;
  /** Folder holding the bare mirrors: `<mirrors>/<repository>.git`. */
  mirrorsDir: string;
  variants: readonly Variant[];
  limits?: IntakeLimits;
}

/** Workflow payloads stay small: the full list is persisted and served by GET /api/repositories/:id. */
const RESULT_INVALID_LIMIT = 100;
const MAX_ERROR_LENGTH = 1000;
/** Bytes asked of one `git cat-file --batch`: bounds the memory one read holds (files are capped one by one). */
const READ_BATCH_BYTES = 32 * 1024 * 1024;
/** The manifest boulder writes for an architecture's baseline (core/build/artefact-names.ts). */
const manifestOf = (architecture: string): string => `manifest.${architecture}.bin`;
/** The architectures of the default profile (core/profile.ts): intake before profiles read manifest.x86_64.bin. */
const DEFAULT_ARCHITECTURES: readonly string[] = ['x86_64'];
/** Parser threads of one intake at most (never more than the machine's cores, nor one per 64 recipes). */
const PARSER_THREADS = 4;

type RecipeSnapshot = Omit<RecipeRow, 'id' | 'repository' | 'updatedAt'>;

export function mirrorPath(mirrorsDir: string, repository: string): string {
  return join(mirrorsDir, `${repository}.git`);
}

/**
 * Read every recipe of a repository at one commit: stone.yaml plus the committed manifest when present: the first of
 * `manifest.<arch>.bin` for the profile's architectures in profile order (`architectures`, default x86_64). A
 * recipe's packages are one set for every architecture: the graph resolves each architecture's builds among
 * themselves, and a manifest names the same packages and dependency edges on each (only the soname suffix
 * differs), so the first architecture's manifest orders every architecture's builds. Git is
 * asked a constant number of times (one tree listing, then one blob reader per 32 MiB), sizes are checked before
 * anything is read, and parsing happens in the parser thread. Every problem with one recipe makes that recipe
 * invalid with its reason; the others go on.
 */
export async function readRecipesAt(
  mirror: string,
  commit: string,
  opts: { limits?: IntakeLimits; onProgress?: (read: number, total: number) => void; known?: readonly RecipeRow[]; architectures?: readonly string[] } = {},
): Promise<{ recipes: RecipeSnapshot[]; invalid: InvalidRecipe[]; parsed: number }> {
  const limits = opts.limits ?? DEFAULT_INTAKE_LIMITS;
  const manifests = (opts.architectures ?? DEFAULT_ARCHITECTURES).map(manifestOf);
  const tree = await listTree(mirror, commit);
  const byPath = new Map(tree.map((b) => [b.path, b]));
  const recipeFiles = tree.filter((b) => b.path === 'stone.yaml' || b.path.endsWith('/stone.yaml')).sort((a, b) => (a.path < b.path ? -1 : 1));
  const recipes: RecipeSnapshot[] = [];
  const invalid: InvalidRecipe[] = [];

  // Refuse by size first: an oversized file is never read into memory.
  const readable: Array<{ recipe: TreeBlob; manifest?: TreeBlob }> = [];
  for (const file of recipeFiles) {
    const dir = posix.dirname(file.path);
    const manifest = manifests.map((name) => byPath.get(posix.join(dir, name))).find((m) => m !== undefined);
    const problems = [sizeProblem(file.size, limits.maxBytes), manifest && sizeProblem(manifest.size, limits.maxBytes)];
    if (problems[0]) invalid.push({ path: file.path, errors: [`${file.path}: ${problems[0]}`] });
    else if (problems[1]) invalid.push({ path: file.path, errors: [`${manifest!.path}: ${problems[1]}`] });
    else readable.push({ recipe: file, manifest });
  }

  // A recipe whose stone.yaml and manifest are the very blobs already read at this path is taken as it was read.
  const knownAt = new Map((opts.known ?? []).filter((r) => r.blob).map((r) => [r.path, r]));
  const reuse = (r: { recipe: TreeBlob; manifest?: TreeBlob }): RecipeRow | undefined => {
    const row = knownAt.get(posix.dirname(r.recipe.path));
    return row && row.blob === r.recipe.oid && (row.manifestBlob ?? null) === (r.manifest?.oid ?? null) ? row : undefined;
  };
  const toParse = readable.filter((r) => !reuse(r));
  const outcomes = new Map<string, ParseOutcome>();
  let done = recipeFiles.length - toParse.length;
  opts.onProgress?.(done, recipeFiles.length);
  if (toParse.length > 0) {
    // Parsing is most of a first intake: spread over a few threads (each with its own heap limit and deadlines).
    const threads = Math.max(1, Math.min(PARSER_THREADS, availableParallelism(), Math.ceil(toParse.length / 64)));
    // The process's parser threads, kept warm between intakes (activities/summit/recipe-parser.ts).
    const parsers = sharedParsers({ timeoutMs: limits.parseTimeoutMs, memoryMb: limits.parseMemoryMb }, threads);
    // A thread not running yet loads its modules while git reads the first batch.
    for (const parser of parsers) parser.warm();
    let next = 0;
    for (const batch of batchesBySize(toParse, READ_BATCH_BYTES)) {
      const blobs = await readBlobs(mirror, [...new Set(batch.flatMap((r) => (r.manifest ? [r.recipe.oid, r.manifest.oid] : [r.recipe.oid])))]);
      // All of the batch handed to the parsers at once (each keeps a window of them posted to its thread).
      await Promise.all(batch.map(async ({ recipe: file, manifest }) => {
        const parser = parsers[next++ % parsers.length];
        outcomes.set(file.path, await parser.parse(file.path, blobs.get(file.oid)!, manifest && { file: manifest.path, bytes: blobs.get(manifest.oid)! }));
        opts.onProgress?.(++done, recipeFiles.length);
      }));
    }
  }

  // In path order, so that of two recipes naming the same source the first path keeps it whichever were parsed.
  const sourceAt = new Map<string, string>();
  for (const entry of readable) {
    const file = entry.recipe;
    const dir = posix.dirname(file.path);
    const blobs = { blob: file.oid, manifestBlob: entry.manifest?.oid ?? null };
    const known = reuse(entry);
    let snapshot: RecipeSnapshot;
    if (known) {
      snapshot = { source: known.source, version: known.version, release: known.release, commit, path: dir, packages: known.packages, derived: known.derived, architectures: known.architectures, ...blobs };
    } else {
      const outcome = outcomes.get(file.path)!;
      if (!outcome.ok) {
        invalid.push({ path: file.path, errors: outcome.errors });
        continue;
      }
      const { recipe } = outcome;
      let packages: RecipeSnapshot['packages'];
      let derived = false;
      if (outcome.manifestPackages) {
        packages = outcome.manifestPackages;
      } else {
        // No committed manifest: what the recipe itself declares, marked as derived (a lower bound).
        const deps = recipeDependencies(recipe);
        const buildDepends = deps.buildDepends.map(formatDependency);
        packages = deps.packages.map((p) => ({ name: p.name, provides: p.provides.map(formatDependency), depends: p.depends.map(formatDependency), buildDepends }));
        derived = true;
      }
      snapshot = {
        source: recipe.source.name, version: recipe.source.version, release: recipe.source.release, commit,
        path: dir, packages, derived, architectures: recipe.options.architectures ?? [], ...blobs,
      };
    }
    // Sources are unique in a repository (they key tasks and the recipes table): the first path keeps it.
    const taken = sourceAt.get(snapshot.source);
    if (taken !== undefined) {
      invalid.push({ path: file.path, errors: [`${file.path}: the name "${snapshot.source}" is already used by ${taken}`] });
      continue;
    }
    sourceAt.set(snapshot.source, file.path);
    recipes.push(snapshot);
  }
  invalid.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  for (const bad of invalid) {
    bad.path = printable(bad.path);
    bad.errors = bad.errors.map((e) => printable(e.length > MAX_ERROR_LENGTH ? `${e.slice(0, MAX_ERROR_LENGTH)}…` : e));
  }
  return { recipes, invalid, parsed: toParse.length };
}

/**
 * Reasons quote what hostile files contain; control characters are written as escapes so they reach neither
 * the logs raw nor PostgreSQL, whose JSON type refuses NUL.
 */
function printable(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\u0000-\u0008\u000b-\u001f\u007f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

function* batchesBySize<T extends { recipe: TreeBlob; manifest?: TreeBlob }>(items: T[], maxBytes: number): Generator<T[]> {
  let batch: T[] = [];
  let bytes = 0;
  for (const item of items) {
    const size = item.recipe.size + (item.manifest?.size ?? 0);
    if (batch.length > 0 && bytes + size > maxBytes) {
      yield batch;
      batch = [];
      bytes = 0;
    }
    batch.push(item);
    bytes += size;
  }
  if (batch.length > 0) yield batch;
}

/** The limits a tree is read under, as the snapshot records them: other limits read the same commit again. */
export function readWith(limits: IntakeLimits, architectures: readonly string[] = DEFAULT_ARCHITECTURES): string {
  const read = [limits.maxBytes, limits.parseTimeoutMs, limits.parseMemoryMb];
  // Other architectures pick other manifests; the default profile's reads stay recorded as they were before profiles.
  return JSON.stringify(sameList(architectures, DEFAULT_ARCHITECTURES) ? read : [...read, architectures]);
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/** The architectures of the variants built, in profile order: the manifests intake looks for. */
function architecturesOf(variants: readonly Variant[]): string[] {
  return [...new Set(variants.map((v) => v.architecture))];
}

/**
 * Intake: mirror the repository, read its recipes at the pushed commit, and turn every recipe whose release is
 * missing from, or newer than, what its index holds into a task (one per ISA variant); which tasks are created,
 * updated or superseded is decided in core/intake/tasks.ts. Idempotent: running it twice for the same commit
 * creates nothing new, and a commit already read completely under the same limits is not read again (a poll of
 * an unchanged repository costs a fetch). Recipes whose files are the blobs already read are not parsed again;
 * the tasks of a whole tree are decided from a few queries and written in one transaction.
 */
export async function refreshRepository(deps: IntakeDeps, req: RefreshRequest, onProgress?: (p: IntakeProgress) => void, signal?: AbortSignal): Promise<IntakeResult> {
  const repo = await deps.store.getRepository(req.repository);
  const mirror = mirrorPath(deps.mirrorsDir, repo.id);
  const limits = deps.limits ?? DEFAULT_INTAKE_LIMITS;
  onProgress?.({ stage: 'fetching', read: 0, total: 0 });
  await syncMirror(repo.url, mirror, signal);
  const commit = await resolveCommit(mirror, req.commit ?? repo.ref);
  const snapshot = await deps.store.recipeSnapshot(repo.id);
  const architectures = architecturesOf(deps.variants);
  const sameRead = snapshot?.readWith === readWith(limits, architectures);
  // markRefreshed comes last: lastCommit names a commit whose recipes and tasks were both written.
  if (sameRead && snapshot.commit === commit && repo.lastCommit === commit) {
    const stored = await deps.store.listInvalidRecipes(repo.id);
    await deps.store.markRefreshed(repo.id, commit);
    return {
      repository: repo.id, commit, recipes: snapshot.recipes, created: [], superseded: [], updated: [],
      invalid: stored.slice(0, RESULT_INVALID_LIMIT).map((r) => ({ path: r.path, errors: r.errors })), invalidTotal: stored.length,
    };
  }
  const previous = await deps.store.listRecipes(repo.id);
  const known = sameRead ? previous : [];
  const read = await readRecipesAt(mirror, commit, { limits, known, architectures, onProgress: (n, total) => onProgress?.({ stage: 'reading', read: n, total }) });
  const invalid = read.invalid;
  // The schema already holds recipe names to the build-id rule; this keeps any other refusal of buildId (a
  // project or repository id registered before the rule) a problem of the recipe, not of the whole repository.
  const recipes: Array<RecipeSnapshot & { ids: Map<string, string> }> = [];
  for (const recipe of read.recipes) {
    try {
      const ids = new Map(deps.variants.map((v) => [v.isa, buildId({ project: repo.project, repository: repo.id, source: recipe.source, version: recipe.version, release: recipe.release, isa: v.isa })] as const));
      recipes.push({ ...recipe, ids });
    } catch (err) {
      invalid.push({ path: posix.join(recipe.path, 'stone.yaml'), errors: [`${posix.join(recipe.path, 'stone.yaml')}: ${err instanceof Error ? err.message : String(err)}`] });
    }
  }
  await deps.store.replaceRecipes(repo.id, recipes.map(({ ids: _ids, ...row }) => row), { commit, readWith: readWith(limits, architectures) });
  await deps.store.replaceInvalidRecipes(repo.id, commit, invalid);
  onProgress?.({ stage: 'tasks', read: recipes.length, total: recipes.length });

  const result: IntakeResult = {
    repository: repo.id, commit, recipes: recipes.length, created: [], superseded: [], updated: [],
    invalid: invalid.slice(0, RESULT_INVALID_LIMIT), invalidTotal: invalid.length,
  };
  // Load (a few queries for the whole tree) → decide (core/intake/tasks.ts) → apply in bulk.
  const published = await deps.store.publishedReleases(repo.id);
  const byId = new Map<string, { recipe: (typeof recipes)[number]; variant: Variant; published: number }>();
  const wanted: WantedTask[] = [];
  for (const recipe of recipes) {
    for (const variant of deps.variants) {
      const release = published.get(`${recipe.source}/${variant.isa}`) ?? 0;
      if (!needsTask(recipe.release, release)) continue;
      const id = recipe.ids.get(variant.isa)!;
      byId.set(id, { recipe, variant, published: release });
      wanted.push({ taskId: id, key: `${recipe.source}/${variant.isa}`, release: recipe.release, recipePath: recipe.path, publishedRelease: release });
    }
  }
  const tasks = (await deps.store.intakeTasks(repo.id, wanted.map((w) => w.taskId)))
    .map((t) => ({ id: t.id, key: `${t.source}/${t.isa}`, release: t.release, commit: t.commit, status: t.status as TaskStatus, recipePath: t.recipePath }));
  const decision = decideTree(commit, wanted, tasks);
  // The folder rarely moves: those few are updated one by one, the rest get the commit in one statement.
  await deps.store.moveToCommit(decision.update, commit);
  for (const { taskId, recipePath } of decision.move) await deps.store.updateTask(taskId, { commit, recipePath });
  // The new tasks are created in the commit's wave (one transaction): planning never sees one outside it.
  const wave = await deps.store.createTasks(decision.create.map((id) => {
    const { recipe, variant, published: release } = byId.get(id)!;
    return {
      task: { id, project: repo.project, repository: repo.id, source: recipe.source, version: recipe.version, release: recipe.release, isa: variant.isa, index: variant.index, commit, recipePath: recipe.path },
      reason: `${req.origin}: ${recipe.source} ${recipe.version}-${recipe.release} at ${commit.slice(0, 12)} (published release ${release || 'none'})`,
    };
  }), { wave: { repository: repo.id, commit, origin: req.origin } });
  for (const { taskId: older, by } of decision.supersede) {
    await deps.store.setStatus(older, 'superseded', `replaced by ${by}`, { supersededBy: by });
    result.superseded.push(older);
  }
  result.created.push(...decision.create);
  result.updated.push(...decision.update, ...decision.move.map((m) => m.taskId));
  await intoWave(deps, { repository: repo.id, cascade: repo.cascade, commit, origin: req.origin, previous, recipes, created: decision.create.map((id) => byId.get(id)!), published, wave }, result);
  await deps.store.markRefreshed(repo.id, commit);
  return result;
}

/**
 * Waves (core/contracts/wave.ts): the commit's new tasks, the removed recipes' packages and the cascade's rebuilds
 * go into the commit's wave; older builds of a recipe still in flight are cancelled (a newer release supersedes
 * them; the hub stops their workflows).
 */
async function intoWave(
  deps: IntakeDeps,
  at: {
    repository: string; cascade: boolean; commit: string; origin: string; previous: readonly RecipeRow[];
    recipes: ReadonlyArray<RecipeSnapshot & { ids: Map<string, string> }>;
    created: ReadonlyArray<{ recipe: RecipeSnapshot & { ids: Map<string, string> }; variant: Variant }>;
    published: ReadonlyMap<string, number>;
    /** The wave the new tasks were created in, if any. */
    wave?: WaveRow;
  },
  result: IntakeResult,
): Promise<void> {
  const waves = deps.store.waves;
  const current = new Set(at.recipes.map((r) => r.source));
  const removals = at.previous.filter((r) => !current.has(r.source)).flatMap((r) =>
    deps.variants.filter((v) => (at.published.get(`${r.source}/${v.isa}`) ?? 0) > 0).map((v) => ({ index: v.index, source: r.source, packages: r.packages.map((p) => p.name) })));
  const rebuild = at.cascade ? cascadeOf(at.previous, at.recipes, at.created.map((c) => c.recipe.source), deps.cascadePolicy ?? 'provides') : [];
  const cascadeIds = rebuild.flatMap((e) => {
    const recipe = at.recipes.find((r) => r.source === e.source);
    return recipe ? deps.variants.map((v) => ({ id: recipe.ids.get(v.isa)!, entry: e })) : [];
  });
  if (result.created.length === 0 && removals.length === 0 && cascadeIds.length === 0) return;
  const wave = at.wave ?? (await waves.openWave(at.repository, at.commit, at.origin));
  result.wave = wave.id;
  await waves.addRemovals(wave.id, removals);
  const cascaded: Array<{ source: string; cause: string; depth: number }> = [];
  for (const { id, entry } of cascadeIds) {
    const moved = await deps.store.moveTask(id, 'new', `cascade: ${entry.cause} changed (depth ${entry.depth}); rebuilt with the next build release in ${wave.id}`, { wave: wave.id }, { onlyFrom: ['completed'] }).catch(() => undefined);
    if (!moved?.moved) continue;
    cascaded.push(entry);
  }
  await waves.addCascade(wave.id, cascaded);
  // A newer release supersedes an older build still in flight: stopped now, so it is never published after it.
  const cancelled: string[] = [];
  for (const older of await waves.inFlightOlder(at.repository, at.created.map((c) => ({ source: c.recipe.source, isa: c.variant.isa, release: c.recipe.release })))) {
    const r = await deps.store.moveTask(older.id, 'cancelled', `superseded by ${older.by} (a newer release) while in flight`, { supersededBy: older.by }, { onlyFrom: ['queued', 'building', 'publishing'] });
    if (r.moved) cancelled.push(older.id);
  }
  if (cancelled.length > 0) result.cancelled = cancelled;
}

/** The recipes to rebuild because recipes in `changed` changed (core/graph/cascade.ts), by the policy. */
function cascadeOf(previous: readonly RecipeRow[], recipes: readonly RecipeSnapshot[], changed: readonly string[], policy: CascadePolicy): CascadeEntry[] {
  const before = new Map(previous.map((r) => [r.source, r]));
  const provides = (r: Pick<RecipeRow, 'packages'>): string => JSON.stringify(r.packages.map((p) => [p.name, [...p.provides].sort()]).sort());
  const causes = changed.filter((source) => {
    if (policy === 'always') return true;
    const old = before.get(source);
    const now = recipes.find((r) => r.source === source);
    return !old || !now || provides(old) !== provides(now);
  });
  if (causes.length === 0) return [];
  const graph = buildGraph(recipes.map((r) => ({ source: r.source, packages: r.packages })));
  const changedSet = new Set(changed);
  return rebuildCascade(graph, causes, { transitive: true }).rebuild.filter((e) => !changedSet.has(e.id)).map((e) => ({ ...e, source: e.id }));
}

type CascadeEntry = { source: string; cause: string; depth: number };
