import type { EntityManager } from '@mikro-orm/core';
import type { SqlEntityManager } from '@mikro-orm/knex';

/**
 * Change markers: one row per group of small tables that another process writes (the API: admins' holds and
 * protections, the builder registry, repositories and their recipe snapshots), whose version every writer bumps in
 * the transaction of its change. A reader that keeps those tables in memory (a planning round, activities/summit/
 * planning-inputs.ts) reads the markers, one short statement, and reads a group again only when its marker moved:
 * the writer may be in another process, so a process-local invalidation would not see it.
 */
export type MarkedGroup =
  /** admin_holds and repository_protections (db/admin-store.ts). */
  | 'admin'
  /** enrolled_builders (db/builder-registry-store.ts). */
  | 'registry'
  /** repositories (db/store.ts: added, removed). */
  | 'repositories'
  /** recipe_snapshots and the recipes they name (db/store.ts: replaced, removed). */
  | 'recipes';

/**
 * Moves the markers of `groups`, in the transaction of `em` (so a reader that sees the new version sees the change).
 * One statement per group, the same SQL on SQLite and PostgreSQL.
 */
export async function bumpMarkers(em: EntityManager, ...groups: MarkedGroup[]): Promise<void> {
  const sql = em as unknown as SqlEntityManager;
  for (const group of groups) {
    await sql.getConnection().execute(
      'insert into "change_markers" ("group", "version") values (?, 1) on conflict ("group") do update set "version" = "change_markers"."version" + 1',
      [group], 'run', sql.getTransactionContext(),
    );
  }
}

/** Every marker's version (a group never written has none: 0). */
export async function readMarkers(em: EntityManager): Promise<Map<string, number>> {
  const rows: Array<{ group: string; version: number | string }> = await (em as unknown as SqlEntityManager).getConnection()
    .execute('select "group", "version" from "change_markers"', []);
  return new Map(rows.map((r) => [r.group, Number(r.version)]));
}

/**
 * Values read from marked tables, kept while their group's marker stays where it was when they were read. `round()`
 * reads the markers once; the getter it returns loads a value only when its marker moved since (or the first time).
 * The marker is read before the value, so a value is never older than the version it is kept under.
 */
export class MarkedCache {
  private readonly kept = new Map<string, { version: number; value: unknown }>();

  constructor(private readonly em: () => EntityManager) {}

  async round(): Promise<<T>(group: MarkedGroup, key: string, load: () => Promise<T>) => Promise<T>> {
    const markers = await readMarkers(this.em());
    return async <T>(group: MarkedGroup, key: string, load: () => Promise<T>): Promise<T> => {
      const version = markers.get(group) ?? 0;
      const name = `${group}/${key}`;
      const hit = this.kept.get(name);
      if (hit && hit.version === version) return hit.value as T;
      const value = await load();
      this.kept.set(name, { version, value });
      return value;
    };
  }
}
