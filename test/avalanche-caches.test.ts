/**
 * What a builder keeps between builds, on real git and real files: the kept clone of a recipe repository (one
 * per URL, only the build's commit fetched, only the recipe's folder written out, shared by slots, re-made when
 * broken) and the dependency packages kept by sha256 (downloaded once, verified at every use). Facts are asserted
 * (the clone's inode, counters of clones made and commits fetched, file contents), never times.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { BuildLog } from '../activities/avalanche/build-log';
import { ChecksumMismatchError } from '../activities/avalanche/fetch';
import { KeptClones, KEPT_TREES, MAX_KEPT_COMMITS, READY_MARKER, removeStaleClones, UNUSED_CLONE_DAYS, WHOLE_TREE_AFTER } from '../activities/avalanche/kept-clones';
import { smallTreeEntries } from '../activities/avalanche/small-tree';
import { PackageCache } from '../activities/avalanche/package-cache';
import { gitAllowProtocol } from '../core/security/source-url';
import { createRecipeRepo, git, recipeYaml, type RecipeRepo } from './fixtures/avalanche/recipe-repo';

let dir: string;
let log: BuildLog;
let repo: RecipeRepo;
let first: string;
let second: string;
let runs = 0;

/** A commit changing one file, pushed to the bare repository. */
function commitChange(path: string, content: string): string {
  const work = join(dir, 'repo', 'work');
  mkdirSync(join(work, path, '..'), { recursive: true });
  writeFileSync(join(work, path), content);
  git(work, 'add', '-A');
  git(work, 'commit', '--quiet', '-m', `change ${path}`);
  git(work, 'push', '--quiet', repo.bare, 'HEAD:refs/heads/main');
  return git(work, 'rev-parse', 'HEAD');
}

const dest = () => join(dir, 'builds', String(++runs));
const take = (clones: KeptClones, commit: string, path = 'alpha', to = dest()) =>
  clones.materialise({ url: repo.bare, allowProtocol: gitAllowProtocol(true), commit, path, dest: to, log }).then((time) => ({ time, to }));

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'summit-caches-'));
  log = await BuildLog.create(join(dir, 'build.log'));
  repo = createRecipeRepo(join(dir, 'repo'), {
    'alpha/stone.yaml': recipeYaml('alpha', 'install: |\n    true'),
    'alpha/files/patch.diff': 'a patch\n',
    'beta/stone.yaml': recipeYaml('beta', 'install: |\n    true'),
  }, false);
  first = repo.commit;
  second = commitChange('alpha/files/patch.diff', 'the patch, changed\n');
});

afterAll(async () => {
  await log.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('the kept clone of a recipe repository', () => {
  it('serves builds of two commits from one clone, fetching each commit once and writing out only the recipe folder', async () => {
    const clones = new KeptClones(join(dir, 'clones-reuse'));
    const a = await take(clones, first);
    const inode = statSync(clones.dirOf(repo.bare)).ino;
    const b = await take(clones, second);
    await take(clones, first);
    expect(clones.stats).toEqual({ created: 1, fetches: 2, recovered: 0, wholeTrees: 0 });
    expect(statSync(clones.dirOf(repo.bare)).ino).toBe(inode);
    expect(readFileSync(join(a.to, 'alpha/files/patch.diff'), 'utf8')).toBe('a patch\n');
    expect(readFileSync(join(b.to, 'alpha/files/patch.diff'), 'utf8')).toBe('the patch, changed\n');
    expect(readdirSync(b.to)).toEqual(['alpha']);
    expect(a.time).toBe(Number(git(repo.bare, 'show', '-s', '--format=%ct', first)));

    // A builder restarted on the same data dir: the clone and its commits are still there.
    const restarted = new KeptClones(join(dir, 'clones-reuse'));
    await take(restarted, second);
    expect(restarted.stats).toEqual({ created: 0, fetches: 0, recovered: 0, wholeTrees: 0 });
  });

  it('takes a much-built commit\'s whole tree out once and copies later builds\' folders from it exactly as git writes them', async () => {
    const work = join(dir, 'repo', 'work');
    mkdirSync(join(work, 'group/delta/files/deeper'), { recursive: true });
    writeFileSync(join(work, 'group/delta/stone.yaml'), recipeYaml('delta', 'install: |\n    true'));
    writeFileSync(join(work, 'group/delta/files/run.sh'), '#!/bin/sh\ntrue\n', { mode: 0o755 });
    writeFileSync(join(work, 'group/delta/files/deeper/empty'), '');
    symlinkSync('run.sh', join(work, 'group/delta/files/link'));
    symlinkSync('/etc', join(work, 'group/delta/files/escape'));
    symlinkSync('group', join(work, 'linked'));
    symlinkSync('/etc', join(work, 'outside'));
    const commit = commitChange('group/delta/files/deeper/note', 'a note\n');
    /** A written folder as facts: relative path, kind, mode, modification time, link target or content. */
    const facts = (root: string) => smallTreeEntries([root], 1000)!.map(({ path, stats }) => [
      relative(root, path), stats.isDirectory() ? 'dir' : stats.isSymbolicLink() ? 'link' : 'file', stats.mode & 0o7777, Math.floor(stats.mtimeMs / 1000),
      stats.isSymbolicLink() ? readlinkSync(path) : stats.isFile() ? readFileSync(path, 'utf8') : '',
    ]).sort((a, b) => String(a[0]).localeCompare(String(b[0])));

    const clones = new KeptClones(join(dir, 'clones-trees'));
    const byGit = [];
    for (let i = 0; i < WHOLE_TREE_AFTER; i++) byGit.push(await take(clones, commit, 'group/delta'));
    expect(clones.stats.wholeTrees).toBe(0);
    const copied = await take(clones, commit, 'group/delta');
    const again = await take(clones, commit, 'group/delta');
    expect(clones.stats).toEqual({ created: 1, fetches: 1, recovered: 0, wholeTrees: 1 });
    expect(copied.time).toBe(byGit[0].time);
    const want = facts(join(byGit[0].to, 'group/delta'));
    expect(want.map((f) => f[0])).toEqual(['', 'files', 'files/deeper', 'files/deeper/empty', 'files/deeper/note', 'files/escape', 'files/link', 'files/run.sh', 'stone.yaml']);
    expect(facts(join(copied.to, 'group/delta'))).toEqual(want);
    expect(facts(join(again.to, 'group/delta'))).toEqual(want);
    expect(readdirSync(copied.to)).toEqual(['group']);
    expect(readdirSync(join(copied.to, 'group'))).toEqual(['delta']);

    // Nothing through a link of the commit, nothing the commit lacks, as git archive gives nothing there either.
    for (const path of ['linked/delta', 'outside/passwd', 'outside', 'gamma']) {
      const viaTree = await take(clones, commit, path);
      const viaGit = await take(new KeptClones(join(dir, 'clones-trees-git')), commit, path);
      // (The destination itself is each build's own, made at its time.)
      expect(facts(viaTree.to).slice(1)).toEqual(facts(viaGit.to).slice(1));
      expect(readdirSync(viaTree.to)).toEqual(path === 'outside' ? ['outside'] : []);
    }
    expect(readdirSync(join(dir, 'clones-trees-git'))).toHaveLength(1);
    expect(readdirSync(join(clones.dirOf(repo.bare), 'summit-trees'))).toEqual([commit]);

    // Whole trees kept stay bounded: the newest KEPT_TREES.
    const later = [commitChange('group/delta/files/deeper/note', 'b\n'), commitChange('group/delta/files/deeper/note', 'c\n')];
    for (const c of later) for (let i = 0; i <= WHOLE_TREE_AFTER; i++) await take(clones, c, 'group/delta');
    expect(clones.stats.wholeTrees).toBe(3);
    expect(readdirSync(join(clones.dirOf(repo.bare), 'summit-trees')).sort()).toEqual([...later].sort());
    expect(KEPT_TREES).toBe(later.length);
    expect(readFileSync(join((await take(clones, later[1], 'group/delta')).to, 'group/delta/files/deeper/note'), 'utf8')).toBe('c\n');
  });

  it('leaves out a recipe folder the commit does not have, for the build to report', async () => {
    const clones = new KeptClones(join(dir, 'clones-missing'));
    const { to } = await take(clones, first, 'gamma');
    expect(readdirSync(to)).toEqual([]);
    expect(clones.stats.recovered).toBe(0);
  });

  it('removes a clone whose objects were lost or damaged and clones again, without failing the build', async () => {
    const root = join(dir, 'clones-corrupt');
    const clones = new KeptClones(root);
    await take(clones, first);
    const objects = join(clones.dirOf(repo.bare), 'objects');
    for (const name of readdirSync(objects)) if (/^[0-9a-f]{2}$/.test(name) || name === 'pack') rmSync(join(objects, name), { recursive: true });
    const lost = await take(clones, first);
    expect(readFileSync(join(lost.to, 'alpha/stone.yaml'), 'utf8')).toContain('name: alpha');
    expect(clones.stats).toMatchObject({ created: 2, recovered: 1 });

    // A damaged HEAD found by a freshly started builder: git no longer takes the folder for a repository.
    const restarted = new KeptClones(root);
    writeFileSync(join(clones.dirOf(repo.bare), 'HEAD'), 'garbage\n');
    const damaged = await take(restarted, second);
    expect(readFileSync(join(damaged.to, 'alpha/files/patch.diff'), 'utf8')).toBe('the patch, changed\n');
    expect(restarted.stats).toMatchObject({ created: 1, recovered: 1 });
  });

  it('starts again from a half-made clone (no ready marker: its builder was killed while fetching)', async () => {
    const clones = new KeptClones(join(dir, 'clones-half'));
    await take(clones, first);
    rmSync(join(clones.dirOf(repo.bare), READY_MARKER));
    const again = new KeptClones(join(dir, 'clones-half'));
    const { to } = await take(again, first);
    expect(again.stats).toMatchObject({ created: 1, fetches: 1, recovered: 0 });
    expect(existsSync(join(to, 'alpha/stone.yaml'))).toBe(true);
  });

  it('lets slots of one builder fetch different commits of one repository at once', async () => {
    const third = commitChange('beta/notes.txt', 'notes\n');
    const clones = new KeptClones(join(dir, 'clones-concurrent'));
    const results = await Promise.all([first, second, third, second, first].map((c) => take(clones, c, 'alpha')));
    expect(clones.stats).toEqual({ created: 1, fetches: 3, recovered: 0, wholeTrees: 0 });
    expect(results.map((r) => readFileSync(join(r.to, 'alpha/files/patch.diff'), 'utf8'))).toEqual([
      'a patch\n', 'the patch, changed\n', 'the patch, changed\n', 'the patch, changed\n', 'a patch\n',
    ]);
  });

  it('takes a URL after -- as a URL: an option-looking one is refused and runs nothing', async () => {
    const clones = new KeptClones(join(dir, 'clones-dash'));
    const marker = join(dir, 'upload-pack-ran');
    await expect(clones.materialise({ url: `--upload-pack=touch ${marker}`, allowProtocol: gitAllowProtocol(true), commit: first, path: 'alpha', dest: dest(), log }))
      .rejects.toThrow();
    expect(existsSync(marker)).toBe(false);
  });

  it('stays bounded: past the kept-commit limit the clone is removed after the build and started afresh by the next', async () => {
    const clones = new KeptClones(join(dir, 'clones-bound'));
    await take(clones, first);
    expect(clones.countedCommits).toBe(1);
    const refs = join(clones.dirOf(repo.bare), 'refs', 'kept');
    // Stand-ins for the refs of MAX_KEPT_COMMITS earlier fetches.
    for (let i = 0; i < MAX_KEPT_COMMITS; i++) writeFileSync(join(refs, `stand-in-${i}`), `${first}\n`);
    const { to } = await take(clones, second);
    expect(readFileSync(join(to, 'alpha/files/patch.diff'), 'utf8')).toBe('the patch, changed\n');
    expect(existsSync(clones.dirOf(repo.bare))).toBe(false);
    // What the builder counted of the removed clone went with it (it grew by a commit a build before).
    expect(clones.countedCommits).toBe(0);
    await take(clones, second);
    expect(clones.stats).toMatchObject({ created: 2, fetches: 3 });
    expect(clones.countedCommits).toBe(1);
  });

  it('removes at builder start the half-made clones and those unused for a long time, and keeps the rest', async () => {
    const root = join(dir, 'clones-stale');
    const clones = new KeptClones(root);
    await take(clones, first);
    const kept = clones.dirOf(repo.bare);
    const half = join(root, 'half');
    mkdirSync(half, { recursive: true });
    const old = join(root, 'old');
    mkdirSync(old, { recursive: true });
    writeFileSync(join(old, READY_MARKER), '');
    const longAgo = new Date(Date.now() - (UNUSED_CLONE_DAYS + 1) * 86_400_000);
    utimesSync(join(old, READY_MARKER), longAgo, longAgo);
    expect((await removeStaleClones(root)).sort()).toEqual([half, old].sort());
    expect(existsSync(kept)).toBe(true);
  });
});

describe('dependency packages kept by content hash', () => {
  const body = Buffer.from('a .stone stands here\n'.repeat(100));
  const sha = createHash('sha256').update(body).digest('hex');
  let source: { type: 'file'; path: string };

  beforeAll(() => {
    source = { type: 'file', path: join(dir, 'published.stone') };
    writeFileSync(source.path, body);
  });

  it('downloads a package once, verifies it at each use, and fetches again a cached copy changed on disk', async () => {
    const cache = new PackageCache(join(dir, 'packages'));
    const read = (file: string) => Promise.resolve(readFileSync(file));
    expect(await cache.with(source, sha, 'dep', log, undefined, read)).toEqual(body);
    expect(await cache.with(source, sha, 'dep', log, undefined, read)).toEqual(body);
    expect(cache.stats).toEqual({ downloads: 1, hits: 1, corrupt: 0 });

    writeFileSync(cache.fileOf(sha), 'tampered with');
    expect(await cache.with(source, sha, 'dep', log, undefined, read)).toEqual(body);
    expect(cache.stats).toEqual({ downloads: 2, hits: 1, corrupt: 1 });
    expect(readFileSync(cache.fileOf(sha))).toEqual(body);
  });

  it('keeps nothing of a download whose hash is not the one asked for', async () => {
    const cache = new PackageCache(join(dir, 'packages-wrong'));
    const wrong = 'c'.repeat(64);
    await expect(cache.with(source, wrong, 'dep', log, undefined, async () => 'used')).rejects.toBeInstanceOf(ChecksumMismatchError);
    expect(readdirSync(join(dir, 'packages-wrong'))).toEqual([]);
  });

  it('shares one download between slots asking for the same package at once', async () => {
    const cache = new PackageCache(join(dir, 'packages-concurrent'));
    const sizes = await Promise.all([1, 2, 3, 4].map(() => cache.with(source, sha, 'dep', log, undefined, async (f) => statSync(f).size)));
    expect(sizes).toEqual([body.length, body.length, body.length, body.length]);
    expect(cache.stats).toEqual({ downloads: 1, hits: 3, corrupt: 0 });
  });

  it('removes the least recently used packages beyond its size, never one in use', async () => {
    const other = Buffer.from('another package\n'.repeat(100));
    const otherSha = createHash('sha256').update(other).digest('hex');
    const otherSource = { type: 'file' as const, path: join(dir, 'other.stone') };
    writeFileSync(otherSource.path, other);
    const cache = new PackageCache(join(dir, 'packages-bounded'), body.length + 10);
    await cache.with(source, sha, 'dep', log, undefined, async () => undefined);
    // While the first is in use, the second does not push it out.
    await cache.with(source, sha, 'dep', log, undefined, () => cache.with(otherSource, otherSha, 'other', log, undefined, async () => undefined));
    expect(existsSync(cache.fileOf(sha))).toBe(true);
    await cache.with(otherSource, otherSha, 'other', log, undefined, async () => undefined);
    const third = Buffer.from('a third\n'.repeat(10));
    const thirdSha = createHash('sha256').update(third).digest('hex');
    writeFileSync(join(dir, 'third.stone'), third);
    await cache.with({ type: 'file', path: join(dir, 'third.stone') }, thirdSha, 'third', log, undefined, async () => undefined);
    const left = readdirSync(join(dir, 'packages-bounded')).sort();
    expect(left.length).toBeLessThan(3);
    expect(left).toContain(`${thirdSha}.stone`);
  });
});
