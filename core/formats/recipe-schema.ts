import { z } from 'zod';
import { safeNameProblem } from '../contracts/names';
import {
  type ArchiveUpstream,
  type BuildOptions,
  type BuildSteps,
  type GitUpstream,
  type PackageDefinition,
  PATH_KINDS,
  type PathRule,
  type Recipe,
  TOOLCHAINS,
  type TuningEntry,
} from './recipe-types';

/**
 * The zod schema of `stone.yaml`, shaped exactly like the YAML (YAML key names, so an issue's path is a YAML
 * path) and transforming into the `Recipe` type. Facts mirror boulder's `stone_recipe` crate (AerynOS/os-tools):
 * which keys exist, which are required, their defaults, and how lenient each one is. Unknown keys are not handled
 * here: z.object drops them, and `recipe-unknown-keys.ts` reports them from the same key lists.
 */

// boulder's `stringy_bool`: YAML 1.2 reads `yes`, `on`, `y` as text, and real recipes write `emul32: yes`.
const TRUE_WORDS = ['y', 'Y', 'yes', 'Yes', 'YES', 'true', 'True', 'TRUE', 'on', 'On', 'ON'] as const;
const FALSE_WORDS = ['n', 'N', 'no', 'No', 'NO', 'false', 'False', 'FALSE', 'off', 'Off', 'OFF'] as const;
const TRUE_SET: ReadonlySet<string> = new Set(TRUE_WORDS);

const flag = z
  .union([z.boolean(), z.enum([...TRUE_WORDS, ...FALSE_WORDS])], { error: 'expected true or false (yes/no also work)' })
  .transform((v) => (typeof v === 'boolean' ? v : TRUE_SET.has(v)));

const text = z.string();

/**
 * boulder's lists (serde `Vec` with `#[serde(default)]`): a key written with no value — `upstreams :` followed
 * only by commented-out items, which YAML reads as null — is an empty list, as boulder takes it.
 */
const list = <T extends z.ZodType>(item: T) =>
  z
    .array(item)
    .nullish()
    .transform((v) => v ?? undefined);
const textList = list(z.string());

/**
 * Recipe name, version and package names become build ids, workflow ids and pool paths, so they follow the one
 * naming rule of core/contracts/names.ts; a recipe that breaks it is refused here, where the packager sees
 * the line, not later in intake or publishing.
 */
const safeName = (field: string) =>
  z.string().superRefine((value, ctx) => {
    const problem = safeNameProblem(field, value);
    if (problem) ctx.addIssue({ code: 'custom', message: problem, input: value });
  });
// boulder's Option<String>: an empty value (`summary:`) is the same as leaving the key out.
const optionalText = z
  .string()
  .nullish()
  .transform((v) => v ?? undefined);

const buildShape = {
  setup: optionalText,
  build: optionalText,
  install: optionalText,
  check: optionalText,
  workload: optionalText,
  environment: optionalText,
  builddeps: textList,
  checkdeps: textList,
};

const pathEntry = z
  .union([text, z.record(z.string(), z.enum(PATH_KINDS))], {
    error: `expected a path, or a mapping of one path to its kind (${PATH_KINDS.join(', ')})`,
  })
  .transform((entry, ctx): PathRule => {
    if (typeof entry === 'string') return { path: entry, kind: 'any' };
    const first = firstEntry(entry);
    if (!first) {
      ctx.addIssue({ code: 'custom', message: 'empty path entry: expected { <path>: <kind> }', input: entry });
      return z.NEVER;
    }
    return { path: first[0], kind: first[1] };
  });

const packageShape = {
  summary: optionalText,
  description: optionalText,
  rundeps: textList,
  'rundeps-exclude': textList,
  'provides-exclude': textList,
  paths: list(pathEntry),
  conflicts: textList,
};

const optionsShape = {
  toolchain: z.enum(TOOLCHAINS).optional(),
  cspgo: flag.optional(),
  samplepgo: flag.optional(),
  debug: flag.optional(),
  strip: flag.optional(),
  networking: flag.optional(),
  compressman: flag.optional(),
  lastrip: flag.optional(),
  mold: flag.optional(),
  emul32: flag.optional(),
  architectures: textList,
};

const archiveUpstreamShape = {
  hash: text.optional(),
  rename: optionalText,
  stripdirs: z.int().min(0).max(255).nullish(),
  unpack: flag.optional(),
  unpackdir: optionalText,
};

const gitUpstreamShape = {
  ref: text.optional(),
  clonedir: optionalText,
  staging: flag.optional(),
};

/** Prefix that marks an upstream URL as a git repository rather than an archive. */
export const GIT_PREFIX = 'git|';

const upstreamEntry = z
  .record(
    z.string(),
    z.union([text, z.object({ ...archiveUpstreamShape, ...gitUpstreamShape })], {
      error: 'expected the sha256 (git: the ref), or a mapping such as { hash: …, unpack: false }',
    }),
  )
  .transform((entry, ctx): ArchiveUpstream | GitUpstream => {
    const first = firstEntry(entry);
    if (!first) {
      ctx.addIssue({ code: 'custom', message: 'empty upstream: expected { <url>: <sha256> }', input: entry });
      return z.NEVER;
    }
    const [key, props] = first;
    const isGit = key.startsWith(GIT_PREFIX);
    const url = isGit ? key.slice(GIT_PREFIX.length) : key;
    const problem = (message: string): never => {
      ctx.addIssue({ code: 'custom', message, path: [key], input: props });
      return z.NEVER;
    };
    // boulder parses the URL (url crate, WHATWG rules) and refuses the recipe when it does not parse.
    if (!URL.canParse(url)) return problem(`not a valid URL: ${JSON.stringify(url)}`);
    if (typeof props === 'string') {
      return isGit
        ? { kind: 'git', url, ref: props, staging: true }
        : { kind: 'archive', url, hash: props, unpack: true };
    }
    if (isGit) {
      if (props.ref === undefined) {
        return problem(
          props.hash === undefined
            ? 'a git upstream needs ref: the commit to check out'
            : 'found archive fields (hash) on a git| URL: a git upstream takes ref, clonedir, staging',
        );
      }
      return { kind: 'git', url, ref: props.ref, cloneDir: props.clonedir, staging: props.staging ?? true };
    }
    if (props.hash === undefined) {
      return problem(
        props.ref === undefined
          ? 'an archive upstream needs hash: the sha256 of the download'
          : 'found git fields (ref) on a plain URL: prefix the URL with git| for a git upstream',
      );
    }
    return {
      kind: 'archive',
      url,
      hash: props.hash,
      rename: props.rename,
      stripDirs: props.stripdirs ?? undefined,
      unpack: props.unpack ?? true,
      unpackDir: props.unpackdir,
    };
  });

const tuningValue = z.union([z.boolean(), text], { error: 'expected true, false or an option such as full' });

const tuningEntry = z
  .union([text, z.record(z.string(), tuningValue)], {
    error: 'expected a tuning key, or a mapping of one key to true, false or an option',
  })
  .transform((entry, ctx): TuningEntry => {
    if (typeof entry === 'string') return { key: entry, value: true };
    const first = firstEntry(entry);
    if (!first) {
      ctx.addIssue({ code: 'custom', message: 'empty tuning entry: expected { <key>: <value> }', input: entry });
      return z.NEVER;
    }
    return { key: first[0], value: first[1] };
  });

const buildObject = z.object(buildShape).transform(toBuildSteps);
const packageObject = z.object(packageShape).transform(toPackageDefinition);

const sourceShape = {
  name: safeName('the name'),
  // parseRecipe puts the literal text here when YAML read a number, so by now it must be text.
  version: safeName('the version'),
  // boulder: u64, and `release must be > 0`.
  release: z.int().min(1, 'release must be 1 or more'),
  homepage: text,
  // boulder's `single_as_sequence`.
  license: z.union([text, z.array(z.string())], { error: 'expected an SPDX licence id or a list of them' }),
};

const recipeShape = {
  ...sourceShape,
  ...buildShape,
  ...packageShape,
  ...optionsShape,
  profiles: list(z.record(z.string(), buildObject)),
  packages: list(z.record(z.string(), packageObject)),
  upstreams: list(upstreamEntry),
  tuning: list(tuningEntry),
};

/** Validates the plain value of a whole `stone.yaml` and turns it into a Recipe. */
export const recipeSchema = z.object(recipeShape).transform((raw): Recipe => {
  const options: BuildOptions = {
    toolchain: raw.toolchain ?? 'llvm',
    cspgo: raw.cspgo ?? false,
    samplepgo: raw.samplepgo ?? false,
    debug: raw.debug ?? true,
    strip: raw.strip ?? true,
    networking: raw.networking ?? false,
    compressman: raw.compressman ?? false,
    lastrip: raw.lastrip ?? true,
    mold: raw.mold ?? false,
    emul32: raw.emul32 ?? false,
    architectures: raw.architectures ?? [],
  };
  return {
    source: {
      name: raw.name,
      version: raw.version,
      release: raw.release,
      homepage: raw.homepage,
      license: typeof raw.license === 'string' ? [raw.license] : raw.license,
    },
    build: toBuildSteps(raw),
    package: toPackageDefinition(raw),
    options,
    profiles: singleEntries(raw.profiles).map(([target, build]) => ({ target, build })),
    subPackages: singleEntries(raw.packages).map(([name, pkg]) => ({ name, package: pkg })),
    upstreams: raw.upstreams ?? [],
    tuning: raw.tuning ?? [],
  };
});

/** The keys each kind of YAML mapping may hold; anything else is reported as an unknown key. */
export const RECIPE_KEYS = {
  top: Object.keys(recipeShape),
  build: Object.keys(buildShape),
  package: Object.keys(packageShape),
  archiveUpstream: Object.keys(archiveUpstreamShape),
  gitUpstream: Object.keys(gitUpstreamShape),
} as const;

type BuildInput = z.output<z.ZodObject<typeof buildShape>>;
type PackageInput = z.output<z.ZodObject<typeof packageShape>>;

function toBuildSteps(raw: BuildInput): BuildSteps {
  return {
    setup: raw.setup,
    build: raw.build,
    install: raw.install,
    check: raw.check,
    workload: raw.workload,
    environment: raw.environment,
    buildDeps: raw.builddeps ?? [],
    checkDeps: raw.checkdeps ?? [],
  };
}

function toPackageDefinition(raw: PackageInput): PackageDefinition {
  return {
    summary: raw.summary,
    description: raw.description,
    runDeps: raw.rundeps ?? [],
    runDepsExclude: raw['rundeps-exclude'] ?? [],
    providesExclude: raw['provides-exclude'] ?? [],
    paths: raw.paths ?? [],
    conflicts: raw.conflicts ?? [],
  };
}

/**
 * boulder reads each "single-key map" (a package, profile, upstream, path, tuning entry) into a BTreeMap and keeps
 * only its smallest key; extra keys are reported as warnings by the unknown-key walk. (BTreeMap orders by UTF-8
 * bytes and JS by UTF-16 units; they differ only between astral and high-BMP characters.)
 */
function firstEntry<T>(map: Record<string, T>): [string, T] | undefined {
  const keys = Object.keys(map).sort();
  return keys.length > 0 ? [keys[0], map[keys[0]]] : undefined;
}

// A `- {}` entry in `packages`/`profiles` yields nothing in boulder rather than an error.
function singleEntries<T>(list: Record<string, T>[] | undefined): [string, T][] {
  return (list ?? []).flatMap((map) => {
    const first = firstEntry(map);
    return first ? [first] : [];
  });
}
