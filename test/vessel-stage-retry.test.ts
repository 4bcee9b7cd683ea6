/**
 * A retried staging or import whose earlier attempt staged or published everything (its completion lost, and the
 * builder's copy released meanwhile: activities/vessel/release.ts), on real files: the retry finds the same packages
 * in the pool (staging) or in the published index (import) and answers as the first attempt did; a rebuild of the
 * same build id (other bytes) fetches again.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { vesselDeps } from '../activities/vessel/activities';
import { importBuild, stageBuild, type VesselDeps } from '../activities/vessel/import-build';
import { buildStone, importRequest, startArtefactServer, testMeta, type ArtefactServer } from './support/vessel-fixtures';

let work: string;
let first: ArtefactServer;
let released: ArtefactServer;
let deps: VesselDeps;

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'summit-stage-retry-'));
  first = await startArtefactServer();
  released = await startArtefactServer();
  deps = vesselDeps(join(work, 'vessel'), {}, {}, { buildRoot: false });
});

afterAll(async () => {
  await first.close();
  await released.close();
  await rm(work, { recursive: true, force: true });
});

test('a retry of a staged build answers from the pool without fetching; a rebuild of the same id fetches', async () => {
  const stone = await buildStone(work, testMeta('liba', 1, 1));
  const staged = await stageBuild(deps, importRequest(first, 'b-liba', [stone]));
  expect(first.requests.length).toBeGreaterThan(0);

  // The same build again, from a builder that no longer has it (nothing is served there).
  const request = importRequest(released, 'b-liba', []);
  const again = await stageBuild(deps, { ...request, build: { ...request.build, artefacts: [stone.artefact] } });
  expect(again).toEqual(staged);
  expect(released.requests).toEqual([]);

  // A rebuild under the same id makes other bytes: those are fetched.
  const rebuilt = await buildStone(work, testMeta('liba', 1, 2));
  const third = await stageBuild(deps, importRequest(released, 'b-liba', [rebuilt]));
  expect(released.requests.length).toBeGreaterThan(0);
  expect(third.published.map((p) => p.sha256)).toEqual([rebuilt.artefact.sha256]);
});

test('a retry of a published import whose builder released the artefacts answers with the history that published them', async () => {
  const stone = await buildStone(work, testMeta('libb', 1, 1));
  const published = await importBuild(deps, importRequest(first, 'b-libb', [stone]));
  expect(published.historyId).not.toBe('');

  // The same build again, from a builder that no longer has it: its fetch fails, the published index answers.
  const request = importRequest(released, 'b-libb', []);
  const before = released.requests.length;
  const again = await importBuild(deps, { ...request, build: { ...request.build, artefacts: [stone.artefact] } });
  expect(again).toEqual(published);
  expect(released.requests.length).toBeGreaterThan(before);

  // Bytes the index does not hold (a rebuild of the same id) are not taken as published: the failure stands.
  const rebuilt = await buildStone(work, testMeta('libb', 1, 2));
  await expect(importBuild(deps, { ...request, build: { ...request.build, artefacts: [rebuilt.artefact] } })).rejects.toThrow(/404/);
});
