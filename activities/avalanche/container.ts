import { spawn } from 'node:child_process';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { CONTAINER_PATHS, MASON } from '../../core/build/layout';
import type { LimitKind } from '../../core/build/limits';
import type { BuildLog } from './build-log';

/**
 * One build step in a systemd-nspawn container, hardened for recipes written by strangers:
 *
 * - a user namespace (`--private-users=<base>:65536`, files left as they are): root in the container is the
 *   unprivileged host uid `base`, which owns nothing of the host, so it cannot remount the read-only binds, make
 *   device nodes or write host files. The range is fixed per builder (not `pick`) because the host must hand the
 *   build's writable folders to `base + BUILD_USER.uid` before the container starts (no idmapped bind: through
 *   one, the container's root would write as the host's root);
 * - capabilities the steps never need dropped, `--no-new-privileges`, and the steps themselves run as the
 *   unprivileged build user with no capabilities at all (core/build/step-script.ts, stepCommand);
 * - `--private-network`: only a loopback interface of its own, so a build reaches neither the internet nor
 *   the builder's own services on 127.0.0.1 (upstreams are fetched and checked on the host beforehand); a
 *   recipe's `networking: true` lifts this only where its repository and the builder both allow it
 *   (Repository.networking, SUMMIT_BUILD_NETWORK; core/build/limits.ts networkDecision);
 * - the build root read-only: by default the host's own `/usr` (`--directory=/ --volatile=yes` mounts a tmpfs
 *   root with only the host /usr in it, read-only), plus `/etc/alternatives` read-only because Debian's `cc` and
 *   friends are symlinks through it; with a rootfs directory configured, that whole tree `--read-only` (its
 *   own /etc included) with a tmpfs /tmp. nspawn cannot create mount points in a read-only tree, so the empty
 *   folders it needs (/mason, /proc, /sys, /dev, /run, /tmp) are made in the rootfs first, once. /dev is
 *   nspawn's minimal one (null, zero, full, random, urandom, tty, pts, shm);
 * - the work dir at /mason, owned by the host's root, so the build user can write only %(workdir) and
 *   %(installroot) in it; the recipe folder, the step scripts read-only; a status folder only the container's
 *   root may write (the "container came up" marker);
 * - `--register=no --keep-unit`: no machined and no new scope unit, which neither a container nor CI has. The
 *   resource limits come from a cgroup the launcher enters before it execs nspawn (activities/avalanche/cgroup.ts);
 * - started through `setpriv --pdeathsig TERM`: if the worker process dies (even by SIGKILL) nspawn gets SIGTERM
 *   and takes the container down with it. A SIGKILLed nspawn would leave its container running.
 *
 * The step's stdout and stderr go straight into the log file (the script joins stderr to stdout, so the two keep
 * their order); nspawn's own messages come through a pipe and are appended to the log.
 */
export interface ContainerSpec {
  /** Unique per run: nspawn keeps per-machine state under /run/systemd/nspawn/. */
  machine: string;
  /** A rootfs directory; absent means the host's /usr. */
  rootfs?: string;
  /** Host folder bound at /mason (host-owned; its build/ and install/ belong to the build user). */
  mason: string;
  /** Host recipe folder bound read-only at /mason/recipe. */
  pkgdir: string;
  /** Host folder of the step scripts, bound read-only at /mason/scripts. */
  scripts: string;
  /** Host folder owned by the container's root, bound at /mason/status. */
  status: string;
  /** First host uid (and gid) of the container's user namespace; 65536 ids from there. */
  uidBase: number;
  /** True to share the host's network (a `networking: true` recipe whose repository and builder both allow it). */
  network?: boolean;
  /** True where the host has /etc/alternatives (Debian), bound read-only with the host /usr. */
  hostAlternatives?: boolean;
}

/**
 * Capabilities the container's root loses. It keeps only what its preamble needs to become the build user
 * (SETUID, SETGID, SETPCAP) and the ordinary file ones; the build user has none at all.
 */
export const DROPPED_CAPABILITIES = [
  'CAP_SYS_ADMIN', 'CAP_MKNOD', 'CAP_NET_ADMIN', 'CAP_NET_RAW', 'CAP_NET_BIND_SERVICE', 'CAP_SYS_PTRACE', 'CAP_SYS_MODULE',
  'CAP_SYS_RAWIO', 'CAP_SYS_BOOT', 'CAP_SYS_TIME', 'CAP_SYS_CHROOT', 'CAP_SYS_NICE', 'CAP_SYS_RESOURCE', 'CAP_SYS_PACCT',
  'CAP_SYS_TTY_CONFIG', 'CAP_AUDIT_WRITE', 'CAP_AUDIT_CONTROL', 'CAP_SETFCAP', 'CAP_LINUX_IMMUTABLE', 'CAP_IPC_OWNER',
  'CAP_LEASE', 'CAP_KILL',
] as const;

export function nspawnArgs(spec: ContainerSpec, command: readonly string[]): string[] {
  const root = spec.rootfs
    ? [`--directory=${spec.rootfs}`, '--read-only', '--tmpfs=/tmp:mode=1777']
    : ['--directory=/', '--volatile=yes', ...(spec.hostAlternatives ? ['--bind-ro=/etc/alternatives'] : [])];
  return [
    '--register=no', '--keep-unit', '--quiet', `--machine=${spec.machine}`,
    ...(spec.network ? [] : ['--private-network']),
    '--resolv-conf=off', '--timezone=off',
    `--private-users=${spec.uidBase}:65536`, '--private-users-ownership=off',
    `--drop-capability=${DROPPED_CAPABILITIES.join(',')}`, '--no-new-privileges=yes',
    ...root,
    `--bind=${spec.mason}:${MASON}`, `--bind-ro=${spec.pkgdir}:${CONTAINER_PATHS.pkgdir}`,
    `--bind-ro=${spec.scripts}:${CONTAINER_PATHS.scripts}`, `--bind=${spec.status}:${CONTAINER_PATHS.status}`,
    `--chdir=${CONTAINER_PATHS.workdir}`,
    ...command,
  ];
}

// The launcher enters each cgroup (one per v1 hierarchy) and only then execs nspawn: every process of the build
// is born inside the limits. It exits 125 if a cgroup refuses it, before any container exists.
const LAUNCHER = 'n=$1; shift; while [ "$n" -gt 0 ]; do echo $$ > "$1" || exit 125; shift; n=$((n-1)); done; exec "$@"';

/** The process to start: a launcher that enters the build's cgroups, then nspawn under setpriv, so it dies with the worker. */
export function containerCommand(spec: ContainerSpec, command: readonly string[], cgroupProcs: readonly string[] = []): { file: string; args: string[] } {
  const nspawn = ['setpriv', '--pdeathsig', 'TERM', '--', 'systemd-nspawn', ...nspawnArgs(spec, command)];
  if (cgroupProcs.length === 0) return { file: nspawn[0], args: nspawn.slice(1) };
  return { file: '/bin/sh', args: ['-c', LAUNCHER, 'summit-launch', String(cgroupProcs.length), ...cgroupProcs, ...nspawn] };
}

export interface StepOutcome {
  /** The step's exit status; null when it was killed. */
  exitCode: number | null;
  /** nspawn's own complaints (empty when it ran the step). */
  containerErrors: string;
  /** The limit the step was stopped at, if any. */
  limit?: LimitKind;
}

export interface RunOptions {
  signal?: AbortSignal;
  /** cgroup.procs files the launcher enters. */
  cgroupProcs?: readonly string[];
  /**
   * Called once the container runs, with a function that stops it for a limit; returns a function that ends the
   * watching (activities/avalanche/build-watch.ts).
   */
  watch?: (stopFor: (limit: LimitKind) => void) => () => void;
  /** Kills whatever of the build is left once nspawn ended (the build's cgroup). */
  killRest?: () => Promise<void>;
}

// nspawn says this on exit where /run is not a tmpfs; it is about its own propagation folder, not the build.
const NSPAWN_NOISE = /^Attempted to remove disk file system under "\/run\/systemd\/nspawn\/propagate\/.*$/;

/** Run `command` in the container; resolves when it ends, killing it when `signal` aborts or a limit is hit. */
export async function runInContainer(spec: ContainerSpec, command: readonly string[], log: BuildLog, opts: RunOptions = {}): Promise<StepOutcome> {
  if (spec.rootfs) await prepareRootfs(spec.rootfs);
  const { file, args } = containerCommand(spec, command, opts.cgroupProcs);
  const child = spawn(file, args, { stdio: ['ignore', log.fd, 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => {
    // nspawn's own messages are few; a payload writing here (it cannot: the script joins stderr to the log
    // first) would be capped like any log.
    if (stderr.length < 64 * 1024) stderr += chunk.toString('utf8');
  });
  // SIGTERM makes nspawn SIGKILL the container's PID 1, and with it the whole PID namespace of the build;
  // SIGKILL is only the fallback for an nspawn that does not answer.
  let killTimer: NodeJS.Timeout | undefined;
  let limit: LimitKind | undefined;
  const stop = () => {
    if (killTimer) return;
    child.kill('SIGTERM');
    killTimer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  };
  const stopFor = (kind: LimitKind) => {
    limit ??= kind;
    stop();
  };
  opts.signal?.addEventListener('abort', stop, { once: true });
  const endWatch = opts.watch?.(stopFor);
  try {
    const exitCode = await new Promise<number | null>((resolve, reject) => {
      child.once('error', reject);
      child.once('close', (code) => resolve(code));
    });
    const containerErrors = stderr.split('\n').filter((l) => l.trim() && !NSPAWN_NOISE.test(l)).join('\n');
    if (containerErrors) await log.write(`${containerErrors}\n`);
    return { exitCode, containerErrors, limit };
  } finally {
    endWatch?.();
    opts.signal?.removeEventListener('abort', stop);
    if (killTimer) clearTimeout(killTimer);
    // Nothing of the build may outlive the step: the host reads its outputs next.
    await opts.killRest?.();
    // Left behind by nspawn when /run is on disk (see NSPAWN_NOISE); ours by name, so ours to remove.
    await rm(`/run/systemd/nspawn/propagate/${spec.machine}`, { recursive: true, force: true }).catch(() => undefined);
  }
}

/** The mount points nspawn needs in a read-only rootfs (a real OS tree has all but /mason already). */
export async function prepareRootfs(rootfs: string): Promise<void> {
  for (const dir of [MASON, '/proc', '/sys', '/dev', '/run', '/tmp']) await mkdir(join(rootfs, dir), { recursive: true });
}
