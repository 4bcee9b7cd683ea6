import type { PackageDefinition, Recipe } from '../formats/recipe-types';
import { expandMacros, MACRO_DEFINITIONS } from './macros';

/**
 * Which package each installed file goes to: boulder's collector rules (`boulder/src/package/collect.rs`).
 *
 * Rules come from three places, in ascending priority: boulder's template packages (below: the root package
 * takes `*`, `%(name)-devel` the development files, …), then the recipe's root `paths`, then its sub-packages'
 * `paths` in recipe order. A file belongs to the highest-priority rule that matches it. A rule matches a path
 * equal to it, matching it as a glob (`*` crosses `/`, as Rust's glob crate does by default), or lying below
 * it as a directory.
 *
 * So the `-devel` split is always on, as in boulder: headers, `lib*.so` dev symlinks, static libraries and
 * pkg-config/cmake files go to `<name>-devel` whether or not the recipe declares that sub-package; declaring it
 * only adds metadata (summary, rundeps) or paths. A package no file falls to is not emitted.
 */

export interface SplitRuleSource {
  /** As written (`%(name)-devel`); expanded with the recipe's variables. */
  name: string;
  package: Partial<Omit<PackageDefinition, 'paths'>> & { paths: ReadonlyArray<{ path: string }> };
}

/** boulder's template packages (`boulder/data/macros/arch/base.yaml`), minus the Qt/KDE-only patterns. */
export const TEMPLATE_PACKAGES: readonly SplitRuleSource[] = [
  { name: '%(name)', package: { paths: [{ path: '*' }] } },
  { name: '%(name)-docs', package: { summary: 'Documentation for %(name)', description: 'Documentation files for the %(name) package', paths: [{ path: '/usr/share/gtk-doc' }] } },
  {
    name: '%(name)-devel',
    package: {
      summary: 'Development files for %(name)',
      description: 'Install this package if you intend to build software against the %(name) package.',
      runDeps: ['%(name)'],
      paths: [
        '/usr/include', '/usr/lib/*.a', '/usr/lib/cmake', '/usr/lib/lib*.so', '/usr/lib/pkgconfig', '/usr/share/aclocal',
        '/usr/share/cmake', '/usr/share/man/man2', '/usr/share/man/man3', '/usr/share/man/man9', '/usr/share/pkgconfig',
        '/usr/share/gir-1.0/*.gir', '/usr/share/vala/vapi/*.deps', '/usr/share/vala/vapi/*.vapi',
      ].map((path) => ({ path })),
    },
  },
  { name: '%(name)-dbginfo', package: { summary: 'Debugging symbols for %(name)', paths: [{ path: '/usr/lib/debug' }] } },
  { name: '%(name)-libs', package: { summary: 'Library files for %(name)', paths: [] } },
  { name: '%(name)-32bit', package: { summary: 'Provides 32-bit runtime libraries for %(name)', runDeps: ['%(name)'], paths: [{ path: '/usr/lib32' }, { path: '/usr/lib32/lib*.so.*' }] } },
  {
    name: '%(name)-32bit-devel',
    package: {
      summary: 'Provides development files for %(name)-32bit',
      runDeps: ['%(name)-32bit', '%(name)-devel'],
      paths: ['/usr/lib32/*.a', '/usr/lib32/cmake', '/usr/lib32/lib*.so', '/usr/lib32/pkgconfig'].map((path) => ({ path })),
    },
  },
  { name: '%(name)-32bit-dbginfo', package: { summary: 'Debugging symbols for %(name)-32bit', paths: [{ path: '/usr/lib32/debug' }] } },
];

/** A package's definition after merging template and recipe, with macros expanded. */
export interface PackagePlan {
  name: string;
  summary: string;
  description: string;
  runDeps: string[];
  runDepsExclude: string[];
  providesExclude: string[];
  conflicts: string[];
}

export interface SplitRule {
  pattern: string;
  package: string;
  matches(path: string): boolean;
}

/** An install-root entry as the splitter sees it: an absolute path below /usr. */
export interface SplitEntry {
  path: string;
  type: 'regular' | 'symlink' | 'directory';
  mode: number;
}

export interface SplitResult<T extends SplitEntry> {
  /** Packages that received files, sorted by name (boulder emits them in that order). */
  packages: Array<{ plan: PackagePlan; entries: T[] }>;
  /** Entries left out, with boulder's reason. */
  ignored: Array<{ path: string; reason: string }>;
}

/** The regular-expression source of a glob: `*` any run of characters (`/` included), `?` one, `[..]` a class. */
function globSource(pattern: string): string {
  let re = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    const close = c === '[' ? pattern.indexOf(']', i + 2) : -1;
    if (c === '*') re += '.*';
    else if (c === '?') re += '.';
    else if (close > 0) {
      const body = pattern.slice(i + 1, close);
      re += `[${body.startsWith('!') ? `^${body.slice(1)}` : body}]`.replace(/\\/g, '\\\\');
      i = close;
    } else re += c.replace(/[.+^${}()|[\]\\/]/g, '\\$&');
  }
  return re;
}

/** A rule for `pattern`: the path itself, a glob match, or anything below it as a directory. */
export function splitRule(pattern: string, pkg: string): SplitRule {
  const dir = pattern.replace(/\/+$/, '');
  const re = new RegExp(`^(?:${globSource(pattern)}|${globSource(dir)}/.*)$`);
  return { pattern, package: pkg, matches: (path) => path === pattern || re.test(path) };
}

/** Expands `%(name)`, `%(version)`, `%(release)` and the directory variables (`%(libdir)`) in package fields. */
function packageExpander(recipe: Recipe): (text: string, field: string) => string {
  const { name, version, release } = recipe.source;
  const variables = { ...MACRO_DEFINITIONS, name, version, release: String(release) };
  return (text, field) => expandMacros(text, variables, { recipe: name, step: `packages: ${field}` });
}

/**
 * The package plans and rules of a recipe: templates, root, sub-packages, merged by expanded name.
 * On a merge the later source's summary and description win when it has them; rundeps, exclusions, conflicts
 * and paths add up.
 */
export function packageRules(recipe: Recipe): { plans: Map<string, PackagePlan>; rules: SplitRule[] } {
  const expand = packageExpander(recipe);
  const plans = new Map<string, PackagePlan>();
  const rules: SplitRule[] = [];
  const add = (rawName: string, def: SplitRuleSource['package']): void => {
    const name = expand(rawName, 'name');
    const prev = plans.get(name);
    const text = (value: string | undefined, field: string) => (value === undefined ? undefined : expand(value, `${name}: ${field}`).trim());
    plans.set(name, {
      name,
      summary: text(def.summary, 'summary') ?? prev?.summary ?? '',
      description: text(def.description, 'description') ?? prev?.description ?? '',
      runDeps: unique([...(prev?.runDeps ?? []), ...(def.runDeps ?? []).map((d) => expand(d, `${name}: rundeps`))]),
      runDepsExclude: unique([...(prev?.runDepsExclude ?? []), ...(def.runDepsExclude ?? [])]),
      providesExclude: unique([...(prev?.providesExclude ?? []), ...(def.providesExclude ?? [])]),
      conflicts: unique([...(prev?.conflicts ?? []), ...(def.conflicts ?? []).map((d) => expand(d, `${name}: conflicts`))]),
    });
    for (const p of def.paths) rules.push(splitRule(expand(p.path, `${name}: paths`), name));
  };
  for (const t of TEMPLATE_PACKAGES) add(t.name, t.package);
  add(recipe.source.name, recipe.package);
  for (const sub of recipe.subPackages) add(sub.name, sub.package);
  // A package without a summary or description of its own gets the root package's, as in boulder.
  const root = plans.get(recipe.source.name)!;
  for (const plan of plans.values()) {
    plan.summary ||= root.summary;
    plan.description ||= root.description;
  }
  return { plans, rules };
}

/**
 * Split install-root entries into packages. Directories are kept only when empty or with a mode other than
 * 0755 (moss creates ordinary parent directories itself); files outside /usr and libtool archives are left
 * out, as boulder does.
 */
export function splitPackages<T extends SplitEntry>(recipe: Recipe, entries: readonly T[]): SplitResult<T> {
  const { plans, rules } = packageRules(recipe);
  const byPackage = new Map<string, T[]>();
  const ignored: SplitResult<T>['ignored'] = [];
  const parents = new Set(entries.map((e) => e.path.slice(0, e.path.lastIndexOf('/'))));
  for (const entry of entries) {
    if (entry.path === '/usr') continue;
    if (!entry.path.startsWith('/usr/')) {
      ignored.push({ path: entry.path, reason: 'not below /usr' });
      continue;
    }
    if (entry.path.endsWith('.la') && /^\/usr\/lib(32)?\//.test(entry.path)) {
      ignored.push({ path: entry.path, reason: 'libtool archive' });
      continue;
    }
    if (entry.type === 'directory' && parents.has(entry.path) && (entry.mode & 0o7777) === 0o755) continue;
    // Highest priority first: the last rule added that matches.
    let owner: string | undefined;
    for (let i = rules.length - 1; i >= 0 && owner === undefined; i--) if (rules[i].matches(entry.path)) owner = rules[i].package;
    if (owner === undefined) {
      ignored.push({ path: entry.path, reason: 'no package path matches it' });
      continue;
    }
    const list = byPackage.get(owner) ?? [];
    list.push(entry);
    byPackage.set(owner, list);
  }
  const packages = [...byPackage.keys()].sort().map((name) => ({ plan: plans.get(name)!, entries: byPackage.get(name)! }));
  return { packages, ignored };
}

function unique(values: string[]): string[] {
  return [...new Set(values)];
}
