/**
 * Vessel under a profile of two architectures (core/profile.ts): each level publishes to its own index, under its
 * architecture (`history/<id>/<arch>/stone.index`), and a level's index layers only on its own architecture's
 * baseline index. Real stones, a real artefact server, the real import.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readIndex } from '../core/formats/repo-index';
import { parseRootIndex, resolveIndexPath } from '../core/formats/root-index';
import { parseProfile } from '../core/profile';
import { vesselDeps } from '../activities/vessel/activities';
import { importBuild, type VesselDeps } from '../activities/vessel/import-build';
import { repositoryDir } from '../activities/vessel/layout';
import { buildStone, importRequest, startArtefactServer, testMeta, type ArtefactServer } from './support/vessel-fixtures';

// x86_64-v3x publishes to `fast`, a name the default rule (every `main-<level>` on `main`) would not layer on main.
const PROFILE = parseProfile(JSON.stringify({
  architectures: [{ name: 'x86_64', levels: ['x86_64', 'x86_64-v3x'] }, { name: 'aarch64', levels: ['aarch64'] }],
  indexes: { 'x86_64-v3x': 'fast' },
}));

let work: string;
let server: ArtefactServer;
let deps: VesselDeps;

beforeEach(async () => {
  work = await mkdtemp(join(tmpdir(), 'summit-vessel-arches-'));
  server = await startArtefactServer();
  deps = vesselDeps(join(work, 'vessel'), {}, {}, { buildRoot: false, profile: PROFILE });
});

afterEach(async () => {
  await server.close();
  await rm(work, { recursive: true, force: true });
});

async function volatile(index: string, architecture: string): Promise<string[] | undefined> {
  const dir = repositoryDir(deps.layout, index);
  const root = parseRootIndex(await readFile(join(dir, 'moss-root-index.json'), 'utf8'));
  const path = join(dir, resolveIndexPath(root, 'volatile', architecture)!);
  if (!existsSync(path)) return undefined;
  return (await readIndex(await readFile(path), path)).map((e) => `${e.name} ${e.uri.split('/').pop()}`);
}

describe('vessel publishing per architecture', () => {
  it('indexes each architecture\'s build in its level\'s index, under its architecture only', async () => {
    const x86 = await buildStone(work, testMeta('liba', 1));
    const arm = await buildStone(work, testMeta('liba', 1, 1, { architecture: 'aarch64' }));
    const a = await importBuild(deps, importRequest(server, 'build/p/r/liba-1.0-1/x86_64', [x86]));
    const b = await importBuild(deps, importRequest(server, 'build/p/r/liba-1.0-1/aarch64', [arm], { index: PROFILE.level('aarch64')!.index, architecture: 'aarch64' }));

    expect(a).toMatchObject({ index: 'main', historyId: '1', indexPath: join(repositoryDir(deps.layout, 'main'), 'history/1/x86_64/stone.index') });
    expect(b).toMatchObject({ index: 'main-aarch64', historyId: '1', indexPath: join(repositoryDir(deps.layout, 'main-aarch64'), 'history/1/aarch64/stone.index') });
    expect(await volatile('main', 'x86_64')).toEqual(['liba liba-1.0-1-1-x86_64.stone']);
    expect(await volatile('main-aarch64', 'aarch64')).toEqual(['liba liba-1.0-1-1-aarch64.stone']);
    expect(await volatile('main', 'aarch64')).toBeUndefined();
    expect(await volatile('main-aarch64', 'x86_64')).toBeUndefined();
  });

  it('layers a level\'s index on its own architecture\'s baseline, as the profile names them: a v3x package may depend on main\'s, an aarch64 one not', async () => {
    const base = await buildStone(work, testMeta('libz', 1, 1, { provides: ['soname(libz.so.1(x86_64))'] }));
    await importBuild(deps, importRequest(server, 'build/p/r/libz-1.0-1/x86_64', [base]));
    const v3x = await buildStone(work, testMeta('app', 1, 1, { depends: ['soname(libz.so.1(x86_64))'] }), 'v3x');
    await expect(importBuild(deps, importRequest(server, 'build/p/r/app-1.0-1/x86_64-v3x', [v3x], { index: 'fast' }))).resolves.toMatchObject({ index: 'fast' });
    const arm = await buildStone(work, testMeta('app', 1, 1, { architecture: 'aarch64', depends: ['soname(libz.so.1(x86_64))'] }), 'arm');
    await expect(importBuild(deps, importRequest(server, 'build/p/r/app-1.0-1/aarch64', [arm], { index: 'main-aarch64', architecture: 'aarch64' }))).rejects.toThrow(/soname\(libz\.so\.1\(x86_64\)\)/);
  });
});
