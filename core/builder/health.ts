/**
 * A builder's health and the admission rule, pure: what the builder measured of its host (load, memory, disk),
 * judged against its thresholds. The builder applies the answer to itself (it polls for no build while under
 * pressure, workers/avalanche/admission.ts) and reports it with its heartbeat, so planning books no slot on it
 * (activities/summit/planning.ts) and /api/builders shows why.
 */

/** One measurement of the host, as the builder took it. */
export interface HostSample {
  /** 1-minute load average (runnable and uninterruptible tasks). */
  load1: number;
  /** CPUs the builder may use. */
  cpus: number;
  /** Bytes the kernel says can be given to new work without swapping (MemAvailable). */
  memAvailable: number;
  memTotal: number;
  /** Bytes free to unprivileged writers in the builder's data folder, and that file system's size. */
  diskFree: number;
  diskTotal: number;
}

/** The thresholds a builder admits builds under; an absent one is not checked. */
export interface AdmissionThresholds {
  /** Highest 1-minute load average per CPU at which a new build may start. */
  maxLoadPerCpu?: number;
  /** Least available memory (bytes) with which a new build may start. */
  minFreeMemory?: number;
  /** Least free disk (bytes) in the data folder with which a new build may start. */
  minFreeDisk?: number;
}

/** What the heartbeat carries: the sample, and why the builder takes no new build (empty: it takes them). */
export interface BuilderHealth extends HostSample {
  pressure: string[];
}

const MiB = 1024 * 1024;
const mib = (n: number) => `${Math.floor(n / MiB)} MiB`;

/** Every threshold the sample crosses, in words (empty when none). */
export function pressureReasons(s: HostSample, t: AdmissionThresholds): string[] {
  const reasons: string[] = [];
  if (t.maxLoadPerCpu !== undefined && s.load1 / Math.max(1, s.cpus) > t.maxLoadPerCpu) {
    reasons.push(`load ${s.load1.toFixed(2)} on ${s.cpus} CPU(s) is above ${t.maxLoadPerCpu} per CPU`);
  }
  if (t.minFreeMemory !== undefined && s.memAvailable < t.minFreeMemory) {
    reasons.push(`available memory ${mib(s.memAvailable)} is below ${mib(t.minFreeMemory)}`);
  }
  if (t.minFreeDisk !== undefined && s.diskFree < t.minFreeDisk) {
    reasons.push(`free disk ${mib(s.diskFree)} is below ${mib(t.minFreeDisk)}`);
  }
  return reasons;
}

export function judgeHealth(s: HostSample, t: AdmissionThresholds): BuilderHealth {
  return { ...s, pressure: pressureReasons(s, t) };
}

/** True when a builder said it takes no new build. A builder that reports no health (an older one) is not. */
export function underPressure(status: { health?: Pick<BuilderHealth, 'pressure'> | null }): boolean {
  return (status.health?.pressure.length ?? 0) > 0;
}
