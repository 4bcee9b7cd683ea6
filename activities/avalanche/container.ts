import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { CONTAINER_PATHS, MASON } from '../../core/build/layout';
import type { BuildLog } from './build-log';

/**
 * One build step in a systemd-nspawn container:
 *
 * - `--private-network`: only a loopback interface, so a build cannot fetch anything (upstreams are fetched and
 *   checked on the host beforehand);
 * - the build root read-only: by default the host's own `/usr` (`--directory=/ --volatile=yes` mounts a tmpfs
 *   root with only the host /usr in it, read-only), plus `/etc/alternatives` read-only because Debian's `cc` and
 *   friends are symlinks through it; with a rootfs directory configured, that whole tree `--read-only` (its
 *   own /etc included) with a tmpfs /tmp. nspawn cannot create mount points in a read-only tree, so the empty
 *   folders it needs (/mason, /proc, /sys, /dev, /run, /tmp) are made in the rootfs first, once;
 * - the build's work dir bound read-write at /mason and the recipe folder read-only at /mason/recipe;
 * - `--register=no --keep-unit`: no machined and no new scope unit, which neither a container nor CI has;
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
  /** Host folder bound read-write at /mason. */
  mason: string;
  /** Host recipe folder bound read-only at /mason/recipe. */
  pkgdir: string;
}

export function nspawnArgs(spec: ContainerSpec, command: readonly string[]): string[] {
  const root = spec.rootfs
    ? [`--directory=${spec.rootfs}`, '--read-only', '--tmpfs=/tmp']
    : ['--directory=/', '--volatile=yes', ...(existsSync('/etc/alternatives') ? ['--bind-ro=/etc/alternatives'] : [])];
  return [
    '--register=no', '--keep-unit', '--quiet', `--machine=${spec.machine}`, '--private-network',
    '--resolv-conf=off', '--timezone=off',
    ...root,
    `--bind=${spec.mason}:${MASON}`, `--bind-ro=${spec.pkgdir}:${CONTAINER_PATHS.pkgdir}`,
    `--chdir=${CONTAINER_PATHS.workdir}`,
    ...command,
  ];
}

/** The process to start: nspawn under setpriv, so that it dies with the worker. */
export function containerCommand(spec: ContainerSpec, command: readonly string[]): { file: string; args: string[] } {
  return { file: 'setpriv', args: ['--pdeathsig', 'TERM', '--', 'systemd-nspawn', ...nspawnArgs(spec, command)] };
}

export interface StepOutcome {
  /** The step's exit status; null when it was killed. */
  exitCode: number | null;
  /** nspawn's own complaints (empty when it ran the step). */
  containerErrors: string;
}

// nspawn says this on exit where /run is not a tmpfs; it is about its own propagation folder, not the build.
const NSPAWN_NOISE = /^Attempted to remove disk file system under "\/run\/systemd\/nspawn\/propagate\/.*$/;

/** Run `command` in the container; resolves when it ends, killing it when `signal` aborts. */
export async function runInContainer(spec: ContainerSpec, command: readonly string[], log: BuildLog, signal?: AbortSignal): Promise<StepOutcome> {
  if (spec.rootfs) await prepareRootfs(spec.rootfs);
  const { file, args } = containerCommand(spec, command);
  const child = spawn(file, args, { stdio: ['ignore', log.fd, 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => {
    stderr += chunk.toString('utf8');
  });
  // SIGTERM makes nspawn kill the container's init and with it every process of the build; SIGKILL is only
  // the fallback for an nspawn that does not answer.
  let killTimer: NodeJS.Timeout | undefined;
  const stop = () => {
    child.kill('SIGTERM');
    killTimer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  };
  signal?.addEventListener('abort', stop, { once: true });
  try {
    const exitCode = await new Promise<number | null>((resolve, reject) => {
      child.once('error', reject);
      child.once('close', (code) => resolve(code));
    });
    const containerErrors = stderr.split('\n').filter((l) => l.trim() && !NSPAWN_NOISE.test(l)).join('\n');
    if (containerErrors) await log.write(`${containerErrors}\n`);
    return { exitCode, containerErrors };
  } finally {
    signal?.removeEventListener('abort', stop);
    if (killTimer) clearTimeout(killTimer);
    // Left behind by nspawn when /run is on disk (see NSPAWN_NOISE); ours by name, so ours to remove.
    await rm(`/run/systemd/nspawn/propagate/${spec.machine}`, { recursive: true, force: true }).catch(() => undefined);
  }
}

/** The mount points nspawn needs in a read-only rootfs (a real OS tree has all but /mason already). */
export async function prepareRootfs(rootfs: string): Promise<void> {
  for (const dir of [MASON, '/proc', '/sys', '/dev', '/run', '/tmp']) await mkdir(join(rootfs, dir), { recursive: true });
}
