import { join, posix } from 'node:path';
import { buildId } from '../../core/contracts/ids';
import type { RefreshRequest } from '../../core/contracts/hub';
import { formatDependency } from '../../core/formats/dependency';
import { isFormatError } from '../../core/formats/errors';
import { readManifest } from '../../core/formats/manifest';
import { parseRecipe, recipeDependencies } from '../../core/formats/recipe';
import { RecipeError, formatDiagnostic } from '../../core/formats/recipe-diagnostics';
import { canTransition, type TaskStatus } from '../../core/task/state';
import type { Store, RecipeRow } from '../../db/store';
import { listFiles, readBlob, resolveCommit, syncMirror } from './git';
import { Variant } from './variants';

export interface IntakeDeps {
  store: Store;
  /** Folder holding the bare mirrors: `<mirrors>/<repository>.git`. */
  mirrorsDir: string;
  variants: readonly Variant[];
}

export interface IntakeResult {
  repository: string;
  commit: string;
  recipes: number;
  created: string[];
  superseded: string[];
  updated: string[];
  invalid: Array<{ path: string; errors: string[] }>;
}

type RecipeSnapshot = Omit<RecipeRow, 'id' | 'repository' | 'updatedAt'>;

export function mirrorPath(mirrorsDir: string, repository: string): string {
  return join(mirrorsDir, `${repository}.git`);
}

/** Read every recipe of a repository at one commit: stone.yaml plus the committed manifest when present. */
export async function readRecipesAt(mirror: string, commit: string): Promise<{ recipes: RecipeSnapshot[]; invalid: IntakeResult['invalid'] }> {
  const files = await listFiles(mirror, commit);
  const present = new Set(files);
  const recipes: RecipeSnapshot[] = [];
  const invalid: IntakeResult['invalid'] = [];
  for (const file of files.filter((f) => f === 'stone.yaml' || f.endsWith('/stone.yaml')).sort()) {
    const dir = posix.dirname(file);
    try {
      const { recipe } = parseRecipe((await readBlob(mirror, commit, file)).toString('utf8'), file);
      const manifestFile = posix.join(dir, 'manifest.x86_64.bin');
      let packages: RecipeSnapshot['packages'];
      let derived = false;
      if (present.has(manifestFile)) {
        const manifest = await readManifest(await readBlob(mirror, commit, manifestFile), manifestFile);
        packages = manifest.packages.map((p) => ({ name: p.name, provides: p.provides, depends: p.depends, buildDepends: p.buildDepends }));
      } else {
        // No committed manifest: what the recipe itself declares, marked as derived (a lower bound).
        const deps = recipeDependencies(recipe);
        const buildDepends = deps.buildDepends.map(formatDependency);
        packages = deps.packages.map((p) => ({ name: p.name, provides: p.provides.map(formatDependency), depends: p.depends.map(formatDependency), buildDepends }));
        derived = true;
      }
      recipes.push({
        source: recipe.source.name, version: recipe.source.version, release: recipe.source.release, commit,
        path: dir, packages, derived, architectures: recipe.options.architectures ?? [],
      });
    } catch (err) {
      if (err instanceof RecipeError) invalid.push({ path: file, errors: err.issues.map(formatDiagnostic) });
      else if (isFormatError(err)) invalid.push({ path: file, errors: [err.message] });
      else throw err;
    }
  }
  return { recipes, invalid };
}

/**
 * Intake: mirror the repository, read its recipes at the pushed commit, and turn every recipe whose release is
 * missing from, or newer than, what its index holds into a task (one per ISA variant). Idempotent: running it
 * twice for the same commit creates nothing new.
 */
export async function refreshRepository(deps: IntakeDeps, req: RefreshRequest): Promise<IntakeResult> {
  const repo = await deps.store.getRepository(req.repository);
  const mirror = mirrorPath(deps.mirrorsDir, repo.id);
  await syncMirror(repo.url, mirror);
  const commit = await resolveCommit(mirror, req.commit ?? repo.ref);
  const { recipes, invalid } = await readRecipesAt(mirror, commit);
  await deps.store.replaceRecipes(repo.id, recipes);

  const result: IntakeResult = { repository: repo.id, commit, recipes: recipes.length, created: [], superseded: [], updated: [], invalid };
  for (const recipe of recipes) {
    for (const variant of deps.variants) {
      const id = buildId({ project: repo.project, repository: repo.id, source: recipe.source, version: recipe.version, release: recipe.release, isa: variant.isa });
      const published = await deps.store.publishedRelease(repo.id, recipe.source, variant.isa);
      if (recipe.release <= published) continue;
      const siblings = await deps.store.tasksOfSource(repo.id, recipe.source, variant.isa);
      const same = siblings.find((t) => t.id === id);
      if (same) {
        // Same release at a newer commit: the not-yet-running task simply builds the newer commit.
        if (same.commit !== commit && (same.status === 'new' || same.status === 'blocked')) {
          await deps.store.updateTask(id, { commit, recipePath: recipe.path });
          result.updated.push(id);
        }
        continue;
      }
      await deps.store.createTask(
        { id, project: repo.project, repository: repo.id, source: recipe.source, version: recipe.version, release: recipe.release, isa: variant.isa, index: variant.index, commit, recipePath: recipe.path },
        `${req.origin}: ${recipe.source} ${recipe.version}-${recipe.release} at ${commit.slice(0, 12)} (published release ${published || 'none'})`,
      );
      result.created.push(id);
      for (const older of siblings.filter((t) => t.release < recipe.release && canTransition(t.status as TaskStatus, 'superseded'))) {
        await deps.store.setStatus(older.id, 'superseded', `replaced by ${id}`, { supersededBy: id });
        result.superseded.push(older.id);
      }
    }
  }
  await deps.store.markRefreshed(repo.id, commit);
  return result;
}
