import type { IsaLevel } from '../contracts/queues';
import type { BuildSteps, Recipe } from '../formats/recipe-types';
import { compilerFlags } from './flags';
import { BUILD_USER, CONTAINER_PATHS } from './layout';
import { expandMacros, macroVariables } from './macros';

/**
 * The shell scripts a build runs, one per step, each under `/bin/sh -e` inside the container. Pure: the build
 * activity writes them to the work dir and runs them; tests read them as text.
 */

/** The steps the builder runs, in order. `workload` (PGO) is not run: PGO is not supported yet. */
export const STEP_NAMES = ['setup', 'build', 'install', 'check'] as const;
export type StepName = (typeof STEP_NAMES)[number];

export interface StepScript {
  step: StepName;
  /** The complete script text. */
  script: string;
}

export interface StepScriptOptions {
  recipe: Recipe;
  /** Names the recipe in macro errors, e.g. `l/liba/stone.yaml`. */
  recipeFile: string;
  isa: IsaLevel;
  /** The level's architecture, %(arch); default x86_64. */
  architecture?: string;
  jobs: number;
  /** Seconds since the epoch, for reproducible timestamps (the commit's time). */
  sourceDateEpoch?: number;
  /** True when the build has dependency packages extracted under CONTAINER_PATHS.deps. */
  withDependencies: boolean;
}

/** A profile for exactly this ISA level replaces the root steps it defines (others fall back to the root's). */
export function stepsFor(recipe: Recipe, isa: IsaLevel): BuildSteps {
  const profile = recipe.profiles.find((p) => p.target === isa);
  if (!profile) return recipe.build;
  const merged: BuildSteps = { ...recipe.build };
  for (const key of [...STEP_NAMES, 'environment', 'workload'] as const) {
    if (profile.build[key] !== undefined) merged[key] = profile.build[key];
  }
  return merged;
}

/** The scripts of the steps the recipe defines, macros expanded. @throws MacroError */
export function stepScripts(opts: StepScriptOptions): StepScript[] {
  const { recipe } = opts;
  const steps = stepsFor(recipe, opts.isa);
  const variables = macroVariables({ name: recipe.source.name, version: recipe.source.version, release: recipe.source.release, isa: opts.isa, architecture: opts.architecture, jobs: opts.jobs });
  const site = (step: string) => ({ recipe: `${recipe.source.name} (${opts.recipeFile})`, step });
  const environment = steps.environment ? expandMacros(steps.environment, variables, site('environment')) : '';
  const out: StepScript[] = [];
  for (const step of STEP_NAMES) {
    const text = steps[step];
    if (text === undefined || text.trim() === '') continue;
    const body = expandMacros(text, variables, site(step));
    out.push({ step, script: composeScript(step, opts, environment, body) });
  }
  return out;
}

function composeScript(step: StepName, opts: StepScriptOptions, environment: string, body: string): string {
  const { name, version, release } = opts.recipe.source;
  const flags = compilerFlags(opts.isa);
  const deps = `${CONTAINER_PATHS.deps}/usr`;
  const env: Array<[string, string]> = [
    ['TERM', 'dumb'],
    ['LANG', 'C.UTF-8'],
    ['LC_ALL', 'C.UTF-8'],
    ['HOME', '/tmp'],
    ['CFLAGS', flags.cflags],
    ['CXXFLAGS', flags.cxxflags],
    ['LDFLAGS', flags.ldflags],
    ['RUSTFLAGS', flags.rustflags],
    ['CC', 'gcc'],
    ['CXX', 'g++'],
    ['PATH', `${opts.withDependencies ? `${deps}/bin:` : ''}/usr/bin:/usr/sbin:/bin:/sbin`],
    ['PKG_CONFIG_PATH', `${opts.withDependencies ? `${deps}/lib/pkgconfig:${deps}/share/pkgconfig:` : ''}/usr/lib/pkgconfig:/usr/share/pkgconfig`],
  ];
  if (opts.sourceDateEpoch !== undefined) env.push(['SOURCE_DATE_EPOCH', String(opts.sourceDateEpoch)]);
  if (opts.withDependencies) {
    // The dependencies are not in /usr (the build root is read-only): point the compiler, the linker, the
    // dynamic loader (configure tests and checks run what they build) and pkg-config at their sysroot.
    env.push(['CPATH', `${deps}/include`], ['LIBRARY_PATH', `${deps}/lib`], ['LD_LIBRARY_PATH', `${deps}/lib`]);
  }
  return [
    '#!/bin/sh',
    `# summit build step "${step}" of ${name} ${version}-${release} (${opts.isa}), generated from ${opts.recipeFile}`,
    'set -e',
    // One stream: the log then keeps compiler errors next to the command that caused them.
    'exec 2>&1',
    ...env.map(([k, v]) => `${k}=${shellQuote(v)}; export ${k}`),
    `cd ${shellQuote(CONTAINER_PATHS.workdir)}`,
    ...(environment ? ['# environment', environment] : []),
    // Trace from here on: the log then shows every command of the recipe, not our preamble.
    'set -x',
    body,
    '',
  ].join('\n');
}

/**
 * The command nspawn starts for a step. It runs as the container's root (nobody on the host) only long enough to
 * mark that the container came up — in a folder only that root may write, so the recipe can neither fake nor
 * hide it — then becomes the unprivileged build user for good: no capabilities, not even in the bounding set,
 * and no way back through setuid binaries (no_new_privs). Everything after the marker is the recipe's doing.
 */
export function stepCommand(step: string): string[] {
  const marker = shellQuote(`${CONTAINER_PATHS.status}/${step}.started`);
  const script = shellQuote(`${CONTAINER_PATHS.scripts}/${step}.sh`);
  const { uid, gid } = BUILD_USER;
  return [
    '/bin/sh', '-c',
    `: > ${marker} && exec setpriv --reuid=${uid} --regid=${gid} --clear-groups --inh-caps=-all --bounding-set=-all --no-new-privs -- /bin/sh -e ${script}`,
  ];
}

/** Single-quote a value for sh. */
export function shellQuote(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}
