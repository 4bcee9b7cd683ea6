/** The wave benchmark's statistics (pure): percentiles, summaries, slot utilisation, overhead per package. */

/** The p-th percentile (0–100) by linear interpolation between closest ranks; undefined for no values. */
export function percentile(values: readonly number[], p: number): number | undefined {
  if (values.length === 0) return undefined;
  if (p < 0 || p > 100) throw new Error(`percentile ${p} is outside 0–100`);
  const sorted = [...values].sort((a, b) => a - b);
  const rank = (p / 100) * (sorted.length - 1);
  const lo = Math.floor(rank);
  const hi = Math.ceil(rank);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (rank - lo);
}

export interface Summary {
  n: number;
  p50?: number;
  p95?: number;
  p99?: number;
  max?: number;
  total: number;
}

export function summarize(values: readonly number[]): Summary {
  return {
    n: values.length,
    p50: percentile(values, 50),
    p95: percentile(values, 95),
    p99: percentile(values, 99),
    max: values.length ? Math.max(...values) : undefined,
    total: values.reduce((a, b) => a + b, 0),
  };
}

/** Share of the slots' time (wall × slots) spent in `busyMs`; 0 when there was no time. */
export function utilisation(busyMs: number, wallMs: number, slots: number): number {
  const capacity = wallMs * slots;
  return capacity > 0 ? busyMs / capacity : 0;
}

/** Slot time not spent inside a container, per package: (wall × slots − Σ in-container) / N. */
export function overheadPerPackage(wallMs: number, slots: number, inContainerMs: number, packages: number): number {
  if (packages <= 0) return 0;
  return (wallMs * slots - inContainerMs) / packages;
}
