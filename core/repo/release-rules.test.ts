import type { IndexEntry } from '../formats/repo-index';
import type { PackageMeta } from '../formats/stone/meta';
import { planImport } from './publish-batch';
import { judgePackage, summarizeRefusals, type Candidate } from './release-rules';

const sha = (n: number) => n.toString(16).padStart(64, '0');

function pkgMeta(name: string, release: number, buildRelease: number, over: Partial<PackageMeta> = {}): PackageMeta {
  return {
    name, version: '1.0', release, buildRelease, architecture: 'x86_64', summary: 's', description: 'd', homepage: 'h',
    sourceId: name.replace(/-devel$/, ''), licenses: [], depends: [], provides: [], conflicts: [], buildDepends: [], ...over,
  };
}

function candidate(name: string, release: number, buildRelease: number, hash: number, over: Partial<PackageMeta> = {}): Candidate {
  const meta = pkgMeta(name, release, buildRelease, over);
  return { file: `${name}-${meta.version}-${release}-${buildRelease}-${meta.architecture}.stone`, meta, sha256: sha(hash), size: 100 + hash };
}

function published(name: string, release: number, buildRelease: number, hash: number, over: Partial<PackageMeta> = {}): IndexEntry {
  return { ...pkgMeta(name, release, buildRelease, over), uri: `../../../pool/x/${name}.stone`, hash: sha(hash), size: 100 + hash };
}

describe('release rules for one package', () => {
  // Every row has five cells: jest takes a test function with more parameters than the row as a `done` callback.
  it.each<[string, IndexEntry | undefined, Candidate, string, RegExp | undefined]>([
    ['a package not yet published is added', undefined, candidate('liba', 1, 1, 1), 'add', undefined],
    ['the very same file again is a no-op', published('liba', 2, 1, 7), candidate('liba', 2, 1, 7), 'unchanged', undefined],
    ['a higher source release replaces', published('liba', 2, 1, 7), candidate('liba', 3, 1, 8), 'replace', undefined],
    ['a higher source release with a lower build release replaces', published('liba', 2, 5, 7), candidate('liba', 3, 1, 8), 'replace', undefined],
    ['the same source release with a higher build release replaces', published('liba', 2, 1, 7), candidate('liba', 2, 2, 8), 'replace', undefined],
    ['an older source release is refused', published('liba', 2, 1, 7), candidate('liba', 1, 9, 8), 'refuse', /source release 1 is older than the published liba 1.0-2-1; bump the recipe's release above 2/],
    ['an equal release and build release with another file is refused', published('liba', 2, 1, 7), candidate('liba', 2, 1, 8), 'refuse', /release 2 build release 1 equals the published liba 1.0-2-1 .*but the file differs/],
    ['an older build release of the same source release is refused', published('liba', 2, 3, 7), candidate('liba', 2, 2, 8), 'refuse', /build release 2 is older than the published liba 1.0-2-3 for the same source release 2/],
    ['a name published by another source is refused', published('liba', 1, 1, 7, { sourceId: 'other' }), candidate('liba', 5, 1, 8), 'refuse', /published from source other .* not liba/],
    ['a file name that does not name the package is refused', undefined, { ...candidate('liba', 1, 1, 1), file: 'liba-1.0-2-1-x86_64.stone' }, 'refuse', /liba-1.0-2-1-x86_64.stone: file name does not match the package's meta, which names liba-1.0-1-1-x86_64.stone/],
    ['metadata that cannot be a pool path is refused', undefined, candidate('liba', 1, 1, 1, { sourceId: '../x' }), 'refuse', /cannot be part of a pool path/],
  ])('%s', (_title, current, incoming, action, reason) => {
    const verdict = judgePackage(current, incoming);
    expect(verdict.action).toBe(action);
    if (verdict.action === 'refuse') {
      expect(verdict.reason.startsWith(`${incoming.file}: `)).toBe(true);
      expect(verdict.reason).toMatch(reason!);
    }
  });

  it('publishes the stone meta with PackageURI, PackageHash and PackageSize', () => {
    const verdict = judgePackage(undefined, candidate('liba', 1, 1, 3));
    expect(verdict.action === 'add' && verdict.entry).toMatchObject({
      name: 'liba', uri: '../../../pool/l/liba/liba-1.0-1-1-x86_64.stone', hash: sha(3), size: 103,
    });
  });
});

describe('release rules for a whole build', () => {
  const current = { x86_64: [published('liba', 1, 1, 1), published('liba-devel', 1, 1, 2, { sourceId: 'liba' }), published('zed', 4, 1, 3)] };

  it('replaces the build\'s packages, keeps every other one, and lists the files to add', () => {
    const plan = planImport(current, [candidate('liba', 2, 1, 11), candidate('liba-devel', 2, 1, 12, { sourceId: 'liba' })]);
    expect(plan.kind).toBe('changed');
    if (plan.kind !== 'changed') return;
    expect(plan.published.x86_64.map((e) => [e.name, e.release, e.hash])).toEqual([['liba', 2, sha(11)], ['liba-devel', 2, sha(12)], ['zed', 4, sha(3)]]);
    expect(plan.additions.map((a) => a.poolPath)).toEqual(['pool/l/liba/liba-1.0-2-1-x86_64.stone', 'pool/l/liba/liba-devel-1.0-2-1-x86_64.stone']);
    expect(current.x86_64[0].release).toBe(1); // the input is not modified
  });

  it('is unchanged when every package is already published with the same hash', () => {
    const plan = planImport(current, [candidate('liba', 1, 1, 1), candidate('liba-devel', 1, 1, 2, { sourceId: 'liba' })]);
    expect(plan).toEqual({ kind: 'unchanged', entries: [current.x86_64[0], current.x86_64[1]] });
  });

  it('refuses the whole build when one package breaks a rule, naming every refused file', () => {
    const plan = planImport(current, [candidate('liba', 2, 1, 11), candidate('zed', 3, 1, 13)]);
    expect(plan.kind).toBe('refused');
    if (plan.kind !== 'refused') return;
    expect(plan.refusals.map((r) => r.file)).toEqual(['zed-1.0-3-1-x86_64.stone']);
    expect(summarizeRefusals(plan.refusals)).toEqual({ file: 'zed-1.0-3-1-x86_64.stone', reason: expect.stringMatching(/^zed-1.0-3-1-x86_64.stone: source release 3 is older/) });
  });

  it('refuses a build that holds one package twice, and a build with no packages', () => {
    expect(planImport({}, [candidate('liba', 1, 1, 1), candidate('liba', 1, 2, 2)])).toMatchObject({ kind: 'refused', refusals: [{ reason: expect.stringMatching(/also in liba-1.0-1-1-x86_64.stone/) }] });
    expect(planImport({}, [])).toMatchObject({ kind: 'refused', refusals: [{ reason: 'the build has no packages to import' }] });
  });

  it('judges each architecture on its own', () => {
    const plan = planImport(current, [candidate('liba', 1, 1, 21, { architecture: 'aarch64' })]);
    expect(plan.kind === 'changed' && Object.keys(plan.published).sort()).toEqual(['aarch64', 'x86_64']);
  });
});
