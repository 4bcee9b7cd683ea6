import { chmod, mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { PackageMeta } from '../formats/stone/meta';
import { describePackage } from '../formats/stone/package';
import { withStoneFile } from '../../packaging/open-stone';
import { writePackageFromRoot } from '../../packaging/package-writer';
import { compareOutputs, mismatchStreak, normalisePath, policySelects, sampleFraction, type PackageOutput } from './verification';

const META: PackageMeta = {
  name: 'hello', version: '1.0', release: 2, buildRelease: 1, architecture: 'x86_64', summary: 'Says hello',
  description: 'A test package', homepage: 'https://example.org', sourceId: 'hello', licenses: ['MPL-2.0'],
  depends: [], provides: ['binary(hello)'], conflicts: [], buildDepends: [],
};

let work: string;
beforeEach(async () => {
  work = await mkdtemp(join(tmpdir(), 'summit-verify-'));
});
afterEach(async () => {
  await rm(work, { recursive: true, force: true });
});

/** A real .stone from an install root, read back as the verification reads it. */
async function stoneOf(name: string, tree: (root: string) => Promise<void>, meta: Partial<PackageMeta> = {}): Promise<PackageOutput> {
  const root = join(work, name);
  await mkdir(root, { recursive: true });
  await tree(root);
  const out = join(work, `${name}.stone`);
  await writePackageFromRoot(root, { ...META, ...meta }, out);
  return withStoneFile(out, async (r) => describePackage(r));
}

async function helloTree(root: string, opts: { text?: string; mode?: number; link?: string; extra?: boolean; buildId?: string } = {}): Promise<void> {
  await mkdir(join(root, 'bin'), { recursive: true });
  await writeFile(join(root, 'bin/hello'), opts.text ?? '#!/bin/sh\necho hello\n');
  await chmod(join(root, 'bin/hello'), opts.mode ?? 0o755);
  await symlink(opts.link ?? 'hello', join(root, 'bin/hi'));
  await mkdir(join(root, `lib/debug/.build-id/${(opts.buildId ?? 'ab12').slice(0, 2)}`), { recursive: true });
  await writeFile(join(root, `lib/debug/.build-id/${(opts.buildId ?? 'ab12').slice(0, 2)}/${(opts.buildId ?? 'ab12').slice(2)}.debug`), 'debug\n');
  if (opts.extra) await writeFile(join(root, 'bin/built-on'), 'builder-b\n');
}

describe('verification compare of two builds\' packages', () => {
  it('finds two builds of the same tree identical, whatever the build ids in debug paths and the build release', async () => {
    const a = await stoneOf('a', (r) => helloTree(r, { buildId: 'ab12' }));
    const b = await stoneOf('b', (r) => helloTree(r, { buildId: 'cd34' }), { buildRelease: 7, sourceRef: 'elsewhere' });
    const c = compareOutputs([a], [b]);
    expect(c).toMatchObject({ result: 'identical', packages: 1, differences: [], differenceCount: 0 });
    expect(c.files).toBeGreaterThanOrEqual(3);
  });

  it('names each differing file and what differs: content, mode, link target, files on one side only', async () => {
    const a = await stoneOf('a', (r) => helloTree(r));
    const b = await stoneOf('b', (r) => helloTree(r, { text: '#!/bin/sh\necho hullo\n', mode: 0o700, link: 'hello.sh', extra: true }));
    const c = compareOutputs([a], [b]);
    expect(c.result).toBe('different');
    expect(c.differences).toEqual([
      { package: 'hello', path: '/usr/bin/built-on', what: ['only in the rebuild'] },
      { package: 'hello', path: '/usr/bin/hello', what: ['mode 0755 → 0700', 'content digest'] },
      { package: 'hello', path: '/usr/bin/hi', what: ['link target hello → hello.sh'] },
    ]);
    expect(c.differenceCount).toBe(3);
  });

  it('compares what the package says it is, and packages present on one side only', async () => {
    const a = await stoneOf('a', (r) => helloTree(r));
    const b = await stoneOf('b', (r) => helloTree(r), { depends: ['binary(sh)'] });
    const other = await stoneOf('o', (r) => helloTree(r), { name: 'hello-docs' });
    const c = compareOutputs([a, other], [b]);
    expect(c.differences).toEqual([
      { package: 'hello', path: '(meta)', what: ['depends [] → ["binary(sh)"]'] },
      { package: 'hello-docs', path: '(package)', what: ['missing in the rebuild'] },
    ]);
  });

  it('keeps at most the limit of differences and counts them all', () => {
    const files = (digest: string): PackageOutput => ({
      meta: { name: 'p' },
      files: Array.from({ length: 30 }, (_, i) => ({ path: `/usr/f${String(i).padStart(2, '0')}`, type: 'regular', mode: 0o644, uid: 0, gid: 0, size: 1, digest })),
    });
    const c = compareOutputs([files('aa')], [files('bb')], 10);
    expect(c.differences).toHaveLength(10);
    expect(c.differenceCount).toBe(30);
    expect(c.differences[0].path).toBe('/usr/f00');
  });
});

describe('verification policy and suspension rules', () => {
  it('normalises build-id paths only', () => {
    expect(normalisePath('/usr/lib/debug/.build-id/ab/cdef0123.debug')).toBe('/usr/lib/debug/.build-id/<id>.debug');
    expect(normalisePath('/usr/lib/debug/.build-id/ab')).toBe('/usr/lib/debug/.build-id/<id>');
    expect(normalisePath('/usr/bin/ab')).toBe('/usr/bin/ab');
  });

  it.each([
    [null, false],
    [{}, false],
    [{ sampleRate: 0 }, false],
    [{ sampleRate: 1 }, true],
    [{ packages: ['liba-devel'] }, true],
    [{ packages: ['liba'] }, true],
    [{ packages: ['other'] }, false],
  ])('policy %j selects the build: %s', (policy, expected) => {
    expect(policySelects(policy, { id: 'build/p/r/liba-1.0-1/x86_64', source: 'liba', packages: ['liba', 'liba-devel'] })).toBe(expected);
  });

  it('samples by the hash of the build id: the same answer each time, about the rate over many builds', () => {
    const ids = Array.from({ length: 2000 }, (_, i) => `build/p/r/s${i}-1.0-1/x86_64`);
    expect(ids.map(sampleFraction)).toEqual(ids.map(sampleFraction));
    const chosen = ids.filter((id) => policySelects({ sampleRate: 0.25 }, { id, source: 's', packages: [] })).length;
    expect(chosen).toBeGreaterThan(400);
    expect(chosen).toBeLessThan(600);
  });

  it.each([
    [['different', 'different', 'different'], 3, true],
    [['different', 'different'], 3, false],
    [['different', 'identical', 'different', 'different'], 3, false],
    [['different', 'different', 'identical'], 2, true],
    [['different'], 0, false],
  ] as const)('verdicts %j with threshold %d suspend: %s', (verdicts, threshold, expected) => {
    expect(mismatchStreak(verdicts, threshold)).toBe(expected);
  });
});
