import { chmodSync, existsSync, mkdirSync } from 'node:fs';
import os from 'node:os';
import { join, resolve } from 'node:path';
import { parseConfig } from '../core/config';
import { machineArchitecture } from '../core/isa';
import { variantsFor } from '../core/variants';
import { loadProfile } from './profile';
import { HUB_WORKFLOW_ID, SIGNAL_REFRESH } from '../core/contracts/hub';
import { openDatabase } from '../db/orm';
import { Store } from '../db/store';
import { forkApi } from './api-process';
import { startAvalanche } from './avalanche';
import { loadAvalancheConfig } from './avalanche/config';
import { identityPaths, loadOrEnrol } from './avalanche/identity';
import { loadOrCreateTokens } from '../api/tokens';
import { DEMO_REPOSITORY, ensureDemoRepo, installDemoHook, registerDemo } from './demo';
import { startDevServer } from './dev-server';
import { startBuilderHeartbeat } from './heartbeat';
import { startSummit } from './summit';
import { ensurePayloadKeyFile } from './payload-keys';
import { connectClient } from './temporal';
import { loadVesselConfig, startVessel } from './vessel';
import { installRuntime, runtimeSetupFrom } from './runtime';
import { loggerOf } from '../api/logger';

/**
 * `npm start`: the whole farm on one machine on embedded defaults. The Temporal dev server keeps its history in
 * a SQLite file and the read model lives in an embedded database file, both in the data folder, so a second
 * start resumes where the first stopped. The API runs in a process of its own (workers/api-process.ts), the other
 * roles in this one. Ctrl-C stops every role, then Temporal.
 */
async function main(): Promise<void> {
  const env = { ...process.env };
  const dataDir = resolve(parseConfig(env).SUMMIT_DATA_DIR);
  // The data folder holds the tokens, the payload keys and both databases: private to this user, even when an
  // earlier version (or a umask of 022) made it readable by others.
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  chmodSync(dataDir, 0o700);
  // Payloads are encrypted (core/payload-codec.ts); a farm on embedded defaults keeps its key in the data folder.
  if (!env.SUMMIT_PAYLOAD_KEYS && !env.SUMMIT_PAYLOAD_KEY_FILE) env.SUMMIT_PAYLOAD_KEY_FILE = ensurePayloadKeyFile(join(dataDir, 'payload-keys'));
  const [ip, port] = parseConfig(env).SUMMIT_TEMPORAL_ADDRESS.split(':');
  const uiPort = parseConfig(env).SUMMIT_TEMPORAL_UI_PORT;
  // The Temporal UI may ask the API's codec endpoint to decode payloads for an operator holding the admin token.
  env.SUMMIT_CODEC_UI_ORIGIN ??= `http://${ip}:${uiPort}`;
  // Every role's log goes to <data>/logs/<role>.log (api/logger.ts); the terminal shows only the lines below.
  env.SUMMIT_LOG_DIR ??= join(dataDir, 'logs');
  const config = parseConfig(env);
  // Before any worker: the SDK's logs (and the roles' own) go to those files, not to this terminal.
  const logs = installRuntime(runtimeSetupFrom(env, 'summit'));
  const bin = env.SUMMIT_TEMPORAL_BIN ?? 'temporal';
  const apiHost = ['0.0.0.0', '::'].includes(config.SUMMIT_API_HOST) ? '127.0.0.1' : config.SUMMIT_API_HOST;
  const temporalDb = join(dataDir, 'temporal.db');

  const say = (line: string) => console.log(`summit: ${line}`);
  say(`data folder ${dataDir}`);
  const temporal = await startDevServer({
    bin, ip, port: Number(port), uiPort, dbFile: temporalDb, logFile: join(dataDir, 'temporal.log'), readyTimeoutMs: 60_000,
    uiCodecEndpoint: `http://${apiHost}:${config.SUMMIT_API_PORT}/codec`,
  });
  // The server creates its database itself (an empty file is refused); it is private from here on, and SQLite gives
  // the -wal and -shm files it creates later the database file's mode.
  for (const file of [temporalDb, `${temporalDb}-wal`, `${temporalDb}-shm`]) if (existsSync(file)) chmodSync(file, 0o600);
  say(`Temporal dev server ${temporal.address} (log ${temporal.logFile})`);

  const stops: Array<() => Promise<void>> = [() => temporal.stop()];
  let stopping = false;
  const stopAll = async (): Promise<void> => {
    for (const stop of stops.reverse()) await stop().catch((err) => console.error(`summit: while stopping: ${String(err)}`));
  };
  try {
    // The API in its own process: planning and intake here never delay a request (workers/api-process.ts).
    const api = await forkApi(env);
    stops.push(() => api.stop());
    const summit = await startSummit(config);
    stops.push(() => summit.stop());
    const vessel = await startVessel(loadVesselConfig(env));
    stops.push(() => vessel.stop());
    // The local builder serves exactly the levels this farm builds for its architecture (see SUMMIT_BUILDER_ISA).
    const avalancheLog = loggerOf(logs.role('avalanche'));
    const architecture = config.SUMMIT_BUILDER_ARCH ?? machineArchitecture(os.machine());
    const served = variantsFor(config.SUMMIT_VARIANTS, loadProfile(config)).filter((v) => v.architecture === architecture).map((v) => v.isa);
    const avalancheConfig = loadAvalancheConfig({ SUMMIT_BUILDER_ISA: served.join(','), SUMMIT_API_URL: api.url, ...env });
    // The farm's own builder is enrolled as trusted on its first start (issue 10), with a token the admin issues
    // through the API as any builder's; later starts find its credential in the data folder.
    const identity = await loadOrEnrol({
      dataDir: avalancheConfig.dataDir, builderId: avalancheConfig.builderId, apiUrl: avalancheConfig.apiUrl,
      token: avalancheConfig.enrolToken ?? (existsSync(identityPaths(avalancheConfig.dataDir).record) ? undefined : await localEnrolmentToken(api.url, dataDir)),
    });
    const avalanche = await startAvalanche(avalancheConfig, avalancheLog, {}, identity);
    stops.push(() => avalanche.stop());
    const client = await connectClient(config);
    const heartbeat = startBuilderHeartbeat(client, () => avalanche.status(), 5_000, (m) => avalancheLog.warn(m));
    stops.push(async () => heartbeat.stop());

    const orm = await openDatabase({ url: config.SUMMIT_DATABASE_URL, dataDir });
    stops.push(() => orm.close(true));
    const store = new Store(orm);
    const demo = ensureDemoRepo(dataDir, resolve(__dirname, '..', '..', 'examples', 'recipes'));
    const hookToken = (await loadOrCreateTokens(dataDir)).tokens.find((t) => t.role === 'hook')!.token;
    await installDemoHook(demo, api.url, hookToken);
    await registerDemo(store, demo);
    await client.workflow.getHandle(HUB_WORKFLOW_ID).signal(SIGNAL_REFRESH, { repository: DEMO_REPOSITORY, origin: 'start' });

    say(`Temporal UI   ${temporal.uiUrl}`);
    say(`API           ${api.url}   (pid ${api.pid}; tokens in ${join(dataDir, 'tokens.json')})`);
    say(`repository    ${join(vessel.reposDir, 'main', 'moss-root-index.json')}${vessel.repositoryUrl ? ` (served at ${vessel.repositoryUrl})` : ''}`);
    say(`demo recipes  ${demo} (bare, with summit's post-receive hook: every push builds). Try:`);
    say(`                git clone ${demo} demo && cd demo`);
    say('                $EDITOR liba/stone.yaml       # e.g. release : 2');
    say('                git commit -am "liba: rebuild" && git push origin main');
    say(`logs          ${config.SUMMIT_LOG_DIR}/{api,summit,vessel,avalanche}.log (level ${config.SUMMIT_LOG_LEVEL})` +
      (config.SUMMIT_TEMPORAL_METRICS_ADDRESS ? `; Temporal SDK metrics at http://${config.SUMMIT_TEMPORAL_METRICS_ADDRESS}/metrics` : ''));
    say(`payload key   ${config.SUMMIT_PAYLOAD_KEY_FILE ?? 'SUMMIT_PAYLOAD_KEYS'} (Temporal payloads are encrypted; read them decoded with`);
    say(`                temporal workflow show --address ${temporal.address} -w <build id> --codec-endpoint ${api.url}/codec --codec-auth "Bearer <admin token>")`);
    say('Ctrl-C stops everything; the next start resumes from the data folder');
    const progress = watchProgress(store, say);
    stops.push(async () => progress.stop());

    await new Promise<void>((resolveStop) => {
      for (const sig of ['SIGINT', 'SIGTERM'] as const) process.once(sig, () => resolveStop());
      // Without Temporal nothing can progress: a dev server that dies (crash, OOM killer, kill -9) stops the farm.
      void temporal.exited.then(({ code, signal }) => {
        if (stopping) return;
        console.error(`summit: the Temporal dev server (pid ${temporal.child.pid}) exited on its own (${signal ?? `code ${code}`}); its log: ${temporal.logFile}`);
        exitCode = 1;
        resolveStop();
      });
      // A role that dies on its own takes the farm down with it, rather than leaving half a farm running.
      for (const role of [api, summit, vessel, avalanche]) role.done.catch((err) => {
        console.error(`summit: a role stopped: ${err instanceof Error ? err.message : String(err)}`);
        exitCode = 1;
        resolveStop();
      });
    });
    stopping = true;
    say('stopping');
  } finally {
    await stopAll();
  }
  say('stopped');
}

/** Print each task's status changes as they happen: long work shows progress. */
function watchProgress(store: Store, say: (line: string) => void): { stop(): void } {
  const seen = new Map<string, string>();
  const tick = async (): Promise<void> => {
    const { items } = await store.listTasks({ limit: 200, offset: 0, count: false });
    for (const t of [...items].reverse()) {
      if (seen.get(t.id) === t.status) continue;
      seen.set(t.id, t.status);
      const extra = t.status === 'failed' ? ` — ${t.reason ?? ''}` : t.status === 'completed' ? ` — ${(t.published ?? []).map((p) => p.uri).join(', ')}` : '';
      say(`${t.source} ${t.version}-${t.release} ${t.isa}: ${t.status}${extra}`);
    }
  };
  const timer = setInterval(() => void tick().catch(() => undefined), 2_000);
  return { stop: () => clearInterval(timer) };
}

/** Non-zero when the farm stopped because a part of it died rather than on request. */
let exitCode = 0;

main().then(
  () => process.exit(exitCode),
  (err) => {
    console.error(`summit: ${err instanceof Error ? err.stack : String(err)}`);
    process.exit(1);
  },
);

/** A one-time enrolment token for the local builder, issued with the data folder's admin token. */
async function localEnrolmentToken(apiUrl: string, dataDir: string): Promise<string> {
  const admin = (await loadOrCreateTokens(dataDir)).tokens.find((t) => t.role === 'admin')!.token;
  const response = await fetch(`${apiUrl}/api/builders/enrolments`, {
    method: 'POST', headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' }, body: JSON.stringify({ trust: 'trusted', expiresIn: '1h' }),
  });
  if (response.status !== 201) throw new Error(`could not issue the local builder's enrolment token: ${response.status} ${await response.text()}`);
  return ((await response.json()) as { token: string }).token;
}
