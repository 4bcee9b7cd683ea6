import { chmodSync, existsSync, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { MikroORM, Options } from '@mikro-orm/core';
import { ENTITIES } from './entities';

/**
 * Opens the database: PostgreSQL when a URL is given, otherwise the embedded libsql file in the data folder
 * (no server needed, for `npm start`). The schema is brought up to date on open (additive changes only;
 * `updateSchema` never drops a column with data unless asked).
 */
export interface DatabaseOptions {
  url?: string;
  dataDir: string;
}

export async function openDatabase(opts: DatabaseOptions): Promise<MikroORM> {
  const common: Partial<Options> = { entities: ENTITIES, debug: false, allowGlobalContext: false, discovery: { warnWhenNoEntities: true } };
  let orm: MikroORM;
  if (opts.url) {
    const { PostgreSqlDriver } = await import('@mikro-orm/postgresql');
    orm = await MikroORM.init({ ...common, driver: PostgreSqlDriver, clientUrl: opts.url });
  } else {
    const dir = resolve(opts.dataDir);
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const { LibSqlDriver } = await import('@mikro-orm/libsql');
    const file = join(dir, 'summit.db');
    orm = await MikroORM.init({ ...common, driver: LibSqlDriver, dbName: file });
    // The read model names every repository and task: private to this user. SQLite gives -wal and -shm files
    // it creates later the database file's mode.
    for (const f of [file, `${file}-wal`, `${file}-shm`]) if (existsSync(f)) chmodSync(f, 0o600);
  }
  await orm.schema.updateSchema({ safe: true });
  return orm;
}
