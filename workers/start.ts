import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { startApi } from '../api/main';
import { parseConfig } from '../core/config';
import { HUB_WORKFLOW_ID, SIGNAL_REFRESH } from '../core/contracts/hub';
import { openDatabase } from '../db/orm';
import { Store } from '../db/store';
import { loadAvalancheConfig, startAvalanche } from './avalanche';
import { DEMO_REPOSITORY, ensureDemoRepo, registerDemo } from './demo';
import { startDevServer } from './dev-server';
import { startBuilderHeartbeat } from './heartbeat';
import { startSummit } from './summit';
import { connectClient } from './temporal';
import { loadVesselConfig, startVessel } from './vessel';

/**
 * `npm start`: the whole farm on one machine on embedded defaults. The Temporal dev server keeps its history in
 * a SQLite file and the read model lives in an embedded database file, both in the data folder, so a second
 * start resumes where the first stopped. Ctrl-C stops every role, then Temporal.
 */
async function main(): Promise<void> {
  const env = { ...process.env };
  const config = parseConfig(env);
  const dataDir = resolve(config.SUMMIT_DATA_DIR);
  mkdirSync(dataDir, { recursive: true });
  const bin = env.SUMMIT_TEMPORAL_BIN ?? 'temporal';
  const [ip, port] = config.SUMMIT_TEMPORAL_ADDRESS.split(':');
  const uiPort = config.SUMMIT_TEMPORAL_UI_PORT;

  const say = (line: string) => console.log(`summit: ${line}`);
  say(`data folder ${dataDir}`);
  const temporal = await startDevServer({ bin, ip, port: Number(port), uiPort, dbFile: join(dataDir, 'temporal.db'), logFile: join(dataDir, 'temporal.log'), readyTimeoutMs: 60_000 });
  say(`Temporal dev server ${temporal.address} (log ${temporal.logFile})`);

  const stops: Array<() => Promise<void>> = [() => temporal.stop()];
  const stopAll = async (): Promise<void> => {
    for (const stop of stops.reverse()) await stop().catch((err) => console.error(`summit: while stopping: ${String(err)}`));
  };
  try {
    const api = await startApi(config);
    stops.push(() => api.close());
    const summit = await startSummit(config);
    stops.push(() => summit.stop());
    const vessel = await startVessel(loadVesselConfig(env));
    stops.push(() => vessel.stop());
    // The local builder serves exactly the levels this farm builds (see SUMMIT_BUILDER_ISA).
    const avalanche = await startAvalanche(loadAvalancheConfig({ SUMMIT_BUILDER_ISA: ['x86_64', ...config.SUMMIT_VARIANTS].join(','), ...env }));
    stops.push(() => avalanche.stop());
    const client = await connectClient(config);
    const heartbeat = startBuilderHeartbeat(client, () => avalanche.status(), 5_000);
    stops.push(async () => heartbeat.stop());

    const orm = await openDatabase({ url: config.SUMMIT_DATABASE_URL, dataDir });
    stops.push(() => orm.close(true));
    const store = new Store(orm);
    const demo = ensureDemoRepo(dataDir, resolve(__dirname, '..', '..', 'examples', 'recipes'));
    await registerDemo(store, demo);
    await client.workflow.getHandle(HUB_WORKFLOW_ID).signal(SIGNAL_REFRESH, { repository: DEMO_REPOSITORY, origin: 'start' });

    say(`Temporal UI   ${temporal.uiUrl}`);
    say(`API           ${api.url}   (tokens in ${join(dataDir, 'tokens.json')})`);
    say(`repository    ${join(vessel.reposDir, 'main', 'moss-root-index.json')}${vessel.repositoryUrl ? ` (served at ${vessel.repositoryUrl})` : ''}`);
    say(`demo recipes  ${demo} (git push there, or POST /api/repositories/${DEMO_REPOSITORY}/refresh)`);
    say('Ctrl-C stops everything; the next start resumes from the data folder');
    const progress = watchProgress(store, say);
    stops.push(async () => progress.stop());

    await new Promise<void>((resolveStop) => {
      for (const sig of ['SIGINT', 'SIGTERM'] as const) process.once(sig, () => resolveStop());
      // A role that dies on its own takes the farm down with it, rather than leaving half a farm running.
      for (const role of [summit, vessel, avalanche]) role.done.catch((err) => {
        console.error(`summit: a role stopped: ${err instanceof Error ? err.message : String(err)}`);
        resolveStop();
      });
    });
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
    const { items } = await store.listTasks({ limit: 200, offset: 0 });
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

main().then(
  () => process.exit(0),
  (err) => {
    console.error(`summit: ${err instanceof Error ? err.stack : String(err)}`);
    process.exit(1);
  },
);
