import { chmod, mkdir, mkdtemp, readFile, readlink, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PackageMeta } from '../core/formats/stone/meta';
import { describePackage } from '../core/formats/stone/package';
import { extractPackage } from './extract';
import { scanInstallRoot } from './install-root';
import { withStoneFile } from './open-stone';
import { writePackageFromRoot } from './package-writer';

const META: PackageMeta = {
  name: 'hello', version: '1.0.2', release: 3, buildRelease: 1, architecture: 'x86_64', summary: 'Says hello',
  description: 'A test package', homepage: 'https://example.org', sourceId: 'hello', licenses: ['MPL-2.0'],
  depends: ['soname(libc.so.6(x86_64))'], provides: ['binary(hello)', 'soname(libhello.so.1(x86_64))'], conflicts: [], buildDepends: [],
};

let work: string;
beforeEach(async () => {
  work = await mkdtemp(join(tmpdir(), 'summit-pack-'));
});
afterEach(async () => {
  await rm(work, { recursive: true, force: true });
});

async function makeTree(root: string): Promise<void> {
  await mkdir(join(root, 'bin'), { recursive: true });
  await mkdir(join(root, 'lib'), { recursive: true });
  await mkdir(join(root, 'share/doc/hello/empty-dir'), { recursive: true });
  await writeFile(join(root, 'bin/hello'), '#!/bin/sh\necho hello\n');
  await chmod(join(root, 'bin/hello'), 0o755);
  await writeFile(join(root, 'lib/libhello.so.1.0'), Buffer.alloc(300_000, 7));
  // Past the size read whole (1 MiB): streamed in pieces, which must join up.
  await writeFile(join(root, 'lib/libbig.a'), Buffer.alloc(1_200_000, 'pieces of a big archive\n'));
  await symlink('libhello.so.1.0', join(root, 'lib/libhello.so.1'));
  await symlink('../../bin/hello', join(root, 'share/doc/hello/link-up'));
  await writeFile(join(root, 'share/doc/hello/README'), 'same bytes\n');
  await writeFile(join(root, 'share/doc/hello/COPY-OF-README'), 'same bytes\n');
  await writeFile(join(root, 'share/doc/hello/empty'), '');
  await chmod(join(root, 'share/doc/hello/README'), 0o600);
  await chmod(join(root, 'share/doc/hello/empty-dir'), 0o700);
}

describe('binary package writer', () => {
  it('packs an install root that reads back to the exact tree: paths, types, modes, symlink targets, contents', async () => {
    const root = join(work, 'root');
    await makeTree(root);
    const out = join(work, 'hello-1.0.2-3-1-x86_64.stone');
    const written = await writePackageFromRoot(root, META, out);
    expect(written.uniqueContents).toBe(5); // README and its copy share one content entry

    const pkg = await withStoneFile(out, async (r) => describePackage(r));
    expect(pkg.meta).toEqual(META);
    const scanned = await scanInstallRoot(root);
    expect(pkg.files.map((f) => [f.path, f.type, f.mode & 0o7777, f.size, f.linkTarget])).toEqual(
      scanned.map((e) => [`/usr/${e.relPath}`, e.type, e.mode, e.size, e.linkTarget]),
    );

    const dest = join(work, 'extracted');
    await withStoneFile(out, (r) => extractPackage(r, dest));
    const back = await scanInstallRoot(join(dest, 'usr'));
    expect(back).toEqual(scanned);
    for (const e of scanned) {
      // Buffer.equals: toEqual walks a megabyte byte by byte.
      if (e.type === 'regular') expect((await readFile(join(dest, 'usr', e.relPath))).equals(await readFile(join(root, e.relPath)))).toBe(true);
      if (e.type === 'symlink') expect(await readlink(join(dest, 'usr', e.relPath))).toBe(e.linkTarget);
    }
  });

  it('gives the same bytes for the same tree and metadata', async () => {
    const a = join(work, 'a');
    const b = join(work, 'b');
    await makeTree(a);
    await makeTree(b);
    await writePackageFromRoot(a, META, join(work, 'a.stone'));
    await writePackageFromRoot(b, META, join(work, 'b.stone'));
    expect((await readFile(join(work, 'a.stone'))).equals(await readFile(join(work, 'b.stone')))).toBe(true);
  });

  it('packs an empty root into a valid package with no files', async () => {
    const root = join(work, 'empty');
    await mkdir(root);
    await writePackageFromRoot(root, META, join(work, 'empty.stone'));
    const pkg = await withStoneFile(join(work, 'empty.stone'), async (r) => describePackage(r));
    expect(pkg.files).toEqual([]);
  });
});
