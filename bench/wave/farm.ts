import { ChildProcess, spawn } from 'node:child_process';
import { closeSync, mkdirSync, openSync } from 'node:fs';
import net from 'node:net';
import { join, resolve } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { loadOrCreateTokens } from '../../api/tokens';
import { generatePayloadKey } from '../../core/payload-codec';
import { dataConverterFor } from '../../workers/temporal';
import { Config, parseConfig } from '../../core/config';
import { DevServer, startDevServer, stopChild } from '../../workers/dev-server';
import { forkApi } from '../../workers/api-process';
import { RunningRole, startSummit } from '../../workers/summit';
import { loadVesselConfig, RunningVessel, startVessel } from '../../workers/vessel';

/**
 * The farm the wave benchmark measures, shaped like `npm start`: the Temporal dev server (history in a SQLite
 * file), the embedded database file unless a PostgreSQL URL is given, the API, summit (default hub timers) and
 * vessel in this process, and one avalanche builder as its own process (`dist/workers/avalanche.js`) with S slots.
 */
export interface WaveFarm {
  config: Config;
  dataDir: string;
  apiUrl: string;
  adminToken: string;
  hookToken: string;
  reposDir: string;
  client: Client;
  builderLog: string;
  /** The farm's processes, for CPU accounting (process-cpu.ts): summit and vessel run in this one. */
  pids: { temporal?: number; api?: number; builder?: number };
  stop(): Promise<void>;
}

export interface WaveFarmOptions {
  work: string;
  slots: number;
  pgUrl?: string;
  temporalBin: string;
  /** SUMMIT_DISPATCH_PREFETCH of the hub and SUMMIT_BUILDER_BACKLOG of the builder (default 0). */
  prefetch?: number;
  /** The CPUs the builder runs on (`taskset`), with its containers; default: any. */
  builderCpus?: readonly number[];
  /** Runs once the database exists, before summit starts (to fill it with finished tasks). */
  beforeSummit?: (config: Config) => Promise<void>;
}

const ROOT = resolve(__dirname, '..', '..', '..');

export async function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolvePort(port));
    });
  });
}

export async function startWaveFarm(opts: WaveFarmOptions): Promise<WaveFarm> {
  const dataDir = join(opts.work, 'summit');
  mkdirSync(dataDir, { recursive: true });
  const stops: Array<() => Promise<void>> = [];
  const stop = async (): Promise<void> => {
    for (const s of stops.reverse()) await s().catch((err) => console.error(`bench:wave: while stopping: ${String(err)}`));
  };
  try {
    const temporal: DevServer = await startDevServer({
      bin: opts.temporalBin, port: await freePort(), dbFile: join(opts.work, 'temporal.db'), logFile: join(opts.work, 'temporal.log'), readyTimeoutMs: 120_000,
    });
    stops.push(() => temporal.stop());
    const env = {
      SUMMIT_DATA_DIR: dataDir,
      SUMMIT_TEMPORAL_ADDRESS: temporal.address,
      SUMMIT_DATABASE_URL: opts.pgUrl ?? '',
      SUMMIT_API_PORT: String(await freePort()),
      SUMMIT_POLL_INTERVAL: '1h',
      SUMMIT_LOG_LEVEL: 'warn',
      // The generated repository lives in the work folder: the only folder local repositories may come from.
      SUMMIT_REPOSITORY_ROOTS: opts.work,
      // Payloads are encrypted as on a real farm; the key is made for this run.
      SUMMIT_PAYLOAD_KEYS: generatePayloadKey('wave'),
      SUMMIT_DISPATCH_PREFETCH: String(opts.prefetch ?? 0),
    };
    const config = parseConfig(env);
    if (opts.beforeSummit) await opts.beforeSummit(config);
    const { tokens } = await loadOrCreateTokens(dataDir);
    // The API in a process of its own, as `npm start` lays the farm out (workers/api-process.ts).
    const api = await forkApi({ ...process.env, ...env }, { quiet: true });
    stops.push(() => api.stop());
    const summit: RunningRole = await startSummit(config);
    stops.push(() => summit.stop());
    const vessel: RunningVessel = await startVessel(loadVesselConfig(env));
    stops.push(() => vessel.stop());

    const builderDir = join(opts.work, 'builder');
    mkdirSync(builderDir, { recursive: true });
    const builderLog = join(opts.work, 'builder.log');
    const fd = openSync(builderLog, 'a');
    // taskset execs node in its own process: the pid is the builder's, for its CPU figures.
    const builderCommand = [process.execPath, join(ROOT, 'dist', 'workers', 'avalanche.js')];
    const [command, ...args] = opts.builderCpus ? ['taskset', '--cpu-list', opts.builderCpus.join(','), ...builderCommand] : builderCommand;
    const child: ChildProcess = spawn(command, args, {
      env: {
        ...process.env,
        SUMMIT_DATA_DIR: builderDir,
        SUMMIT_BUILDER_ID: 'wave-builder',
        SUMMIT_BUILDER_ISA: 'x86_64',
        SUMMIT_BUILDER_SLOTS: String(opts.slots),
        // What the hub queues ahead the builder accepts ahead, and starts in priority order.
        SUMMIT_BUILDER_BACKLOG: String(opts.prefetch ?? 0),
        // As `npm start` beats for its builder.
        SUMMIT_BUILDER_HEARTBEAT: '5s',
        SUMMIT_AVALANCHE_PORT: String(await freePort()),
        SUMMIT_AVALANCHE_HOST: '127.0.0.1',
        SUMMIT_TEMPORAL_ADDRESS: temporal.address,
        SUMMIT_REPOSITORY_ROOTS: env.SUMMIT_REPOSITORY_ROOTS,
        SUMMIT_PAYLOAD_KEYS: env.SUMMIT_PAYLOAD_KEYS,
        // Enrolled as trusted, as `npm start` enrols its builder (issue 10); it polls the official queue only (the default).
        SUMMIT_API_URL: api.url,
        SUMMIT_ENROL_TOKEN: await enrolmentToken(api.url, tokens.find((t) => t.role === 'admin')!.token),
      },
      stdio: ['ignore', fd, fd],
    });
    closeSync(fd);
    stops.push(() => stopChild(child));

    const connection = await Connection.connect({ address: temporal.address });
    stops.push(() => connection.close());
    return {
      config, dataDir, apiUrl: api.url, reposDir: vessel.reposDir, builderLog, stop,
      pids: { temporal: temporal.child.pid, api: api.pid, builder: child.pid },
      client: new Client({ connection, namespace: config.SUMMIT_TEMPORAL_NAMESPACE, dataConverter: dataConverterFor(config) }),
      adminToken: tokens.find((t) => t.role === 'admin')!.token,
      hookToken: tokens.find((t) => t.role === 'hook')!.token,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}

/** A one-time enrolment token for the bench's trusted builder. */
async function enrolmentToken(apiUrl: string, adminToken: string): Promise<string> {
  const response = await fetch(`${apiUrl}/api/builders/enrolments`, {
    method: 'POST', headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' }, body: JSON.stringify({ trust: 'trusted' }),
  });
  if (response.status !== 201) throw new Error(`issuing an enrolment token: ${response.status} ${await response.text()}`);
  return ((await response.json()) as { token: string }).token;
}
