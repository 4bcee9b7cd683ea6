/**
 * `npm start` runs the API in a process of its own (workers/api-process.ts). Proved by facts, not by timing: the
 * API's pid is not the farm's node process; with the farm's process stopped (SIGSTOP: no planning, intake,
 * worker or event loop runs there) the API still answers /health and GET /api/tasks from the shared database;
 * and when the API process dies, `npm start` says which process died and stops everything, exiting non-zero.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { alive, npmStart, pidsMentioning, startNodePid, type Started, waitUntilUp, npmStartEnv } from './helpers/npm-start';

jest.setTimeout(600_000);

let dataDir: string;
let env: Record<string, string>;
let started: Started | undefined;
let stoppedPid: number | undefined;

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'summit-start-api-'));
  env = await npmStartEnv(dataDir);
});

afterAll(() => {
  // Whatever failed, nothing of this farm stays stopped or running on the shared machine.
  if (stoppedPid && alive(stoppedPid)) process.kill(stoppedPid, 'SIGCONT');
  if (started) {
    try { process.kill(-started.child.pid!, 'SIGKILL'); } catch { /* already gone */ }
  }
  for (const pid of dataDir ? pidsMentioning(join(dataDir, 'temporal.db')) : []) process.kill(pid, 'SIGKILL');
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

describe('npm start, the API process', () => {
  it('answers while the farm process is stopped, and its death stops the farm with a message', async () => {
    started = npmStart(env);
    const run = started;
    await waitUntilUp(run, 'npm start to be up', 300_000);
    const apiPid = Number(/API\s+http:\/\/\S+\s+\(pid (\d+);/.exec(run.output())?.[1]);
    const farmPid = startNodePid(run);
    expect(apiPid).toBeGreaterThan(0);
    expect(farmPid).toBeDefined();
    expect(apiPid).not.toBe(farmPid);
    const api = `http://127.0.0.1:${env.SUMMIT_API_PORT}`;

    // The farm's node process (hub worker, intake, planning, vessel, avalanche, progress printer) stopped dead.
    stoppedPid = farmPid;
    process.kill(farmPid!, 'SIGSTOP');
    try {
      const health = await fetch(`${api}/health`);
      expect(health.status).toBe(200);
      expect(((await health.json()) as { database: { ok: boolean } }).database.ok).toBe(true);
      const tasks = await fetch(`${api}/api/tasks?status=new,building,completed&total=exact`);
      expect(tasks.status).toBe(200);
      expect(await tasks.json()).toMatchObject({ items: expect.any(Array), totalExact: true });
      expect(alive(apiPid)).toBe(true);
    } finally {
      process.kill(farmPid!, 'SIGCONT');
      stoppedPid = undefined;
    }

    // A crashed API is reported by pid and takes the farm down with it (a farm without its API is half a farm).
    process.kill(apiPid, 'SIGKILL');
    const { code } = await run.exited;
    expect(code).not.toBe(0);
    expect(run.output()).toContain(`the API (pid ${apiPid}) exited on its own (SIGKILL)`);
    expect(run.output()).toMatch(/summit: stopped/);
    expect(pidsMentioning(join(dataDir, 'temporal.db')).filter(alive)).toEqual([]);
  });
});
