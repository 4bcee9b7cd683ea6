import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { SAFE_NAME_CHARACTERS, SAFE_NAME_PATTERN } from './contracts/names';
import type { IsaLevel } from './contracts/queues';

/**
 * The farm's profile: which architectures it builds for and, per architecture, its ISA levels in order, the
 * baseline first (named as the architecture: boulder names a baseline package `…-<arch>.stone`). Everything that
 * used to say `x86_64` follows it: the builders' task queues (one per level), the manifests intake reads
 * (`manifest.<arch>.bin`), the index each level publishes to, the architecture vessel imports and indexes under
 * (`history/<id>/<arch>/stone.index`), the levels a builder may serve.
 *
 * Indexes: the first architecture's baseline publishes to `main`, its other levels to `main-<level without the
 * architecture prefix>` (`x86_64-v3x` → `main-v3x`, as before profiles); another architecture's baseline to
 * `main-<arch>` and its levels to `main-<level>`. `indexes` overrides any of them. Each level has an index of its
 * own (planning keys what is published by index), and a level layers on its architecture's baseline index.
 *
 * Set with SUMMIT_PROFILE (a JSON or YAML file, or the document inline); the default is exactly the farm before
 * profiles: x86_64 with x86_64 and x86_64-v3x.
 */

const name = (what: string) => z.string().min(1, `${what} is empty`).max(64, `${what} is longer than 64 characters`).regex(SAFE_NAME_PATTERN, `${what} may hold only ${SAFE_NAME_CHARACTERS}`);

const architectureSchema = z.object({
  name: name('an architecture name'),
  levels: z.array(name('an ISA level')).min(1, 'an architecture lists at least its baseline level'),
}).strict();

export const profileSchema = z.object({
  architectures: z.array(architectureSchema).min(1, 'a profile lists at least one architecture'),
  /** Index per level, where the default naming does not fit. */
  indexes: z.record(z.string(), name('an index name')).optional(),
}).strict().superRefine((p, ctx) => {
  const levels = new Map<string, string>();
  p.architectures.forEach((a, i) => {
    if (p.architectures.findIndex((b) => b.name === a.name) !== i) {
      ctx.addIssue({ code: 'custom', path: ['architectures', i, 'name'], message: `architecture "${a.name}" is listed twice` });
    }
    if (a.levels[0] !== a.name) {
      ctx.addIssue({ code: 'custom', path: ['architectures', i, 'levels', 0], message: `the first level of "${a.name}" is its baseline and must be named "${a.name}" (got "${a.levels[0]}")` });
    }
    a.levels.forEach((level, j) => {
      const other = levels.get(level);
      if (other !== undefined) ctx.addIssue({ code: 'custom', path: ['architectures', i, 'levels', j], message: `level "${level}" is listed twice (also under ${other})` });
      else levels.set(level, a.name);
    });
  });
  for (const level of Object.keys(p.indexes ?? {})) {
    if (!levels.has(level)) ctx.addIssue({ code: 'custom', path: ['indexes', level], message: `"${level}" is not a level of the profile (${[...levels.keys()].join(', ')})` });
  }
});

export type ProfileDocument = z.infer<typeof profileSchema>;

/** One ISA level of the profile, with its architecture and where it publishes. */
export interface ProfileLevel {
  level: IsaLevel;
  architecture: string;
  /** The architecture's baseline level (the level itself for a baseline). */
  baseline: IsaLevel;
  index: string;
}

/** A build variant of the farm's profile: its ISA level, the index it publishes to, its architecture. */
export interface Variant {
  isa: IsaLevel;
  index: string;
  architecture: string;
}

/** A validated profile with its lookups; build it with parseProfile or profileFrom. */
export class FarmProfile {
  /** Every level, architecture by architecture, each baseline first. */
  readonly levels: readonly ProfileLevel[];
  private readonly byLevel: ReadonlyMap<string, ProfileLevel>;

  constructor(readonly document: ProfileDocument) {
    const first = document.architectures[0].name;
    this.levels = document.architectures.flatMap((a) => a.levels.map((level) => ({
      level, architecture: a.name, baseline: a.name,
      index: (document.indexes && Object.hasOwn(document.indexes, level) ? document.indexes[level] : undefined) ?? defaultIndex(first, a.name, level),
    })));
    this.byLevel = new Map(this.levels.map((l) => [l.level, l]));
    const byIndex = new Map<string, string>();
    for (const l of this.levels) {
      const other = byIndex.get(l.index);
      if (other !== undefined) throw new ProfileError(`indexes: levels "${other}" and "${l.level}" both publish to index "${l.index}"; each level needs an index of its own`);
      byIndex.set(l.index, l.level);
    }
  }

  get architectures(): string[] {
    return this.document.architectures.map((a) => a.name);
  }

  /** The levels of one architecture, baseline first (none for an architecture the profile does not list). */
  levelsOf(architecture: string): IsaLevel[] {
    return this.document.architectures.find((a) => a.name === architecture)?.levels.slice() ?? [];
  }

  has(level: string): level is IsaLevel {
    return this.byLevel.has(level);
  }

  level(level: string): ProfileLevel | undefined {
    return this.byLevel.get(level);
  }

  /** The architecture of a level of the profile; undefined for any other name. */
  architectureOf(level: string): string | undefined {
    return this.byLevel.get(level)?.architecture;
  }

  /**
   * The variants the farm builds: every architecture's baseline, plus the extra levels asked for (SUMMIT_VARIANTS),
   * in profile order. An extra level the profile does not list is refused by name.
   */
  variants(extra: readonly string[] = []): Variant[] {
    const unknown = extra.filter((l) => !this.byLevel.has(l));
    if (unknown.length > 0) throw new ProfileError(`SUMMIT_VARIANTS: ${unknown.map((l) => `"${l}"`).join(', ')} is not a level of the profile (${this.levels.map((l) => l.level).join(', ')})`);
    const wanted = new Set(extra);
    return this.levels.filter((l) => l.level === l.baseline || wanted.has(l.level)).map((l) => ({ isa: l.level, index: l.index, architecture: l.architecture }));
  }

  /** The indexes an index's builds see besides its own: a level's index layers on its baseline's. */
  baseIndexes(index: string): string[] {
    const l = this.levels.find((x) => x.index === index);
    if (!l || l.level === l.baseline) return [];
    return [this.byLevel.get(l.baseline)!.index];
  }
}

function defaultIndex(firstArchitecture: string, architecture: string, level: string): string {
  if (architecture !== firstArchitecture) return `main-${level}`;
  if (level === architecture) return 'main';
  return `main-${level.startsWith(`${architecture}-`) ? level.slice(architecture.length + 1) : level}`;
}

export class ProfileError extends Error {
  override readonly name = 'ProfileError';
}

/** The profile of the farm before profiles existed. */
export const DEFAULT_PROFILE_DOCUMENT: ProfileDocument = { architectures: [{ name: 'x86_64', levels: ['x86_64', 'x86_64-v3x'] }] };
export const DEFAULT_PROFILE = new FarmProfile(DEFAULT_PROFILE_DOCUMENT);

/** Validate a profile document (already parsed); every problem is named with its field. */
export function profileFrom(value: unknown, origin = 'SUMMIT_PROFILE'): FarmProfile {
  const result = profileSchema.safeParse(value);
  if (!result.success) {
    const lines = result.error.issues.map((i) => `  ${i.path.length ? i.path.join('.') : '(profile)'}: ${i.message}`);
    throw new ProfileError(`invalid profile (${origin}):\n${lines.join('\n')}`);
  }
  try {
    return new FarmProfile(result.data);
  } catch (err) {
    if (err instanceof ProfileError) throw new ProfileError(`invalid profile (${origin}):\n  ${err.message}`);
    throw err;
  }
}

/** Parse a profile written as JSON or YAML (JSON is YAML). */
export function parseProfile(text: string, origin = 'SUMMIT_PROFILE'): FarmProfile {
  let value: unknown;
  try {
    value = parseYaml(text, { maxAliasCount: 0 });
  } catch (err) {
    throw new ProfileError(`invalid profile (${origin}): not JSON or YAML: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`);
  }
  return profileFrom(value, origin);
}

/** SUMMIT_PROFILE holds the document itself (JSON, starting with `{`) rather than a file's path. */
export function isInlineProfile(setting: string): boolean {
  return setting.trimStart().startsWith('{');
}

/** The settings that name levels or architectures, checked against the profile. */
export interface ProfileSettings {
  SUMMIT_VARIANTS?: readonly string[];
  SUMMIT_BUILDER_ISA?: readonly string[];
  SUMMIT_BUILDER_ARCH?: string;
}

/** What in the settings the profile does not list, per variable; empty when all is well. */
export function profileSettingProblems(profile: FarmProfile, settings: ProfileSettings): Array<{ field: keyof ProfileSettings; message: string }> {
  const problems: Array<{ field: keyof ProfileSettings; message: string }> = [];
  const all = profile.levels.map((l) => l.level).join(', ');
  const unknown = (settings.SUMMIT_VARIANTS ?? []).filter((l) => !profile.has(l));
  if (unknown.length) problems.push({ field: 'SUMMIT_VARIANTS', message: `${unknown.join(', ')}: not a level of the profile (${all})` });
  const arch = settings.SUMMIT_BUILDER_ARCH;
  if (arch !== undefined && !profile.architectures.includes(arch)) {
    problems.push({ field: 'SUMMIT_BUILDER_ARCH', message: `${arch}: not an architecture of the profile (${profile.architectures.join(', ')})` });
  }
  const isa = settings.SUMMIT_BUILDER_ISA ?? [];
  const notListed = isa.filter((l) => !profile.has(l));
  if (notListed.length) problems.push({ field: 'SUMMIT_BUILDER_ISA', message: `${notListed.join(', ')}: not a level of the profile (${all})` });
  else if (arch !== undefined && profile.architectures.includes(arch)) {
    const other = isa.filter((l) => profile.architectureOf(l) !== arch);
    if (other.length) problems.push({ field: 'SUMMIT_BUILDER_ISA', message: `${other.join(', ')}: not a level of ${arch}, the architecture the builder builds for (${profile.levelsOf(arch).join(', ')})` });
  }
  return problems;
}
