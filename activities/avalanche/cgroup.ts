import { mkdir, readdir, readFile, rmdir, statfs, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { cgroupCounter, cgroupSettings, DEFAULT_LIMITS, type BuildLimits } from '../../core/build/limits';

/**
 * One cgroup per build step, made by the builder itself: nspawn runs with --keep-unit --register=no and there may
 * be no systemd as PID 1 (containers, CI), so there is nobody to ask for a scope. The step's launcher writes its
 * own pid into the cgroup before it execs nspawn (activities/avalanche/container.ts), so every process of the
 * build is born inside it.
 *
 * Where the cgroups go:
 * - cgroup v2 (`/sys/fs/cgroup` is cgroup2fs): below the builder's own cgroup. A cgroup with processes cannot
 *   hand controllers to children, so the builder first moves itself into `<own>/supervisor` (systemd's
 *   recommendation for a service with `Delegate=yes`), then enables memory, pids and cpu for its children.
 * - cgroup v1 / hybrid (a tmpfs at `/sys/fs/cgroup` with one hierarchy per controller): a child of the builder's
 *   own cgroup in each of the memory, pids and cpu hierarchies.
 * Either way a build's cgroup is named after its nspawn machine (`summit-<builder>-<pid>-<run>-<step>`), so the
 * builder finds its own stale ones when it starts again (workers/avalanche/leftovers.ts).
 */
const ROOT = '/sys/fs/cgroup';
const CGROUP2_MAGIC = 0x63677270;
const V1_CONTROLLERS = ['memory', 'pids', 'cpu'] as const;

export interface CgroupHost {
  version: 1 | 2;
  /** Folder the build cgroups are made in, per controller ('' for v2's single hierarchy). */
  parents: Record<string, string>;
}

/** Find (v1) or prepare (v2) where this builder's build cgroups go. Throws, naming the file, where it cannot. */
export async function prepareCgroupHost(procSelfCgroup?: string): Promise<CgroupHost> {
  const text = procSelfCgroup ?? (await readFile('/proc/self/cgroup', 'utf8'));
  const lines = text.split('\n').filter(Boolean).map((l) => {
    const [, controllers, path] = l.match(/^\d+:([^:]*):(.*)$/) ?? [];
    return { controllers: (controllers ?? '').split(','), path: path ?? '/' };
  });
  const fs = await statfs(ROOT);
  if (fs.type === CGROUP2_MAGIC) {
    const own = lines.find((l) => l.controllers.length === 1 && l.controllers[0] === '')?.path ?? '/';
    const dir = join(ROOT, own);
    // Leave the folder whose children get the controllers ("no internal processes"): move every process in it
    // (the builder; in a container with its own cgroup namespace, its init too) into a leaf of its own. Also
    // at '/': that is the root of a cgroup namespace in a container more often than the host's root.
    const supervisor = join(dir, 'supervisor');
    await mkdir(supervisor, { recursive: true });
    const procs = (await readFile(join(dir, 'cgroup.procs'), 'utf8')).split('\n').filter(Boolean);
    for (const pid of procs) await writeFile(join(supervisor, 'cgroup.procs'), pid).catch(() => undefined);
    await writeFile(join(dir, 'cgroup.subtree_control'), '+memory +pids +cpu').catch((err: Error) => {
      throw new Error(`cannot enable the memory, pids and cpu controllers in ${dir}/cgroup.subtree_control (${err.message}); run the builder in a delegated cgroup (systemd Delegate=yes) or as the host's root`);
    });
    return probe({ version: 2, parents: { '': dir } });
  }
  const parents: Record<string, string> = {};
  for (const controller of V1_CONTROLLERS) {
    const line = lines.find((l) => l.controllers.includes(controller));
    if (!line) throw new Error(`no ${controller} cgroup controller in /proc/self/cgroup: build limits cannot be enforced`);
    parents[controller] = join(ROOT, controller, line.path);
  }
  return probe({ version: 1, parents });
}

/** Make and remove one build cgroup now, so a builder that cannot enforce limits refuses to start, naming the file. */
async function probe(host: CgroupHost): Promise<CgroupHost> {
  const cg = await createBuildCgroup(host, `summit-probe-${process.pid}`, { ...DEFAULT_LIMITS });
  await cg.remove();
  return host;
}

export interface BuildCgroup {
  name: string;
  /** The cgroup.procs files the launcher writes its pid into, one per hierarchy. */
  procsFiles: string[];
  /** Processes the kernel killed for want of memory so far. */
  oomKills(): Promise<number>;
  /** Forks refused at the tasks limit so far. */
  taskLimitHits(): Promise<number>;
  /** SIGKILL every process left in it. */
  killAll(): Promise<void>;
  /** Kill what is left and remove it. */
  remove(): Promise<void>;
}

export async function createBuildCgroup(host: CgroupHost, name: string, limits: BuildLimits): Promise<BuildCgroup> {
  const dirs: Record<string, string> = {};
  for (const [controller, parent] of Object.entries(host.parents)) {
    dirs[controller] = join(parent, name);
    await mkdir(dirs[controller], { recursive: true });
  }
  const cg = buildCgroup(host, name, dirs);
  try {
    for (const s of cgroupSettings(host.version, limits)) {
      const file = join(dirs[s.controller], s.file);
      await writeFile(file, s.value).catch((err: NodeJS.ErrnoException) => {
        if (!(s.optional && err.code === 'ENOENT')) throw new Error(`cannot set ${file} to ${s.value}: ${err.message}`);
      });
    }
  } catch (err) {
    await cg.remove();
    throw err;
  }
  return cg;
}

function buildCgroup(host: CgroupHost, name: string, dirs: Record<string, string>): BuildCgroup {
  const memory = host.version === 2 ? join(dirs[''], 'memory.events') : join(dirs.memory, 'memory.oom_control');
  const pids = host.version === 2 ? join(dirs[''], 'pids.events') : join(dirs.pids, 'pids.events');
  const read = (file: string) => readFile(file, 'utf8').catch(() => '');
  const members = async (): Promise<number[]> => {
    const out = new Set<number>();
    for (const dir of Object.values(dirs)) {
      for (const pid of (await read(join(dir, 'cgroup.procs'))).split('\n')) if (pid) out.add(Number(pid));
    }
    return [...out];
  };
  const killAll = async (): Promise<void> => {
    if (host.version === 2 && (await writeFile(join(dirs[''], 'cgroup.kill'), '1').then(() => true, () => false))) return;
    // v1 has no cgroup.kill: kill what is there until nothing is (a fork bomb refills it, bounded by pids.max).
    for (let round = 0; round < 100; round++) {
      const pidsLeft = await members();
      if (pidsLeft.length === 0) return;
      for (const pid of pidsLeft) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // Gone already.
        }
      }
      await new Promise((r) => setTimeout(r, 20));
    }
  };
  return {
    name,
    procsFiles: Object.values(dirs).map((d) => join(d, 'cgroup.procs')),
    oomKills: async () => cgroupCounter(await read(memory), 'oom_kill'),
    taskLimitHits: async () => cgroupCounter(await read(pids), 'max'),
    killAll,
    remove: () => removeCgroupDirs(Object.values(dirs), killAll, members),
  };
}

/** rmdir needs the cgroup empty; killed processes leave it a moment after SIGKILL, so wait for that (bounded). */
async function removeCgroupDirs(dirs: string[], killAll: () => Promise<void>, members: () => Promise<number[]>): Promise<void> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    await killAll();
    const left: string[] = [];
    for (const dir of dirs) {
      await rmdirTree(dir).catch((err: NodeJS.ErrnoException) => {
        if (err.code !== 'ENOENT') left.push(`${dir}: ${err.code}`);
      });
    }
    if (left.length === 0) return;
    if (Date.now() > deadline) throw new Error(`cannot remove the build cgroup (${left.join(', ')}; processes ${(await members()).join(' ') || 'none'})`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * A cgroup and the ones below it, deepest first: on cgroup v2 nspawn makes its own children (payload,
 * supervisor) inside the cgroup it was started in. Only folders are removed; the control files go with them.
 */
async function rmdirTree(dir: string): Promise<void> {
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    if (entry.isDirectory()) await rmdirTree(join(dir, entry.name));
  }
  await rmdir(dir);
}

/** Remove the build cgroups `isStale` picks among this builder's (killing what still runs in them). */
export async function removeStaleCgroups(host: CgroupHost, isStale: (name: string) => boolean): Promise<string[]> {
  const names = new Set<string>();
  for (const parent of Object.values(host.parents)) {
    for (const entry of await readdir(parent, { withFileTypes: true }).catch(() => [])) {
      if (entry.isDirectory() && isStale(entry.name)) names.add(entry.name);
    }
  }
  for (const name of names) {
    const dirs = Object.fromEntries(Object.entries(host.parents).map(([c, p]) => [c, join(p, name)]));
    await buildCgroup(host, name, dirs).remove();
  }
  return [...names];
}

