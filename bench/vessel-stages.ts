import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { Artefact, ImportRequest } from '../core/contracts/build';
import { builderId, type BuildId } from '../core/contracts/ids';
import { signArtefactToken } from '../core/build/tokens';
import type { PackageMeta } from '../core/formats/stone/meta';
import { stoneFileName } from '../core/repo/pool';
import { writePackageFromRoot } from '../packaging/package-writer';
import { artefactsDir } from '../activities/avalanche/paths';
import { startArtefactServer } from '../workers/avalanche/artefact-server';
import { vesselDeps } from '../activities/vessel/activities';
import { fetchArtefacts } from '../activities/vessel/fetch';
import { importBuild } from '../activities/vessel/import-build';
import { stagingDirFor } from '../activities/vessel/staging';
import type { StagedCandidate } from '../activities/vessel/publish';
import { verifyStagedStone } from '../activities/vessel/verify';

/**
 * Vessel's stages for trivial builds (issue 11 item 8), on real stones served by the real avalanche artefact server
 * over loopback HTTP into a real repository: what one import costs beside the build itself, and what a burst of
 * builds finishing together costs. A trivial build is what the wave benchmark's recipes make: two small packages.
 */
const SINGLE_RUNS = 30;
const BURST = 50;

function meta(name: string, release: number): PackageMeta {
  return {
    name, version: '1.0', release, buildRelease: 1, architecture: 'x86_64', summary: `${name} (bench)`, description: 'A trivial package',
    homepage: 'https://example.org', sourceId: name, licenses: ['MPL-2.0'], depends: [], provides: [`binary(${name})`], conflicts: [], buildDepends: [],
  };
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const f1 = (x: number): string => `${x.toFixed(1)} ms`;
/** Median and, in brackets, the fastest run: on a shared machine the fastest is the cost without other work's noise. */
const fig = (xs: number[]): string => `${f1(median(xs))} (${Math.min(...xs).toFixed(1)})`;

export async function runVesselStages(work: string, windowMs: number): Promise<void> {
  const dataDir = join(work, 'builder');
  const secret = randomBytes(32);
  const server = await startArtefactServer({ dataDir, secret, port: 0, host: '127.0.0.1' });
  const baseUrl = `http://127.0.0.1:${server.port}`;
  let serial = 0;

  /** A finished trivial build on the builder: two stones in its artefacts folder. */
  async function trivialBuild(): Promise<ImportRequest> {
    const n = serial++;
    const buildId = `bench/stage-${n}`;
    const dir = artefactsDir(dataDir, buildId);
    await mkdir(dir, { recursive: true });
    const artefacts: Artefact[] = [];
    for (const name of [`tb${n}`, `tb${n}-devel`]) {
      const m = meta(name, 1);
      const root = join(work, 'roots', name);
      await mkdir(join(root, 'usr', 'bin'), { recursive: true });
      await writeFile(join(root, 'usr', 'bin', name), `#!/bin/sh\necho ${name}\n`, { mode: 0o755 });
      const file = join(dir, stoneFileName(m));
      await writePackageFromRoot(root, m, file);
      const bytes = await readFile(file);
      artefacts.push({ name: stoneFileName(m), kind: 'stone', size: bytes.length, sha256: createHash('sha256').update(bytes).digest('hex') });
    }
    const token = signArtefactToken(secret, buildId, Math.floor(Date.now() / 1000) + 3600).token;
    return { buildId: buildId as BuildId, index: 'main', architecture: 'x86_64', build: { builderId: builderId('bench-builder'), artefactBaseUrl: baseUrl, artefactToken: token, artefacts } };
  }

  try {
    const deps = vesselDeps(join(work, `vessel-${windowMs}`), {}, { windowMs });
    const publisher = deps.publishers.for('main');
    const label = `window ${windowMs} ms`;

    // One build at a time, stage by stage (the steps importBuild takes, timed apart).
    const fetchMs: number[] = [];
    const verifyMs: number[] = [];
    const publishMs: number[] = [];
    for (let r = 0; r < SINGLE_RUNS; r++) {
      const req = await trivialBuild();
      const staging = stagingDirFor(deps.layout, req.buildId);
      const t0 = performance.now();
      const staged = await fetchArtefacts({ buildId: req.buildId, baseUrl: req.build.artefactBaseUrl, token: req.build.artefactToken }, req.build.artefacts, staging);
      const t1 = performance.now();
      const candidates: StagedCandidate[] = [];
      for (const s of staged) candidates.push({ ...(await verifyStagedStone(req.buildId, s)), stagedPath: s.path });
      const t2 = performance.now();
      await publisher.publish(req.buildId, candidates);
      const t3 = performance.now();
      await rm(staging, { recursive: true, force: true });
      fetchMs.push(t1 - t0);
      verifyMs.push(t2 - t1);
      publishMs.push(t3 - t2);
    }
    // The same through importBuild, one after another: the activity's whole body.
    const wholeMs: number[] = [];
    for (let r = 0; r < SINGLE_RUNS; r++) {
      const req = await trivialBuild();
      const t0 = performance.now();
      await importBuild(deps, req);
      wholeMs.push(performance.now() - t0);
    }
    console.log(
      `one trivial build (2 stones), ${label}, median (fastest) of ${SINGLE_RUNS}: fetch + sha256 ${fig(fetchMs)}, stone check ${fig(verifyMs)}, ` +
        `publish (pool, history, root index) ${fig(publishMs)}; importBuild whole ${fig(wholeMs)}`,
    );

    // A burst: BURST builds finish together and are imported concurrently.
    const burst: ImportRequest[] = [];
    for (let i = 0; i < BURST; i++) burst.push(await trivialBuild());
    const latencies: number[] = [];
    const t0 = performance.now();
    const ids = await Promise.all(burst.map((req) => importBuild(deps, req).then((r) => (latencies.push(performance.now() - t0), r.historyId))));
    const total = performance.now() - t0;
    console.log(
      `burst of ${BURST} trivial builds imported together, ${label}: ${f1(total)} until all published, ${new Set(ids).size} history version(s), ` +
        `latency p50 ${f1(median(latencies))}, max ${f1(Math.max(...latencies))}`,
    );
  } finally {
    await server.close();
  }
}
