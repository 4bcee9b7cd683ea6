/**
 * `--builder-cpus LIST` of bench:wave: the builder (and its containers) on the CPUs of LIST, everything else of the
 * farm (summit, vessel, the API, the Temporal dev server, this process) on the others. It separates what the
 * builder host pays per package from what the shared CPUs cost: on a real farm the hub, Temporal and vessel do not
 * run on a builder's cores. LIST is taskset's syntax: CPU numbers and ranges, comma-separated (`1`, `2-3`, `0,2`).
 */
export interface CpuSplit {
  builder: number[];
  farm: number[];
}

/** The CPUs of a taskset list, sorted, or a message naming what is wrong in it. */
export function parseCpuList(list: string, cpus: number): number[] | string {
  const out = new Set<number>();
  for (const part of list.split(',')) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(part.trim());
    if (!m) return `"${part}" in the CPU list "${list}" is not a CPU number or a range (e.g. 1, 2-3)`;
    const from = Number(m[1]);
    const to = m[2] === undefined ? from : Number(m[2]);
    if (to < from) return `the range "${part}" in the CPU list "${list}" runs backwards`;
    if (to >= cpus) return `CPU ${to} in the CPU list "${list}" does not exist: this machine has CPUs 0-${cpus - 1}`;
    for (let c = from; c <= to; c++) out.add(c);
  }
  return [...out].sort((a, b) => a - b);
}

/** The builder's CPUs and the farm's (the rest), or a message when either set would be empty or the list is wrong. */
export function splitCpus(list: string, cpus: number): CpuSplit | string {
  const builder = parseCpuList(list, cpus);
  if (typeof builder === 'string') return builder;
  const farm = Array.from({ length: cpus }, (_, c) => c).filter((c) => !builder.includes(c));
  if (farm.length === 0) return `the CPU list "${list}" takes every CPU of this machine (0-${cpus - 1}): the rest of the farm needs at least one`;
  return { builder, farm };
}
