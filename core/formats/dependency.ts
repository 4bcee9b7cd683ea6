/**
 * Dependency and provider strings as moss writes them: `kind(name)`, or a bare name for kind `name`.
 * FORMATS.md §3: the numeric kinds are what the stone meta records carry.
 */
export const DEPENDENCY_KINDS = [
  'name',
  'soname',
  'pkgconfig',
  'interpreter',
  'cmake',
  'python',
  'binary',
  'sysbinary',
  'pkgconfig32',
] as const;

export type DependencyKind = (typeof DEPENDENCY_KINDS)[number];

export interface Dependency {
  kind: DependencyKind;
  name: string;
}

const KIND_BY_NAME: ReadonlyMap<string, DependencyKind> = new Map(DEPENDENCY_KINDS.map((k) => [k, k]));

export function kindFromCode(code: number): DependencyKind | undefined {
  return DEPENDENCY_KINDS[code];
}

export function kindCode(kind: DependencyKind): number {
  return DEPENDENCY_KINDS.indexOf(kind);
}

/** Text form used in manifests' .jsonc and everywhere a human reads a dependency. */
export function formatDependency(dep: Dependency): string {
  return dep.kind === 'name' ? dep.name : `${dep.kind}(${dep.name})`;
}

/**
 * Parse `pkgconfig(zlib)`, `soname(libz.so.1(x86_64))` or a plain name. The outer parentheses belong to the
 * kind; the name may itself contain parentheses. Unknown kinds are not a dependency kind: the whole text is
 * then taken as a plain name (as moss does), so callers can flag it if they care.
 */
export function parseDependency(text: string): Dependency {
  const open = text.indexOf('(');
  if (open > 0 && text.endsWith(')')) {
    const kind = KIND_BY_NAME.get(text.slice(0, open));
    if (kind && kind !== 'name') return { kind, name: text.slice(open + 1, -1) };
  }
  return { kind: 'name', name: text };
}
