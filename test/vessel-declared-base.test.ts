/**
 * A declared base repository at vessel's level (issue 9, item 6), on real files: a wave's publish into an index
 * whose packages need what only another index provides is refused until the repository declares that index as its
 * base; then the history is written, and vessel says which base resolved which dependency — in the refusal's report
 * too, beside what still resolves nowhere. No build root here: only the set's own packages and its bases count.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApplicationFailure } from '@temporalio/common';
import { vesselDeps } from '../activities/vessel/activities';
import { publishStagedBuilds, stageBuild, type VesselDeps } from '../activities/vessel/import-build';
import { repositoryDir } from '../activities/vessel/layout';
import { CLOSURE_UNRESOLVED, type ClosureReport } from '../core/contracts/vessel';
import { buildStone, importRequest, startArtefactServer, testMeta, type ArtefactServer } from './support/vessel-fixtures';

const LIBA = 'soname(libliba.so.1(x86_64))';
let work: string;
let server: ArtefactServer;
let deps: VesselDeps;

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'summit-base-'));
  server = await startArtefactServer();
  deps = vesselDeps(join(work, 'vessel'), {}, {}, { buildRoot: false });
});

afterAll(async () => {
  await server.close();
  await rm(work, { recursive: true, force: true });
});

async function stage(buildId: string, index: string, meta: Parameters<typeof testMeta>): Promise<void> {
  const stone = await buildStone(work, testMeta(...meta));
  await stageBuild(deps, importRequest(server, buildId, [stone], { index }));
}

const publish = (index: string, buildIds: string[], bases?: string[]) =>
  publishStagedBuilds(deps, { waveId: `wave-${index}`, index, architecture: 'x86_64', buildIds, removals: [], ...(bases ? { bases } : {}) });

async function refusal(p: Promise<unknown>): Promise<ClosureReport> {
  const err = await p.then(() => undefined, (e: unknown) => e);
  expect(err).toBeInstanceOf(ApplicationFailure);
  expect((err as ApplicationFailure).type).toBe(CLOSURE_UNRESOLVED);
  return (err as ApplicationFailure).details?.[0] as ClosureReport;
}

test('a declared base index satisfies the closure check, and vessel says which base resolved what', async () => {
  // The base: liba, published in index `os`.
  await stage('b-liba', 'os', ['liba', 1, 1, { provides: ['binary(liba)', LIBA] }]);
  expect((await publish('os', ['b-liba'])).changed).toBe(true);

  // The add-ons: tool needs liba; app needs something nothing provides.
  await stage('b-tool', 'addons', ['tool', 1, 1, { depends: [LIBA] }]);
  await stage('b-app', 'addons', ['app', 1, 1, { depends: ['binary(nowhere)'] }]);
  const addons = repositoryDir(deps.layout, 'addons');

  // No base declared: both are unresolved, nothing is written.
  expect(await refusal(publish('addons', ['b-tool', 'b-app']))).toEqual({
    index: 'addons', unresolved: [{ dependency: 'binary(nowhere)', neededBy: ['app'] }, { dependency: LIBA, neededBy: ['tool'] }],
  });
  // `os` declared: liba resolves there, and the report says so; what resolves nowhere still refuses the history.
  expect(await refusal(publish('addons', ['b-tool', 'b-app'], ['os']))).toEqual({
    index: 'addons', unresolved: [{ dependency: 'binary(nowhere)', neededBy: ['app'] }], resolvedByBase: [{ base: 'os', dependencies: [LIBA] }],
  });
  expect(existsSync(join(addons, 'moss-root-index.json'))).toBe(false);

  // Without app, the history is written, and the result names the base that resolved liba.
  const written = await publish('addons', ['b-tool'], ['os']);
  expect(written).toMatchObject({ index: 'addons', changed: true, refused: [], resolvedByBase: [{ base: 'os', dependencies: [LIBA] }] });
  expect(existsSync(join(addons, 'history', written.historyId))).toBe(true);
});

test('a base that is the index itself, or not an index name, is ignored', async () => {
  await stage('b-self', 'solo', ['solo', 1, 1, { depends: ['binary(elsewhere)'] }]);
  expect(await refusal(publish('solo', ['b-self'], ['solo', '../os']))).toEqual({ index: 'solo', unresolved: [{ dependency: 'binary(elsewhere)', neededBy: ['solo'] }] });
});
