/**
 * The test harness against the real services it provides: a Temporal dev server with a real worker, PostgreSQL
 * through MikroORM, and systemd-nspawn. If this file fails, every integration test after it would fail for the
 * same reason, so read its failures first.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { Client } from '@temporalio/client';
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';
import { NativeConnection, Worker } from '@temporalio/worker';
import { defineEntity, MikroORM } from '@mikro-orm/postgresql';
import { Migrator } from '@mikro-orm/migrations';
import { Client as PgClient } from 'pg';
import * as activities from './fixtures/infra/activities';
import { greetingWorkflow } from './fixtures/infra/workflows';
import { describeWhenAvailable } from './support/ci';
import { nspawnUnavailableReason } from './support/nspawn';
import { createTestDatabase, testServerUrl, type TestDatabase } from './support/postgres';
import { startTemporalTestServer, taskQueueFor, type TemporalTestServer } from './support/temporal';
import { takenPorts } from '../workers/dev-server';
import { installQuietWorkerRuntime } from './support/worker';

const execFileAsync = promisify(execFile);

describe('the Temporal dev server', () => {
  it("tells a port the server picked for itself from the ports it was given, in its log's bind failures", () => {
    const log = 'time=2026-12-02T03:48:14.417 level=ERROR msg="Failed to start gRPC listener" error="listen tcp 127.0.0.1:46883: bind: address already in use" service=worker';
    expect(takenPorts(log)).toEqual([46883]);
    expect(takenPorts('listen tcp [::1]:7233: bind: address already in use')).toEqual([7233]);
    expect(takenPorts('ready')).toEqual([]);
  });

  let server: TemporalTestServer;
  let connection: NativeConnection;
  let client: Client;

  beforeAll(async () => {
    installQuietWorkerRuntime();
    server = await startTemporalTestServer();
    connection = await NativeConnection.connect({ address: server.address });
    client = new Client({ connection, namespace: server.namespace });
  });

  afterAll(async () => {
    await connection?.close();
    await server?.stop();
  });

  it('runs a workflow whose activity executes in a real worker, bundled from TypeScript', async () => {
    const taskQueue = taskQueueFor(expect.getState().currentTestName);
    const BuildPackage = defineSearchAttributeKey('BuildPackage', SearchAttributeType.KEYWORD);
    const worker = await Worker.create({
      connection,
      namespace: server.namespace,
      taskQueue,
      workflowsPath: require.resolve('./fixtures/infra/workflows'),
      activities,
    });

    const handle = await worker.runUntil(async () => {
      const started = await client.workflow.start(greetingWorkflow, {
        taskQueue,
        workflowId: `${taskQueue}-greeting`,
        args: ['summit'],
        typedSearchAttributes: [{ key: BuildPackage, value: 'liba' }],
      });
      await started.result();
      return started;
    });

    expect(await handle.result()).toBe(`hello, summit, from pid ${process.pid}`);
    const description = await handle.describe();
    expect(description.status.name).toBe('COMPLETED');
    expect(description.typedSearchAttributes.get(BuildPackage)).toBe('liba');
  });
});

interface Probe {
  id: number;
  label: string;
  createdAt: Date;
}

const HarnessProbe = defineEntity({
  name: 'HarnessProbe',
  tableName: 'harness_probe',
  properties: (p) => ({
    id: p.integer().primary().autoincrement(),
    label: p.string(),
    createdAt: p.datetime().onCreate(() => new Date()),
  }),
});

describe('PostgreSQL through MikroORM', () => {
  let database: TestDatabase;
  let orm: MikroORM;
  let migrationsDir: string;

  beforeAll(async () => {
    database = await createTestDatabase('infra');
    migrationsDir = fs.mkdtempSync(path.join(os.tmpdir(), 'summit-migrations-'));
    orm = await MikroORM.init({
      clientUrl: database.url,
      entities: [HarnessProbe],
      extensions: [Migrator],
      migrations: { path: migrationsDir, transactional: true },
      debug: false,
    });
  });

  afterAll(async () => {
    await orm?.close(true);
    await database?.drop();
    if (migrationsDir) fs.rmSync(migrationsDir, { recursive: true, force: true });
  });

  it('connects to the database made for this file', async () => {
    const rows = await orm.em.getConnection().execute<{ db: string }[]>('select current_database() as db');
    expect(rows[0].db).toBe(database.name);
  });

  it('creates the schema, inserts a row and reads it back through a fresh identity map', async () => {
    await orm.schema.createSchema();
    const writer = orm.em.fork();
    const written = writer.create(HarnessProbe, { label: 'liba' });
    await writer.flush();
    expect(written.id).toBeGreaterThan(0);

    const read: Probe = await orm.em.fork().findOneOrFail(HarnessProbe, { label: 'liba' });
    expect(read.id).toBe(written.id);
    expect(read.createdAt).toBeInstanceOf(Date);
  });

  it('loads the migrator, which finds nothing pending in an empty migrations folder', async () => {
    expect(await orm.migrator.getPendingMigrations()).toEqual([]);
  });

  it('drops a test database together with its open connections', async () => {
    const scratch = await createTestDatabase('scratch');
    const open = new PgClient({ connectionString: scratch.url });
    await open.connect();
    open.on('error', () => undefined); // the drop terminates this connection on purpose
    await scratch.drop();

    const admin = new PgClient({ connectionString: testServerUrl() });
    await admin.connect();
    try {
      const left = await admin.query('select 1 from pg_database where datname = $1', [scratch.name]);
      expect(left.rowCount).toBe(0);
    } finally {
      await admin.end();
      await open.end().catch(() => undefined);
    }
  });
});

describeWhenAvailable(nspawnUnavailableReason(), 'systemd-nspawn', () => {
  let work: string;
  let counter = 0;
  // Unique machine names: nspawn keeps per-machine state under /run/systemd/nspawn/, and other runs share the host.
  const machine = () => `summit-test-${process.pid}-${++counter}`;

  beforeEach(() => {
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'summit-nspawn-'));
  });

  afterEach(() => {
    fs.rmSync(work, { recursive: true, force: true });
  });

  // --register=no/--keep-unit: no machined, no new scope unit (neither exists in a container or on CI);
  // --private-network: only a loopback interface inside; --quiet: no banner in the build log.
  const common = (name: string) => ['--register=no', '--keep-unit', '--quiet', `--machine=${name}`, '--private-network'];
  const script = [
    'echo built > /build/out.txt',
    'cat /proc/net/dev | tail -n +3 | cut -d: -f1 | tr -d " " | tr "\\n" " "',
    'touch /usr/summit-write-probe 2>/dev/null && echo usr-writable || echo usr-read-only',
  ].join('; ');

  it('runs a command on the host /usr, volatile, offline, writing only to the bound work directory', async () => {
    const { stdout } = await execFileAsync('systemd-nspawn', [
      ...common(machine()), '--directory=/', '--volatile=yes', `--bind=${work}:/build`, '--chdir=/build',
      '/bin/sh', '-c', script,
    ], { timeout: 60_000 });

    expect(stdout.trim().split(/\s+/)).toEqual(['lo', 'usr-read-only']);
    expect(fs.readFileSync(path.join(work, 'out.txt'), 'utf8')).toBe('built\n');
  });

  it('runs a command in a directory root that binds the host /usr read-only', async () => {
    const root = path.join(work, 'root');
    for (const dir of ['usr', 'etc', 'tmp', 'build']) fs.mkdirSync(path.join(root, dir), { recursive: true });
    for (const dir of ['bin', 'sbin', 'lib', 'lib64']) fs.symlinkSync(`usr/${dir}`, path.join(root, dir));
    const out = path.join(work, 'out');
    fs.mkdirSync(out);

    const { stdout } = await execFileAsync('systemd-nspawn', [
      ...common(machine()), `--directory=${root}`, '--bind-ro=/usr', `--bind=${out}:/build`, '--chdir=/build',
      '/bin/sh', '-c', script,
    ], { timeout: 60_000 });

    expect(stdout.trim().split(/\s+/)).toEqual(['lo', 'usr-read-only']);
    expect(fs.readFileSync(path.join(out, 'out.txt'), 'utf8')).toBe('built\n');
  });
});
