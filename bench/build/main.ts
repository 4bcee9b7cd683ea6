/**
 * `npm run bench:build -- [--builds N] [--recipes R] [--json] [--log]`: the fixed costs of one builder's builds, stage by
 * stage, on the real things (git, systemd-nspawn, the artefact server) and without Temporal: the build activity runs
 * in the SDK's MockActivityEnvironment, one build after another. Needs root and systemd-nspawn, like a builder.
 *
 * A repository of R trivial recipes (one `install` step writing one file; the wave bench's in-container clock
 * markers split the step into container start, script and container stop) gets N + 1 builds: one `base` recipe
 * first, then N recipes that each depend on base's .stone, served over HTTP as vessel serves packages. Every
 * other build is of a new commit of the repository (a push between builds), as in a wave that keeps receiving
 * pushes. Per stage it prints the p50 and mean over the N dependent builds (the first build, which meets an empty
 * builder, is printed on its own line). Stages come from the build log's markers (bench/wave/build-log-stages.ts);
 * "after packing" is the activity's end minus the `build succeeded` marker (log copy, artefact hashes, work dir
 * removal), "serve" the time to GET every artefact from the artefact server, "clean-up" cleanupBuild.
 * Figures only; nothing is asserted.
 */
import { execFileSync } from 'node:child_process';
import { createReadStream, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import { createAvalancheActivities } from '../../activities/avalanche/build';
import { artefactsDir } from '../../activities/avalanche/paths';
import type { BuildRequest, BuildResult } from '../../core/contracts/build';
import { buildId, builderId } from '../../core/contracts/ids';
import { startArtefactServer } from '../../workers/avalanche/artefact-server';
import { artefactTokenSigner, loadOrCreateSecret } from '../../workers/avalanche/secret';
import { logStages } from '../wave/build-log-stages';
import { percentile } from '../wave/statistics';

/** The activity's own log lines (build started/succeeded) would mix with the figures on stdout. */
const QUIET = new DefaultLogger('WARN');

interface Options {
  builds: number;
  recipes: number;
  json: boolean;
  /** Print the last build's log (its markers carry times) after the figures. */
  showLog: boolean;
}

function options(argv: readonly string[]): Options {
  const opts: Options = { builds: 10, recipes: 300, json: false, showLog: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--json') opts.json = true;
    else if (a === '--log') opts.showLog = true;
    else if (a === '--builds' || a === '--recipes') {
      const n = Number(argv[++i]);
      if (!Number.isInteger(n) || n < 1) throw new Error(`${a} needs a whole number ≥ 1`);
      opts[a === '--builds' ? 'builds' : 'recipes'] = n;
    } else throw new Error(`unknown option ${a} (expected --builds N, --recipes R, --json, --log)`);
  }
  return opts;
}

const GIT_ENV = { ...process.env, GIT_AUTHOR_NAME: 'bench', GIT_AUTHOR_EMAIL: 'bench@summit.invalid', GIT_COMMITTER_NAME: 'bench', GIT_COMMITTER_EMAIL: 'bench@summit.invalid', GIT_CONFIG_NOSYSTEM: '1' };
const git = (cwd: string, ...args: string[]) => execFileSync('git', ['-c', 'init.defaultBranch=main', ...args], { cwd, env: GIT_ENV, encoding: 'utf8' }).trim();

function recipe(name: string, builddeps: string[]): string {
  const mark = (what: string) => `    echo "wavebench: ${what} $(date +%%s.%%N)"`;
  return [
    `name: ${name}`, 'version: "1.0.0"', 'release: 1', 'homepage: https://example.org', 'license: MIT',
    `summary: ${name}`, `description: ${name}`,
    ...(builddeps.length ? ['builddeps:', ...builddeps.map((d) => `    - ${d}`)] : []),
    'install: |', mark('steps began'), `    install -Dm644 /dev/null %(installroot)%(datadir)/${name}/built`, mark('steps ended'), '',
  ].join('\n');
}

type Stage = 'total' | 'checkout' | 'dependencies' | 'containerStart' | 'script' | 'containerStop' | 'packing' | 'afterPacking' | 'serve' | 'cleanup';
const STAGES: Array<{ key: Stage; label: string }> = [
  { key: 'total', label: 'activity, start to result' },
  { key: 'checkout', label: 'checkout (+ recipe parse)' },
  { key: 'dependencies', label: 'dependencies (beside the checkout)' },
  { key: 'containerStart', label: 'container start' },
  { key: 'script', label: 'step script' },
  { key: 'containerStop', label: 'container stop' },
  { key: 'packing', label: 'analysis + packing' },
  { key: 'afterPacking', label: 'after packing (hashes, clean work dir)' },
  { key: 'serve', label: 'artefact serving (GET all)' },
  { key: 'cleanup', label: 'cleanupBuild' },
];

async function main(): Promise<void> {
  const opts = options(process.argv.slice(2));
  if (process.getuid?.() !== 0) throw new Error('bench:build runs builds in systemd-nspawn, which needs root');
  const tmp = mkdtempSync(join(tmpdir(), 'summit-buildbench-'));
  try {
    const repoRoot = join(tmp, 'repo');
    const work = join(repoRoot, 'work');
    mkdirSync(work, { recursive: true });
    const write = (path: string, text: string) => {
      mkdirSync(join(work, path, '..'), { recursive: true });
      writeFileSync(join(work, path), text);
    };
    write('base/stone.yaml', recipe('base', []));
    for (let i = 0; i < opts.recipes; i++) write(`r${i}/stone.yaml`, recipe(`r${i}`, ['base']));
    git(work, 'init', '-q');
    git(work, 'add', '-A');
    git(work, 'commit', '-q', '-m', 'recipes');
    const bare = join(repoRoot, 'recipes.git');
    git(repoRoot, 'clone', '-q', '--bare', work, bare);
    git(work, 'remote', 'add', 'origin', bare);
    let commit = git(work, 'rev-parse', 'HEAD');
    const push = (n: number) => {
      write(`r${n}/notes.txt`, `change ${n}\n`);
      git(work, 'add', '-A');
      git(work, 'commit', '-q', '-m', `change ${n}`);
      git(work, 'push', '-q', 'origin', 'HEAD:main');
      commit = git(work, 'rev-parse', 'HEAD');
    };

    const dataDir = join(tmp, 'data');
    const secret = await loadOrCreateSecret(dataDir);
    const artefacts = await startArtefactServer({ dataDir, secret, port: 0, host: '127.0.0.1' });
    const baseUrl = `http://127.0.0.1:${artefacts.port}`;
    // Vessel's part: the published dependency, served over HTTP.
    let served = '';
    const packages = createServer((req, res) => {
      if (req.url !== `/${basename(served)}`) return void res.writeHead(404).end();
      res.writeHead(200);
      createReadStream(served).pipe(res);
    });
    await new Promise<void>((resolve) => packages.listen(0, '127.0.0.1', resolve));
    const packagesUrl = `http://127.0.0.1:${(packages.address() as AddressInfo).port}`;

    const activities = createAvalancheActivities({
      dataDir, builderId: builderId('bench-builder'), artefactBaseUrl: baseUrl, tokens: artefactTokenSigner(secret, 3600), jobs: 1,
      sources: { localSources: [], repositoryRoots: [repoRoot], maxUpstreamBytes: 1 << 30, upstreamTimeoutMs: 30_000 },
    });
    const request = (source: string, deps: BuildRequest['dependencies']): BuildRequest => ({
      buildId: buildId({ project: 'bench', repository: 'recipes', source, version: '1.0.0', release: 1, isa: 'x86_64' }), repoUrl: bare,
      commit, recipePath: source, source, version: '1.0.0', release: 1, isa: 'x86_64', buildRelease: 1, dependencies: deps,
    });

    const measure = async (req: BuildRequest): Promise<{ result: BuildResult; stages: Record<Stage, number> }> => {
      const began = Date.now();
      const result = await new MockActivityEnvironment(undefined, { logger: QUIET }).run<[BuildRequest], BuildResult, typeof activities.buildRecipe>(activities.buildRecipe, req);
      const ended = Date.now();
      const log = logStages(readFileSync(result.logPath, 'utf8'));
      if (!log || log.containerStartMs === undefined) throw new Error(`${req.source}: the build log lacks its stage markers`);
      const servedAt = Date.now();
      for (const a of result.artefacts) {
        const res = await fetch(`${baseUrl}/builds/${encodeURIComponent(result.buildId)}/${a.name}`, { headers: { Authorization: `Bearer ${result.artefactToken}` } });
        if (!res.ok) throw new Error(`GET ${a.name}: ${res.status}`);
        await res.arrayBuffer();
      }
      const servedMs = Date.now() - servedAt;
      const stages: Record<Stage, number> = {
        total: ended - began, checkout: log.checkoutMs, dependencies: log.dependenciesMs,
        containerStart: log.containerStartMs, script: log.scriptMs!, containerStop: log.containerStopMs!,
        packing: log.packingMs, afterPacking: ended - log.succeededAt, serve: servedMs, cleanup: 0,
      };
      return { result, stages };
    };

    const first = await measure(request('base', []));
    const stone = first.result.artefacts.find((a) => a.kind === 'stone')!;
    served = join(tmp, 'pool', stone.name);
    mkdirSync(join(tmp, 'pool'));
    writeFileSync(served, readFileSync(join(artefactsDir(dataDir, first.result.buildId), stone.name)));
    const dep = [{ name: 'base', url: `${packagesUrl}/${stone.name}`, sha256: stone.sha256 }];
    const rows: Array<Record<Stage, number>> = [];
    let lastLog = '';
    for (let i = 0; i < opts.builds; i++) {
      if (i % 2 === 1) push(i);
      const { result, stages } = await measure(request(`r${i % opts.recipes}`, dep));
      lastLog = readFileSync(result.logPath, 'utf8');
      const t = Date.now();
      await new MockActivityEnvironment(undefined, { logger: QUIET }).run(activities.cleanupBuild, result.buildId);
      stages.cleanup = Date.now() - t;
      rows.push(stages);
    }
    await artefacts.close();
    await new Promise<void>((resolve) => packages.close(() => resolve()));

    const figures = Object.fromEntries(STAGES.map(({ key }) => {
      const values = rows.map((r) => r[key]);
      return [key, { p50: percentile(values, 50)!, mean: values.reduce((a, b) => a + b, 0) / values.length, first: first.stages[key] }];
    }));
    if (opts.json) {
      console.log(JSON.stringify({ builds: opts.builds, recipes: opts.recipes, stages: figures }, null, 2));
      return;
    }
    console.log(`bench:build — ${opts.builds} builds of trivial recipes with one dependency, repository of ${opts.recipes} recipes, a push every other build`);
    console.log(`${'stage'.padEnd(40)} ${'p50 ms'.padStart(8)} ${'mean ms'.padStart(8)} ${'first build'.padStart(12)}`);
    for (const { key, label } of STAGES) {
      const f = figures[key];
      console.log(`${label.padEnd(40)} ${f.p50.toFixed(0).padStart(8)} ${f.mean.toFixed(0).padStart(8)} ${String(f.first).padStart(12)}`);
    }
    const fixed = figures.total.p50 - figures.script.p50;
    console.log(`fixed cost per build (activity p50 − script p50): ${fixed.toFixed(0)} ms`);
    if (opts.showLog) console.log(`\nthe last build's log:\n${lastLog}`);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
