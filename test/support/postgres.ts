/**
 * A fresh PostgreSQL database for one test file, on the server scripts/test.sh provides (SUMMIT_TEST_PG_URL).
 *
 * Each file gets its own database rather than its own schema: migrations and `createSchema()` then run exactly as
 * in production, and dropping the database removes everything the file made, whatever it was.
 */
import { randomBytes } from 'node:crypto';
import { Client } from 'pg';

export interface TestDatabase {
  readonly name: string;
  /** Connection URL of the new database (same server, user and password as SUMMIT_TEST_PG_URL). */
  readonly url: string;
  /** Drops the database, ending any connection still open to it. */
  drop(): Promise<void>;
}

/** The URL of the test server, or a clear error saying how to run the tests. */
export function testServerUrl(): string {
  const url = process.env.SUMMIT_TEST_PG_URL;
  if (!url) {
    throw new Error(
      'SUMMIT_TEST_PG_URL is not set. Run the tests with `npm test` (scripts/test.sh), which uses the server at ' +
        'SUMMIT_TEST_PG_URL when it answers and otherwise starts a private PostgreSQL.',
    );
  }
  return url;
}

async function withAdmin<T>(fn: (client: Client) => Promise<T>): Promise<T> {
  const client = new Client({ connectionString: testServerUrl(), connectionTimeoutMillis: 10_000 });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/** Creates a database named after `label` plus a unique suffix (PostgreSQL names are at most 63 bytes). */
export async function createTestDatabase(label = 'test'): Promise<TestDatabase> {
  const slug = label.toLowerCase().replace(/[^a-z0-9]+/g, '_').replace(/^_|_$/g, '').slice(0, 30) || 'test';
  const name = `summit_t_${slug}_${process.pid}_${randomBytes(4).toString('hex')}`;
  await withAdmin((client) => client.query(`CREATE DATABASE "${name}"`));
  const url = new URL(testServerUrl());
  url.pathname = `/${name}`;
  return {
    name,
    url: url.toString(),
    // WITH (FORCE) (PostgreSQL 13+) so that a pool a test forgot to close cannot make the drop fail.
    drop: () => withAdmin((client) => client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`)).then(() => undefined),
  };
}
