import type { IsaLevel } from '../contracts/queues';
import { PACKAGE_ARCHITECTURE } from './artefact-names';
import { compilerFlags } from './flags';
import { CONTAINER_PATHS } from './layout';

/**
 * The recipe macro language, after boulder's (`boulder/data/macros/`):
 *
 * - `%name` is an *action*: replaced by a shell snippet. Text after it on the same line is appended to the
 *   snippet's last line, so `%make_install -j1` passes `-j1` to make.
 * - `%(name)` is a *variable*: replaced by its value, which may itself hold macros.
 * - `%%` is a literal `%` (write `printf '%%s'`); a `%` not followed by a name or `(` stays as it is.
 *
 * Anything else that looks like a macro is an error naming the macro, the step and the recipe: a typo must fail
 * the build before anything runs, not turn into a puzzling shell error.
 */

export interface MacroAction {
  description: string;
  command: string;
}

/** The actions a recipe may use. Snippets are POSIX sh: steps run under `/bin/sh -e`. */
export const MACRO_ACTIONS: Readonly<Record<string, MacroAction>> = {
  configure: {
    description: 'Run ./configure with the standard directory options.',
    command: 'test -x ./configure || { echo "%%configure: no ./configure in $PWD" >&2; exit 1; }\n./configure %(options_configure)',
  },
  make: { description: 'Run make with the build\'s job count.', command: 'make -j "%(jobs)"' },
  make_install: { description: 'Run make install into the install root.', command: '%make install DESTDIR="%(installroot)"' },
  cmake: { description: 'Configure a CMake project into %(builddir) with Ninja.', command: 'cmake -G Ninja %(options_cmake)' },
  cmake_build: { description: 'Build the CMake project.', command: 'cmake --build "%(builddir)" --verbose --parallel "%(jobs)"' },
  cmake_install: { description: 'Install the CMake project into the install root.', command: 'DESTDIR="%(installroot)" cmake --install "%(builddir)" --verbose' },
  meson: {
    description: 'Configure a Meson project into %(builddir).',
    command: 'test -e ./meson.build || { echo "%%meson: no ./meson.build in $PWD" >&2; exit 1; }\nmeson setup %(options_meson) "%(builddir)"',
  },
  meson_build: { description: 'Build the Meson project.', command: 'meson compile --verbose -j "%(jobs)" -C "%(builddir)"' },
  meson_install: { description: 'Install the Meson project into the install root.', command: 'DESTDIR="%(installroot)" meson install --no-rebuild -C "%(builddir)"' },
  patch: { description: 'Apply a patch: `%patch %(pkgdir)/fix.patch` (add -pN after it to change -p1).', command: 'patch --batch --remove-empty-files --no-backup-if-mismatch -p1 -i' },
  install_bin: { description: 'Install files into %(bindir) of the install root.', command: 'install -Dm00755 -t "%(installroot)%(bindir)"' },
  install_exe: { description: 'Install one executable file: `%install_exe src dest`.', command: 'install -Dm00755' },
  install_file: { description: 'Install one regular file: `%install_file src dest`.', command: 'install -Dm00644' },
  install_dir: { description: 'Create directories with mode 0755.', command: 'install -dm00755' },
};

/** Variables with fixed values (they may refer to others); the build context adds the per-build ones. */
export const MACRO_DEFINITIONS: Readonly<Record<string, string>> = {
  prefix: '/usr',
  libsuffix: '',
  bindir: '%(prefix)/bin',
  sbindir: '%(prefix)/sbin',
  includedir: '%(prefix)/include',
  libdir: '%(prefix)/lib%(libsuffix)',
  libexecdir: '%(libdir)/%(name)',
  datadir: '%(prefix)/share',
  docdir: '%(datadir)/doc',
  infodir: '%(datadir)/info',
  localedir: '%(datadir)/locale',
  mandir: '%(datadir)/man',
  sysconfdir: '/etc',
  localstatedir: '/var',
  sharedstatedir: '%(localstatedir)/lib',
  runstatedir: '/run',
  builddir: 'summit-builddir',
  pkgconfigpath: '%(libdir)/pkgconfig:%(datadir)/pkgconfig',
  // --build/--host are left out: the build root is whatever toolchain the builder provides, and naming a
  // vendor triplet it does not know would only make configure look for a cross compiler.
  options_configure:
    '--prefix="%(prefix)" --bindir="%(bindir)" --sbindir="%(sbindir)" --libdir="%(libdir)" --includedir="%(includedir)" ' +
    '--mandir="%(mandir)" --infodir="%(infodir)" --datadir="%(datadir)" --sysconfdir="%(sysconfdir)" ' +
    '--localstatedir="%(localstatedir)" --sharedstatedir="%(sharedstatedir)" --libexecdir="%(libexecdir)"',
  options_cmake:
    '-B "%(builddir)" -DCMAKE_VERBOSE_MAKEFILE=ON -DCMAKE_BUILD_TYPE=Release -DCMAKE_C_FLAGS_RELEASE="-DNDEBUG" ' +
    '-DCMAKE_CXX_FLAGS_RELEASE="-DNDEBUG" -DCMAKE_INSTALL_DO_STRIP=OFF -DCMAKE_INSTALL_LIBDIR=lib ' +
    '-DCMAKE_INSTALL_PREFIX="%(prefix)" -DCMAKE_INSTALL_LIBEXECDIR="%(libexecdir)"',
  options_meson:
    '--buildtype=plain --prefix="%(prefix)" --libdir="lib%(libsuffix)" --bindir="%(bindir)" --sbindir="%(sbindir)" ' +
    '--libexecdir="lib%(libsuffix)/%(name)" --includedir="%(includedir)" --datadir="%(datadir)" --mandir="%(mandir)" ' +
    '--infodir="%(infodir)" --localedir="%(localedir)" --sysconfdir="%(sysconfdir)" --localstatedir="%(localstatedir)" ' +
    '--wrap-mode=nodownload',
};

/** What a build contributes to the variables. */
export interface MacroContext {
  name: string;
  version: string;
  release: number;
  isa: IsaLevel;
  /** The package architecture the level belongs to (core/profile.ts); default x86_64. */
  architecture?: string;
  jobs: number;
}

/** Every variable of a build: the fixed definitions, the container paths, the recipe identity and the ISA flags. */
export function macroVariables(ctx: MacroContext): Record<string, string> {
  const flags = compilerFlags(ctx.isa);
  return {
    ...MACRO_DEFINITIONS,
    name: ctx.name,
    version: ctx.version,
    release: String(ctx.release),
    jobs: String(ctx.jobs),
    // The package architecture; the ISA level is a build variant of it (see core/build/artefact-names.ts).
    arch: ctx.architecture ?? PACKAGE_ARCHITECTURE,
    isa: ctx.isa,
    installroot: CONTAINER_PATHS.installroot,
    workdir: CONTAINER_PATHS.workdir,
    pkgdir: CONTAINER_PATHS.pkgdir,
    sourcedir: CONTAINER_PATHS.sourcedir,
    archflags: flags.arch,
    cflags: flags.cflags,
    cxxflags: flags.cxxflags,
    ldflags: flags.ldflags,
    rustflags: flags.rustflags,
    cc: 'gcc',
    cxx: 'g++',
  };
}

/** A macro that does not exist, or one that refers to itself. */
export class MacroError extends Error {
  constructor(
    readonly recipe: string,
    readonly step: string,
    readonly macro: string,
    problem: string,
  ) {
    super(`recipe ${recipe}, step "${step}": ${problem}`);
    this.name = 'MacroError';
  }
}

export interface ExpansionSite {
  /** Names the recipe in errors, e.g. `liba (l/liba/stone.yaml)`. */
  recipe: string;
  step: string;
}

const TOKEN = /%(?:(%)|\(([A-Za-z_][A-Za-z0-9_]*)\)|([A-Za-z_][A-Za-z0-9_]*))/g;
// Deep enough for any real chain (make_install → make → jobs is 3); a loop hits it at once.
const MAX_DEPTH = 32;

/** Expand every macro of a step's text. @throws MacroError */
export function expandMacros(text: string, variables: Readonly<Record<string, string>>, site: ExpansionSite): string {
  const expand = (input: string, chain: readonly string[]): string =>
    input.replace(TOKEN, (_whole, percent: string | undefined, variable: string | undefined, action: string | undefined) => {
      if (percent) return '%';
      const macro = variable !== undefined ? `%(${variable})` : `%${action}`;
      if (chain.includes(macro) || chain.length >= MAX_DEPTH) {
        throw new MacroError(site.recipe, site.step, macro, `macro ${macro} refers to itself (${[...chain, macro].join(' → ')})`);
      }
      if (variable !== undefined) {
        const value = variables[variable];
        if (value === undefined) throw new MacroError(site.recipe, site.step, macro, unknownMessage(macro, Object.keys(variables), 'variables'));
        return expand(value, [...chain, macro]);
      }
      const found = MACRO_ACTIONS[action!];
      if (!found) throw new MacroError(site.recipe, site.step, macro, unknownMessage(macro, Object.keys(MACRO_ACTIONS), 'actions'));
      // Trailing newlines dropped so the rest of the recipe's line continues the snippet's last line.
      return expand(found.command, [...chain, macro]).replace(/\s+$/, '');
    });
  return expand(text, []);
}

function unknownMessage(macro: string, known: string[], what: string): string {
  return `unknown macro ${macro} (known ${what}: ${[...known].sort().join(', ')}; write %% for a literal %)`;
}
