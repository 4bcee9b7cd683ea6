/**
 * Admission under real pressure, on a real farm (dev server, PostgreSQL, summit, vessel, one avalanche process,
 * nspawn builds): the builder's data folder is a 64 MiB tmpfs and SUMMIT_BUILDER_MIN_FREE_DISK is 32 MiB, so a
 * 40 MiB ballast file puts it under pressure and deleting the file relieves it. Under pressure the builder says so
 * in its heartbeat (/api/builders: admitting false, with the reason), closes its slot gate and planning books no
 * slot on it: a pushed build stays new through several planning rounds. Relieved, it takes the build.
 */
import { execFile, execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Client, Connection } from '@temporalio/client';
import { HUB_WORKFLOW_ID } from '../core/contracts/hub';
import { dataConverterFor } from '../workers/temporal';
import { hubStateQuery } from '../workflows/signals';
import { Farm, hookedRepository, startFarm, waitFor, type TaskView } from './helpers/farm';
import { recipeYaml } from './helpers/git-repo';
import { describeWhenAvailable } from './support/ci';
import { nspawnUnavailableReason } from './support/nspawn';
import { createTestDatabase, TestDatabase } from './support/postgres';
import { startTemporalTestServer, TemporalTestServer } from './support/temporal';

jest.setTimeout(600_000);

const MiB = 1024 * 1024;
let temporal: TemporalTestServer;
let pg: TestDatabase;
let work: string;
let farm: Farm;
let clone: string;
let client: Client;
let dataDir: string;
let mounted = false;

const taskId = 'build/admit/recipes/patient-1.0.0-1/x86_64';
interface BuilderView { id: string; admitting: boolean; health: { diskFree: number; diskTotal: number; pressure: string[] } | null }

async function api<T>(path: string): Promise<T> {
  return (await (await fetch(`${farm.api.url}${path}`)).json()) as T;
}

async function builder(): Promise<BuilderView | undefined> {
  return (await api<{ items: BuilderView[] }>('/api/builders')).items.find((b) => b.id === 'tight');
}

async function task(): Promise<{ task: TaskView; events: Array<{ to: string; at: string }> } | undefined> {
  const res = await fetch(`${farm.api.url}/api/tasks/${encodeURIComponent(taskId)}`);
  return res.status === 200 ? ((await res.json()) as { task: TaskView; events: Array<{ to: string; at: string }> }) : undefined;
}

const rounds = async (): Promise<number> => (await client.workflow.getHandle(HUB_WORKFLOW_ID).query(hubStateQuery)).rounds ?? 0;

function git(cwd: string, ...args: string[]): string {
  return execFileSync('git', args, { cwd, encoding: 'utf8', env: { ...process.env, GIT_TERMINAL_PROMPT: '0' } }).trim();
}

describeWhenAvailable(nspawnUnavailableReason(), 'builder admission under pressure', () => {
  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'summit-admit-'));
    [temporal, pg] = await Promise.all([startTemporalTestServer(), createTestDatabase('admit')]);
    farm = await startFarm({ work, temporalAddress: temporal.address, databaseUrl: pg.url });
    client = new Client({ connection: await Connection.connect({ address: temporal.address }), dataConverter: dataConverterFor({ payloadKeys: farm.payloadKeys }) });
    ({ clone } = await hookedRepository(farm, work, 'admit'));
    // The builder's data folder (startFarm names it builder-<id>) on a small disk of its own, filled past the threshold.
    dataDir = join(work, 'builder-tight');
    mkdirSync(dataDir);
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64m,mode=0755', 'tmpfs', dataDir]);
    mounted = true;
    writeFileSync(join(dataDir, 'ballast'), Buffer.alloc(40 * MiB, 1));
    await farm.startBuilder('tight', { SUMMIT_BUILDER_MIN_FREE_DISK: '32M', SUMMIT_BUILDER_MIN_FREE_MEMORY: '0' });
  });

  afterAll(async () => {
    await client?.connection.close();
    await farm?.stop();
    if (mounted) execFileSync('umount', ['-l', dataDir]);
    await temporal?.stop();
    await pg?.drop();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('reports the pressure with its heartbeat and takes no build while under it', async () => {
    const pressed = await waitFor('the builder to report itself under pressure', async () => {
      const b = await builder();
      return b && !b.admitting ? b : undefined;
    }, 90_000, async () => readFileSync(farm.builders.get('tight')!.logFile, 'utf8').slice(-2000));
    expect(pressed.health!.pressure).toEqual([expect.stringMatching(/^free disk \d+ MiB is below 32 MiB$/)]);
    expect(pressed.health!.diskTotal).toBe(64 * MiB);
    expect(readFileSync(farm.builders.get('tight')!.logFile, 'utf8')).toMatch(/under pressure \(free disk .*\); taking no new build until it recovers/);

    mkdirSync(join(clone, 'patient'));
    writeFileSync(join(clone, 'patient', 'stone.yaml'), recipeYaml({ name: 'patient', version: '1.0.0', build: 'install -Dm644 /dev/null %(installroot)%(datadir)/patient/done' }));
    git(clone, 'add', '-A');
    git(clone, 'commit', '-q', '-m', 'patient');
    await promisify(execFile)('git', ['push', '-q', 'origin', 'main'], { cwd: clone });
    await waitFor('the task to exist', task, 60_000);
    const from = await rounds();
    // Three planning rounds with the task ready and the only builder under pressure: nothing booked, nothing run.
    await waitFor('three more planning rounds', async () => ((await rounds()) >= from + 3 ? true : undefined), 60_000);
    expect((await task())!.task.status).toBe('new');
    const logs = join(dataDir, 'avalanche', 'logs');
    expect(existsSync(logs) ? readdirSync(logs).filter((n) => n.includes('patient')) : []).toEqual([]);
  });

  it('takes the build once the pressure is relieved', async () => {
    const relievedAt = Date.now();
    rmSync(join(dataDir, 'ballast'));
    await waitFor('the builder to admit builds again', async () => ((await builder())?.admitting ? true : undefined), 60_000);
    await waitFor('patient to be built and published', async () => ((await task())?.task.status === 'completed' ? true : undefined), 180_000,
      async () => JSON.stringify(await task()));
    const { task: done, events } = (await task())!;
    expect(done.builder).toBe('tight');
    // Queued only after the relief (the build never ran, nor was it booked, while the builder was under pressure).
    expect(Date.parse(events.find((e) => e.to === 'queued')!.at)).toBeGreaterThanOrEqual(relievedAt);
    expect(readFileSync(farm.builders.get('tight')!.logFile, 'utf8')).toMatch(/pressure relieved; taking builds again/);
  });
});
