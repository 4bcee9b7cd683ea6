import { createHash, randomBytes } from 'node:crypto';
import { chmod, copyFile, lstat, mkdir, open, readlink, rm, stat } from 'node:fs/promises';
import { dirname, join, posix } from 'node:path';
import { isElf, readElfDynamic, type ElfDynamicInfo } from '../../core/build/elf';
import type { IndexEntry } from '../../core/formats/repo-index';
import {
  baseMeta,
  contentKey,
  interpreterInstallPath,
  libraryInstallPath,
  librarySearchDirs,
  needText,
  type BaseFile,
  type BaseNeed,
} from '../../core/repo/base-packages';
import { indexUri, poolPath, repositoryPathOfUri } from '../../core/repo/pool';
import { writePackageFromRoot } from '../../packaging/package-writer';
import { isErrno } from './atomic-file';
import { sha256File, type Repository } from './repository';

/**
 * The producer of base packages (core/repo/base-packages.ts says what they are): reads the build root — by default
 * the host's own `/`, whose `/usr` the builders build on read-only (activities/avalanche/container.ts), or the
 * rootfs of SUMMIT_BUILD_ROOT — finds the file answering each need (a soname in the loader's search folders, an
 * interpreter at its path), follows each library's DT_NEEDED, and packs them into a `.stone` placed in the pool.
 *
 * When: on every publish whose packages need something only the build root provides (closure-gate.ts), i.e. the
 * first publish of an index and whenever a new need appears; and when the build root changes, because a file's
 * identity (inode, size, mtime) is part of what is cached: a changed libc is hashed again and gives a new version.
 * Nothing is packed twice for the same contents: the version is their digest, and a package already in the pool
 * is reused.
 *
 * Files are read from the build root with every symlink resolved inside it (an absolute link target is taken
 * relative to the build root, never the host's), and only regular ELF64 files of the needed machine are taken.
 */

/** Far above any libc (2 MiB) or libstdc++ (2.5 MiB); a larger "library" is not read whole. */
const MAX_LIBRARY_BYTES = 64 << 20;
const MAX_LINK_HOPS = 40;

interface FoundFile {
  /** Host path of the regular file, inside the build root. */
  hostPath: string;
  sha256: string;
  elf: ElfDynamicInfo;
}

export interface ProducedBase {
  /** The base package's index entry, its file in the pool; undefined when no need could be answered. */
  entry?: IndexEntry;
  /** The needs the build root has no file for. */
  unanswered: BaseNeed[];
}

export class BaseProducer {
  /** Per host path: the file's identity when read, and what was read. */
  private readonly files = new Map<string, { identity: string; found: FoundFile }>();
  /** Per content digest: the entry of the package already written (its pool file is immutable). */
  private readonly packed = new Map<string, IndexEntry>();

  constructor(
    readonly buildRoot: string,
    /** Where packages are assembled: on the file system of the repositories, so placing one is a rename. */
    private readonly workDir: string,
  ) {}

  /** The base package of `architecture` answering `needs` (and what the answering files need in turn). */
  async produce(repo: Repository, architecture: string, needs: readonly BaseNeed[]): Promise<ProducedBase> {
    const chosen = new Map<string, FoundFile>(); // install path → file
    const provides = new Set<string>();
    const unanswered: BaseNeed[] = [];
    const queue = [...needs];
    const seen = new Set<string>();
    while (queue.length > 0) {
      const need = queue.shift()!;
      const key = needText(need);
      if (seen.has(key)) continue;
      seen.add(key);
      const found = await this.answer(need);
      if (!found) {
        // A library only some other library of the build root needs is not the repository's concern: only the
        // repository's own needs count as unanswered.
        if (needs.includes(need)) unanswered.push(need);
        continue;
      }
      chosen.set(found.installPath, found.file);
      provides.add(key);
      if (need.kind === 'interpreter') provides.add(`soname(${posix.basename(found.installPath)}(${need.machine}))`);
      for (const soname of found.file.elf.needed) queue.push({ kind: 'soname', soname, machine: found.file.elf.machine });
    }
    if (chosen.size === 0) return { unanswered };

    const files: BaseFile[] = [...chosen].map(([installPath, f]) => ({ installPath, sha256: f.sha256 }));
    const digest = createHash('sha256').update(contentKey(files, [...provides])).digest('hex');
    const cacheKey = `${repo.dir}\0${architecture}\0${digest}`;
    const cached = this.packed.get(cacheKey);
    // Still in the pool? A prune removes a base package no kept history lists; then it is packed again.
    if (cached && (await stat(join(repo.dir, repositoryPathOfUri(cached.uri))).then((st) => st.size === cached.size, () => false))) return { entry: cached, unanswered };

    const meta = baseMeta(architecture, [...provides], digest);
    const path = poolPath(meta);
    let hash = await repo.poolFileHash(path);
    let size: number;
    if (hash === undefined) {
      const stage = join(this.workDir, `.base-${randomBytes(6).toString('hex')}`);
      try {
        for (const [installPath, f] of chosen) {
          const dest = join(stage, installPath);
          await mkdir(dirname(dest), { recursive: true });
          await copyFile(f.hostPath, dest);
          await chmod(dest, 0o755);
        }
        const out = join(stage, 'package.stone');
        await writePackageFromRoot(join(stage, 'usr'), meta, out);
        hash = await sha256File(out);
        size = (await stat(out)).size;
        await repo.placeInPool(out, path);
      } finally {
        await rm(stage, { recursive: true, force: true });
      }
    } else {
      // The version is the digest of the contents, so the file already there holds these very contents (written by
      // an earlier run of this producer, perhaps before a restart): use it as it is.
      size = (await stat(join(repo.dir, path))).size;
    }
    const entry: IndexEntry = { ...meta, uri: indexUri(path), hash, size };
    this.packed.set(cacheKey, entry);
    return { entry, unanswered };
  }

  private async answer(need: BaseNeed): Promise<{ installPath: string; file: FoundFile } | undefined> {
    if (need.kind === 'interpreter') {
      const installPath = interpreterInstallPath(need.path);
      const file = installPath ? await this.read(need.path, need.machine) : undefined;
      return file && installPath ? { installPath, file } : undefined;
    }
    for (const dir of librarySearchDirs(need.machine)) {
      const file = await this.read(`/${dir}/${need.soname}`, need.machine);
      if (file) return { installPath: libraryInstallPath(need.soname), file };
    }
    return undefined;
  }

  /** The regular ELF file of `machine` at `path` inside the build root, symlinks followed inside it. */
  private async read(path: string, machine: string): Promise<FoundFile | undefined> {
    const hostPath = await this.resolveInRoot(path);
    if (!hostPath) return undefined;
    const st = await stat(hostPath).catch(() => undefined);
    if (!st?.isFile() || st.size > MAX_LIBRARY_BYTES) return undefined;
    const identity = `${st.dev}:${st.ino}:${st.size}:${st.mtimeMs}`;
    const known = this.files.get(hostPath);
    if (known?.identity === identity) return known.found.elf.machine === machine ? known.found : undefined;
    const fh = await open(hostPath, 'r');
    let bytes: Buffer;
    try {
      bytes = await fh.readFile();
    } finally {
      await fh.close();
    }
    if (!isElf(bytes)) return undefined;
    let elf: ElfDynamicInfo;
    try {
      elf = readElfDynamic(bytes);
    } catch {
      return undefined; // a 32-bit library in a shared folder, or not a library at all
    }
    const found = { hostPath, sha256: createHash('sha256').update(bytes).digest('hex'), elf };
    this.files.set(hostPath, { identity, found });
    return elf.machine === machine ? found : undefined;
  }

  /** A build-root path resolved link by link, never leaving the build root; undefined when missing. */
  private async resolveInRoot(path: string): Promise<string | undefined> {
    let parts = path.split('/').filter((p) => p && p !== '.');
    let done: string[] = [];
    for (let hops = 0; parts.length > 0; ) {
      const name = parts.shift()!;
      if (name === '..') {
        done.pop();
        continue;
      }
      const host = join(this.buildRoot, ...done, name);
      let st;
      try {
        st = await lstat(host);
      } catch (err) {
        if (isErrno(err, 'ENOENT') || isErrno(err, 'ENOTDIR')) return undefined;
        throw err;
      }
      if (st.isSymbolicLink()) {
        if (++hops > MAX_LINK_HOPS) return undefined;
        const target = await readlink(host);
        if (target.startsWith('/')) done = [];
        parts = [...target.split('/').filter((p) => p && p !== '.'), ...parts];
        continue;
      }
      done.push(name);
    }
    return join(this.buildRoot, ...done);
  }
}
