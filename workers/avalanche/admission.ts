/**
 * Admission: the builder measures its host (load, memory, the data folder's disk) and, past a threshold
 * (SUMMIT_BUILDER_MAX_LOAD, SUMMIT_BUILDER_MIN_FREE_MEMORY, SUMMIT_BUILDER_MIN_FREE_DISK), closes its slot gate so
 * no worker polls for a new build until a later measurement is back under them (workers/avalanche/build-slots.ts).
 * The same measurement goes to the hub with the heartbeat, so planning books no slot on it meanwhile.
 *
 * It measures at every heartbeat and on a timer of the same period, so a builder whose heartbeats cannot reach
 * the hub still closes its own gate.
 */
import { readFile, statfs } from 'node:fs/promises';
import os from 'node:os';
import { judgeHealth, type AdmissionThresholds, type BuilderHealth, type HostSample } from '../../core/builder/health';
import type { BuildSlots } from './build-slots';

/** The host as the kernel tells it now: /proc/loadavg, /proc/meminfo, statfs of the data folder. */
export async function sampleHost(dataDir: string): Promise<HostSample> {
  const [loadavg, meminfo, fs] = await Promise.all([readFile('/proc/loadavg', 'utf8'), readFile('/proc/meminfo', 'utf8'), statfs(dataDir)]);
  const kib = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(meminfo)?.[1] ?? 0) * 1024;
  return {
    load1: Number(loadavg.split(' ')[0]),
    cpus: os.availableParallelism(),
    memAvailable: kib('MemAvailable'),
    memTotal: kib('MemTotal'),
    diskFree: fs.bavail * fs.bsize,
    diskTotal: fs.blocks * fs.bsize,
  };
}

export interface Admission {
  /** Measure now, open or close the gate, and return what was measured. */
  check(): Promise<BuilderHealth>;
  /** The last measurement (undefined before the first). */
  readonly last: BuilderHealth | undefined;
  stop(): void;
}

export function startAdmission(opts: {
  dataDir: string;
  thresholds: AdmissionThresholds;
  slots: BuildSlots;
  everyMs: number;
  log?: (message: string) => void;
  sample?: (dataDir: string) => Promise<HostSample>;
}): Admission {
  const sample = opts.sample ?? sampleHost;
  const log = opts.log ?? ((m: string) => console.log(m));
  let last: BuilderHealth | undefined;
  const check = async (): Promise<BuilderHealth> => {
    const health = judgeHealth(await sample(opts.dataDir), opts.thresholds);
    const open = health.pressure.length === 0;
    // Admission's own closure only: the gate may also be closed by the builder's standing (standing.ts).
    if (open === opts.slots.closedBy('admission')) {
      log(open ? 'avalanche: pressure relieved; taking builds again' : `avalanche: under pressure (${health.pressure.join('; ')}); taking no new build until it recovers`);
      opts.slots.setAdmitting(open);
    }
    last = health;
    return health;
  };
  const tick = () => void check().catch((err: Error) => log(`avalanche: cannot measure the host: ${err.message}`));
  const timer = setInterval(tick, opts.everyMs);
  timer.unref();
  return { check, get last() { return last; }, stop: () => clearInterval(timer) };
}
