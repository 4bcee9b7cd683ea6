/**
 * Whether this machine can run systemd-nspawn containers, for tests that build inside one.
 *
 * Use with describeWhenAvailable (./ci.ts): skipped with the reason locally, failed on CI.
 */
import { spawnSync } from 'node:child_process';

/** Undefined when nspawn can run here, else why not. */
export function nspawnUnavailableReason(): string | undefined {
  if (process.platform !== 'linux') return 'systemd-nspawn needs Linux';
  if (process.getuid?.() !== 0) return 'systemd-nspawn needs root';
  const probe = spawnSync('systemd-nspawn', ['--version'], { stdio: 'ignore' });
  if (probe.error || probe.status !== 0) return 'systemd-nspawn is not installed (apt-get install systemd-container)';
  return undefined;
}
