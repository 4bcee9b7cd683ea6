/**
 * Names of the nspawn machines (and of their cgroups): `summit-<builder>-<worker pid>-<run>-<step>`. A valid host
 * name, as nspawn wants, that says which builder process made it, so a builder that starts again can tell its own
 * leftovers (from a process no longer alive) from the live builds of other builders on the same host.
 */
export function machinePrefix(builderId: string): string {
  return `summit-${builderId.toLowerCase().replace(/[^a-z0-9-]+/g, '-').slice(0, 24)}-`;
}

export function machineName(builderId: string, pid: number, run: number, step: string): string {
  return `${machinePrefix(builderId)}${pid}-${run}-${step}`;
}

/** The worker pid in a machine name of this builder, or undefined when the name is not one of its machines. */
export function machinePid(builderId: string, name: string): number | undefined {
  const prefix = machinePrefix(builderId);
  if (!name.startsWith(prefix)) return undefined;
  const m = /^(\d+)-\d+-[a-z]+$/.exec(name.slice(prefix.length));
  return m ? Number(m[1]) : undefined;
}
