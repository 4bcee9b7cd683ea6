import { redactUrl, parseSourceUrl, REPOSITORY_ROOTS_SETTING, SourceUrlError } from '../../core/security/source-url';
import type { RepositoryRow, Store } from '../../db/store';
import { realPathInside } from '../../host/source-paths';
import { ValidationError } from '../errors';

/**
 * Registering and removing repositories. A repository URL follows core/security/source-url.ts: a network URL
 * without credentials, or an absolute local path whose real path lies inside SUMMIT_REPOSITORY_ROOTS (checked
 * on this host, so meant for farms where the API and summit share a disk). Refusals are 422s naming body.url.
 */
export interface RepositoryDeps {
  store: Store;
  /** SUMMIT_REPOSITORY_ROOTS, or the data folder (core/config.ts repositoryRoots). */
  repositoryRoots: readonly string[];
}

export interface NewRepository {
  id: string;
  project: string;
  url: string;
  ref?: string;
  cascade?: boolean;
  /** The repository's network policy (db/entities.ts Repository.networking); off unless given. */
  networking?: boolean;
  /** Promote policy (db/entities.ts Repository.promote). */
  promote?: 'unstable';
  /** A declared base repository: an index name (db/entities.ts Repository.base). */
  base?: string;
  /** Verification builds of its published builds (db/entities.ts Repository.verify); none unless given. */
  verify?: { sampleRate?: number; packages?: string[] };
}

export async function registerRepository(deps: RepositoryDeps, body: NewRepository): Promise<RepositoryRow> {
  const url = await allowedUrl(body.url, deps.repositoryRoots);
  return publicRepository(await deps.store.addRepository({ ...body, url }));
}

/** 204 when gone; 404 unknown; 409 while it has open tasks (db/store.ts removeRepository says why). */
export async function removeRepository(deps: Pick<RepositoryDeps, 'store'>, id: string): Promise<void> {
  await deps.store.removeRepository(id);
}

export async function listRepositories(deps: Pick<RepositoryDeps, 'store'>): Promise<RepositoryRow[]> {
  return (await deps.store.listRepositories()).map(publicRepository);
}

/**
 * A repository as the API shows it: never a credential, even in a row stored before registration refused them.
 * Every route that returns a repository goes through this.
 */
export interface RepositoryDetail extends RepositoryRow {
  /** Recipes intake could not use at the last refresh, with the reasons (path order). */
  invalidRecipes: Array<{ path: string; commit: string; errors: string[] }>;
}

/** One repository as GET /api/repositories/:id shows it: the record and its invalid recipes. NotFoundError → 404. */
export async function repositoryDetail(deps: Pick<RepositoryDeps, 'store'>, id: string): Promise<RepositoryDetail> {
  const repo = await deps.store.getRepository(id);
  const invalid = await deps.store.listInvalidRecipes(id);
  return { ...publicRepository(repo), invalidRecipes: invalid.map((r) => ({ path: r.path, commit: r.commit, errors: r.errors })) };
}

export function publicRepository(row: RepositoryRow): RepositoryRow {
  return { ...row, url: redactUrl(row.url) };
}

/** The URL to store: as given for a network URL, the real path for a local one. */
async function allowedUrl(url: string, roots: readonly string[]): Promise<string> {
  const what = 'the repository URL';
  try {
    const location = parseSourceUrl(url, 'git', what);
    if (location.kind === 'network') return url;
    return await realPathInside(location.path, { roots, setting: REPOSITORY_ROOTS_SETTING }, what);
  } catch (err) {
    if (err instanceof SourceUrlError) throw new ValidationError([{ path: 'body.url', message: err.message }]);
    throw err;
  }
}
