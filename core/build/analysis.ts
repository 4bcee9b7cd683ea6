import { formatDependency, parseDependency } from '../formats/dependency';
import type { ElfDynamicInfo } from './elf';
import type { PackagePlan } from './package-split';

/**
 * What a package provides and depends on, derived from its files the way boulder's analysis handlers do
 * (`boulder/src/package/analysis/handler.rs`, `handler/elf.rs`):
 *
 * - `binary(x)` for `/usr/bin/x`, `sysbinary(x)` for `/usr/sbin/x`;
 * - ELF files named `*.so*`: `soname(<DT_SONAME or file name>(<machine>))`; for a library below a
 *   sub-directory of `/usr/lib` the provider carries that directory (`soname(foo/libx.so.1(x86_64))`);
 * - ELF files: `soname(<DT_NEEDED>(<machine>))` and `interpreter(<PT_INTERP>(<machine>))` dependencies;
 * - `*.pc` below a `pkgconfig` directory: `pkgconfig(name)` (`pkgconfig32` below lib32) and a dependency per
 *   `Requires`/`Requires.private` module;
 * - `*Config.cmake` / `*-config.cmake`: `cmake(name)`;
 * - then the recipe's `rundeps`; `rundeps-exclude` and `provides-exclude` are regular expressions removing
 *   matches; a dependency the package provides itself is dropped.
 */
export interface AnalysedFile {
  /** Absolute install path, `/usr/...`. */
  path: string;
  type: 'regular' | 'symlink' | 'directory';
  /** Present for regular files that are well-formed ELF64. */
  elf?: ElfDynamicInfo;
  /** Present for pkg-config files: the modules they require. */
  pkgconfigRequires?: string[];
}

export interface PackageAnalysis {
  provides: string[];
  /** Found in the files plus the declared rundeps: what the package's meta and the manifest .bin carry. */
  depends: string[];
  /** Found in the files only: what boulder's manifest .jsonc report lists. */
  analysedDepends: string[];
}

/** True for the files whose contents the analysis reads: callers read only these. */
export function isPkgconfigFile(path: string): boolean {
  return path.endsWith('.pc') && path.split('/').includes('pkgconfig');
}

export function analysePackage(plan: PackagePlan, files: readonly AnalysedFile[]): PackageAnalysis {
  const provides = new Set<string>();
  const depends = new Set<string>();
  for (const file of files) {
    if (file.type === 'directory') continue;
    const parts = file.path.split('/');
    const base = parts[parts.length - 1];
    const dir = parts.slice(0, -1).join('/');
    if (dir === '/usr/bin') provides.add(`binary(${base})`);
    else if (dir === '/usr/sbin') provides.add(`sysbinary(${base})`);

    if (file.elf) {
      const m = file.elf.machine;
      for (const needed of file.elf.needed) depends.add(`soname(${needed}(${m}))`);
      if (file.elf.interpreter) depends.add(`interpreter(${file.elf.interpreter}(${m}))`);
      if (base.includes('.so')) {
        const soname = file.elf.soname || base;
        // boulder: a library outside the root tree (`/usr/<dir>/<file>`) is provided by its path below it.
        const sub = parts.length === 4 ? '' : parts.slice(3, -1).join('/');
        provides.add(`soname(${sub ? `${sub}/` : ''}${soname}(${m}))`);
      }
    }
    if (isPkgconfigFile(file.path)) {
      const kind = parts.includes('lib32') ? 'pkgconfig32' : 'pkgconfig';
      provides.add(`${kind}(${base.slice(0, -'.pc'.length)})`);
      for (const req of file.pkgconfigRequires ?? []) depends.add(`${kind}(${req})`);
    }
    const cmake = /^(.+?)(?:Config|-config)\.cmake$/.exec(base);
    if (cmake && !base.endsWith('-Config.cmake')) provides.add(`cmake(${cmake[1]})`);
  }
  const analysed = new Set(depends);
  for (const dep of plan.runDeps) depends.add(formatDependency(parseDependency(dep)));

  const excluded = (patterns: string[]) => {
    const res = patterns.map((p) => new RegExp(p));
    return (value: string) => res.some((re) => re.test(value));
  };
  const dropProvide = excluded(plan.providesExclude);
  const dropDepend = excluded(plan.runDepsExclude);
  const provided = [...provides].filter((p) => !dropProvide(p)).sort();
  const own = new Set([...provided, plan.name]);
  const needed = [...depends].filter((d) => !own.has(d) && !dropDepend(d)).sort();
  return { provides: provided, depends: needed, analysedDepends: needed.filter((d) => analysed.has(d)) };
}
