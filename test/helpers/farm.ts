import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { startApi, RunningApi } from '../../api/main';
import { loadOrCreateTokens } from '../../api/tokens';
import { main as summitCli } from '../../cli/main';
import { Config, parseConfig } from '../../core/config';
import { generatePayloadKey } from '../../core/payload-codec';
import type { TrustLevel } from '../../core/contracts/trust';
import { identityPaths } from '../../workers/avalanche/identity';
import { stopChild } from '../../workers/dev-server';
import { startSummit, RunningRole } from '../../workers/summit';
import { loadVesselConfig, RunningVessel, startVessel } from '../../workers/vessel';
import { freePort } from '../support/temporal';

const ROOT = resolve(__dirname, '..', '..');

/**
 * A whole farm for end-to-end tests, every part real: summit (hub + build workflows), vessel and the API in this
 * process, each avalanche builder as its own process (`node dist/workers/avalanche.js`) so a test can kill one.
 */
export interface Farm {
  config: Config;
  api: RunningApi;
  adminToken: string;
  hookToken: string;
  reposDir: string;
  builders: Map<string, Builder>;
  /**
   * `prefix`: a command the builder runs under, e.g. `nsenter --net=…` to run it on another "host" (test/support/netns.ts).
   * `trust`: the builder is enrolled at that level with a one-time token issued through the API (default trusted),
   * unless its data folder already holds its credential or `env` brings SUMMIT_ENROL_TOKEN; `none`: not enrolled.
   */
  startBuilder(id: string, env?: Record<string, string>, prefix?: string[], trust?: TrustLevel | 'none'): Promise<Builder>;
  /** A one-time enrolment token of `trust`, issued by the admin through the API. */
  enrolmentToken(trust: TrustLevel): Promise<string>;
  /** SUMMIT_PAYLOAD_KEYS of every role of this farm (payloads are encrypted, as in production). */
  payloadKeys: string;
  stop(): Promise<void>;
}

export interface Builder {
  id: string;
  dataDir: string;
  logFile: string;
  child: ChildProcess;
  stop(): Promise<void>;
}

export async function startFarm(opts: {
  work: string; temporalAddress: string; databaseUrl: string; variants?: string;
  /**
   * SUMMIT_REPOSITORY_ROOTS of the API and every builder: where local recipe repositories may be registered and
   * cloned from (default: the test's work folder, where tests create them).
   */
  repositoryRoots?: string;
  /** SUMMIT_LOCAL_SOURCES of every builder: folders upstreams may be read from by path (default: none). */
  localSources?: string;
  /** SUMMIT_PAYLOAD_KEYS of every role (default: a key made for this farm); the history recorder passes a fixed one. */
  payloadKeys?: string;
  /** More settings of summit, the API and vessel (e.g. listen addresses, SUMMIT_VESSEL_PORT, SUMMIT_PACKAGES_URL). */
  env?: Record<string, string>;
}): Promise<Farm> {
  const repositoryRoots = opts.repositoryRoots ?? opts.work;
  const dataDir = join(opts.work, 'summit');
  mkdirSync(dataDir, { recursive: true });
  const payloadKeys = opts.payloadKeys ?? generatePayloadKey('farm');
  const config = parseConfig({
    SUMMIT_PAYLOAD_KEYS: payloadKeys,
    SUMMIT_DATA_DIR: dataDir,
    SUMMIT_TEMPORAL_ADDRESS: opts.temporalAddress,
    SUMMIT_DATABASE_URL: opts.databaseUrl,
    SUMMIT_API_PORT: String(await freePort()),
    SUMMIT_POLL_INTERVAL: '1h',
    SUMMIT_LOG_LEVEL: 'warn',
    SUMMIT_VARIANTS: opts.variants ?? '',
    SUMMIT_REPOSITORY_ROOTS: repositoryRoots,
    ...opts.env,
  });
  const { tokens } = await loadOrCreateTokens(dataDir);
  const api = await startApi(config);
  // Builders are noticed gone after 3 missed 2-second beats; the hub re-plans every 2 s without a signal.
  const summit: RunningRole = await startSummit(config, { hub: { builderTimeoutMs: 6_000, replanEveryMs: 2_000 } });
  // Vessel reads the builder registry through the API before every import (issue 10).
  const vessel: RunningVessel = await startVessel(loadVesselConfig({ SUMMIT_DATA_DIR: dataDir, SUMMIT_TEMPORAL_ADDRESS: opts.temporalAddress, SUMMIT_PAYLOAD_KEYS: payloadKeys, SUMMIT_API_URL: api.url, ...opts.env }));
  const adminToken = tokens.find((t) => t.role === 'admin')!.token;
  const enrolmentToken = async (trust: TrustLevel): Promise<string> => {
    const response = await fetch(`${api.url}/api/builders/enrolments`, {
      method: 'POST', headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' }, body: JSON.stringify({ trust }),
    });
    if (response.status !== 201) throw new Error(`issuing an enrolment token: ${response.status} ${await response.text()}`);
    return ((await response.json()) as { token: string }).token;
  };
  const builders = new Map<string, Builder>();

  const startBuilder = async (id: string, env: Record<string, string> = {}, prefix: string[] = [], trust: TrustLevel | 'none' = 'trusted'): Promise<Builder> => {
    const builderDir = join(opts.work, `builder-${id}`);
    mkdirSync(builderDir, { recursive: true });
    const enrol = trust !== 'none' && env.SUMMIT_ENROL_TOKEN === undefined && !existsSync(identityPaths(builderDir).record)
      ? { SUMMIT_ENROL_TOKEN: await enrolmentToken(trust) } : {};
    const logFile = join(opts.work, `builder-${id}.log`);
    const fd = openSync(logFile, 'a');
    const argv = [...prefix, process.execPath, join(ROOT, 'dist', 'workers', 'avalanche.js')];
    const child = spawn(argv[0], argv.slice(1), {
      env: {
        ...process.env,
        SUMMIT_DATA_DIR: builderDir,
        SUMMIT_BUILDER_ID: id,
        SUMMIT_BUILDER_ISA: 'x86_64',
        SUMMIT_BUILDER_HEARTBEAT: '2s',
        SUMMIT_AVALANCHE_PORT: String(await freePort()),
        SUMMIT_AVALANCHE_HOST: '127.0.0.1',
        SUMMIT_TEMPORAL_ADDRESS: opts.temporalAddress,
        SUMMIT_REPOSITORY_ROOTS: repositoryRoots,
        ...(opts.localSources ? { SUMMIT_LOCAL_SOURCES: opts.localSources } : {}),
        SUMMIT_PAYLOAD_KEYS: payloadKeys,
        SUMMIT_API_URL: api.url,
        ...enrol,
        ...env,
      },
      stdio: ['ignore', fd, fd],
    });
    closeSync(fd);
    const builder: Builder = { id, dataDir: builderDir, logFile, child, stop: () => stopChild(child) };
    builders.set(id, builder);
    return builder;
  };

  return {
    config, api, builders, startBuilder, payloadKeys, enrolmentToken, adminToken,
    hookToken: tokens.find((t) => t.role === 'hook')!.token,
    reposDir: vessel.reposDir,
    stop: async () => {
      for (const b of builders.values()) await b.stop();
      await summit.stop();
      await vessel.stop();
      await api.close();
    },
  };
}

/** Poll until `check` returns a value (not undefined), or fail with the last state seen. */
export async function waitFor<T>(what: string, check: () => Promise<T | undefined>, timeoutMs: number, describe?: () => Promise<string>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${describe ? `\n${await describe()}` : ''}`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

/** A task as `GET /api/tasks` lists it: the fields the end-to-end tests read. */
export interface TaskView {
  id: string;
  source: string;
  release: number;
  status: string;
  attempts: number;
  builder: string | null;
  reason: string | null;
  logTail: string | null;
}

function git(cwd: string, ...args: string[]): string {
  return execFileSync('git', args, { cwd, encoding: 'utf8', env: { ...process.env, GIT_TERMINAL_PROMPT: '0' } }).trim();
}

/**
 * The recipe repository of an end-to-end test, as a contributor's farm has it: a bare repository `<work>/recipes.git`
 * with summit's post-receive hook installed (`summit hook install`), registered through the API as `recipes` of
 * `project`, and a contributor's clone `<work>/clone` on branch main to commit and push from.
 */
export async function hookedRepository(farm: Farm, work: string, project: string): Promise<{ bare: string; clone: string }> {
  const bare = join(work, 'recipes.git');
  git(work, 'init', '-q', '--bare', '-b', 'main', bare);
  const installed = await summitCli(['hook', 'install', bare, '--repository', 'recipes', '--url', farm.api.url, '--token', farm.hookToken, '--ref', 'main'], { out: () => undefined, err: (t) => console.error(t) });
  if (installed !== 0) throw new Error(`summit hook install ${bare} exited with ${installed}`);
  const created = await fetch(`${farm.api.url}/api/repositories`, {
    method: 'POST', headers: { authorization: `Bearer ${farm.adminToken}`, 'content-type': 'application/json' },
    body: JSON.stringify({ id: 'recipes', project, url: bare, ref: 'main' }),
  });
  if (created.status !== 201) throw new Error(`registering ${bare}: ${created.status} ${await created.text()}`);
  const clone = join(work, 'clone');
  git(work, 'clone', '-q', bare, clone);
  git(clone, 'config', 'user.email', `${project}@summit.invalid`);
  git(clone, 'config', 'user.name', project);
  git(clone, 'checkout', '-q', '-b', 'main');
  return { bare, clone };
}
