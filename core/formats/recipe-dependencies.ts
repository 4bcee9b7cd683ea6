import { type Dependency, formatDependency, parseDependency } from './dependency';
import type { PackageDefinition, Recipe } from './recipe-types';

/**
 * What a recipe alone says about dependencies, for recipes without a committed build manifest. It is a lower
 * bound: boulder's analysis adds automatic dependencies and provides (sonames, pkgconfig files, binaries) found in
 * the built files, and its macro templates add packages such as `-devel` and `-dbginfo` that the recipe never
 * names. Nothing of that is guessed here.
 */
export interface RecipeDependencies {
  /** The recipe (source) name. */
  source: string;
  /**
   * Root `builddeps` + `checkdeps`, sorted and de-duplicated: exactly what boulder records as the build
   * dependencies (tag BuildDepends) of every package in the manifest.
   */
  buildDepends: Dependency[];
  /**
   * `builddeps`/`checkdeps` of `profiles`. boulder installs these into the build root too, but does not record
   * them in the manifest, so they are kept apart.
   */
  profileBuildDepends: Dependency[];
  /** The root package first, then sub-packages in recipe order; entries with the same name are merged. */
  packages: PackageDependencies[];
}

export interface PackageDependencies {
  /** Name with `%(name)`, `%(version)`, `%(release)` expanded, as boulder names the package. */
  name: string;
  /** Only the package's own name: moss implies this provider for every package. */
  provides: Dependency[];
  /** Declared `rundeps`, macros expanded, sorted and de-duplicated. */
  depends: Dependency[];
  conflicts: Dependency[];
}

export function recipeDependencies(recipe: Recipe): RecipeDependencies {
  const { name, version, release } = recipe.source;
  // boulder expands recipe variables in package names and rundeps (boulder/src/package.rs, resolve_packages);
  // other macros (%(libdir), …) are left as written: they are not expected there and we do not know them.
  const values: Record<string, string> = { name, version, release: String(release) };
  const expand = (s: string): string => s.replace(/%\((name|version|release)\)/g, (_, v: string) => values[v]);

  const byName = new Map<string, { depends: string[]; conflicts: string[] }>();
  const add = (pkgName: string, def: PackageDefinition): void => {
    const key = expand(pkgName);
    // A sub-package with the root's name (`- "%(name)":`) adds to the root package, as boulder merges them.
    const entry = byName.get(key) ?? { depends: [], conflicts: [] };
    entry.depends.push(...def.runDeps.map(expand));
    entry.conflicts.push(...def.conflicts);
    byName.set(key, entry);
  };
  add(name, recipe.package);
  for (const sub of recipe.subPackages) add(sub.name, sub.package);

  return {
    source: name,
    buildDepends: dependencySet([...recipe.build.buildDeps, ...recipe.build.checkDeps]),
    profileBuildDepends: dependencySet(recipe.profiles.flatMap((p) => [...p.build.buildDeps, ...p.build.checkDeps])),
    packages: [...byName].map(([pkgName, entry]) => ({
      name: pkgName,
      provides: [{ kind: 'name', name: pkgName }],
      depends: dependencySet(entry.depends),
      conflicts: dependencySet(entry.conflicts),
    })),
  };
}

/** Sorted by text form and de-duplicated, like the BTreeSet boulder writes into manifests. */
function dependencySet(texts: readonly string[]): Dependency[] {
  const unique = new Map<string, Dependency>();
  for (const text of texts) {
    const dep = parseDependency(text);
    unique.set(formatDependency(dep), dep);
  }
  return [...unique.keys()].sort().map((k) => unique.get(k) as Dependency);
}
