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

/**
 * How long a write to the embedded file waits for another connection's write to finish. The driver is
 * synchronous, so the wait blocks that process's event loop: writes are short, and the API, which must stay
 * responsive, reads (never blocked under WAL) far more than it writes.
 */
const BUSY_TIMEOUT_MS = 5_000;

/**
 * Each connection's pragmas. `synchronous = NORMAL` under the write-ahead log: a commit no longer waits for an
 * fsync (the log is synced at each checkpoint), so the file stays consistent after any crash and a commit survives
 * a crash of the process; only a power loss can take back the last commits. That is the durability the embedded
 * farm already has: `npm start`'s Temporal dev server runs its own SQLite file the same way
 * (workers/dev-server.ts). With FULL, SQLite's default, every commit cost ~3 ms of fsync on the synchronous
 * driver, i.e. on the roles' event loop: 3.5 s of a 300-package wave.
 */
const EMBEDDED_PRAGMAS = [`PRAGMA busy_timeout = ${BUSY_TIMEOUT_MS}`, 'PRAGMA synchronous = NORMAL'] as const;

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
    orm = await MikroORM.init({
      ...common, driver: LibSqlDriver, dbName: file,
      // Several processes open this file under `npm start` (the API in its own, the roles in another). A writer
      // that finds the file locked waits up to BUSY_TIMEOUT_MS instead of failing at once (SQLite's default is
      // 0: SQLITE_BUSY). Set on every connection, as the pool renews them, with the rest of EMBEDDED_PRAGMAS.
      driverOptions: {
        pool: {
          afterCreate: (conn: { exec(sql: string): unknown }, done: (err: Error | null, conn: unknown) => void) => {
            try {
              for (const pragma of EMBEDDED_PRAGMAS) conn.exec(pragma);
              done(null, conn);
            } catch (err) {
              done(err as Error, conn);
            }
          },
        },
      },
    });
    // Write-ahead log (kept in the file: set once, holds for every later connection): readers, such as the API's
    // task list, never wait for a writer and never block one; only writers take turns.
    await orm.em.getConnection().execute('PRAGMA journal_mode = WAL');
    // The read model names every repository and task: private to this user. SQLite gives -wal and -shm files
    // it creates later the database file's mode.
    for (const f of [file, `${file}-wal`, `${file}-shm`]) if (existsSync(f)) chmodSync(f, 0o600);
  }
  await orm.schema.updateSchema({ safe: true });
  return orm;
}
