import { readdir, readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { readManifestFile } from '../core/formats/manifest';
import { parseRecipe } from '../core/formats/recipe';
import { FormatError } from '../core/formats/errors';
import { uniformFarm } from '../core/graph/builder';
import { dagFromGraph } from '../core/graph/critical-path';
import { estimateDurations, modelDuration, parseDurations } from '../core/graph/durations';
import { DependencyGraph, buildGraph } from '../core/graph/graph';
import { BuildOrder, planOrder } from '../core/graph/order';
import { RecipeNode, recipeFromManifest } from '../core/graph/recipe';
import { POLICY_NAMES, PolicyName } from '../core/graph/simulator/policies';
import { simulate as runSimulation } from '../core/graph/simulator/simulator';
import { SAFE_NAME_CHARACTERS, SAFE_NAME_PATTERN } from '../core/contracts/names';
import { DEFAULT_PROFILE } from '../core/profile';
import { parseCommandArgs, printJson } from './args';
import { Command, UsageError } from './io';

/** The architecture whose manifests are read unless `--arch` names another: the default profile's first. */
const ARCH = DEFAULT_PROFILE.architectures[0];

/** `--arch`: a name that becomes part of a file name (`manifest.<arch>.bin`), so only safe characters. */
export function archOption(value: string | undefined): string {
  if (value === undefined) return ARCH;
  if (value.length === 0 || value.length > 64 || !SAFE_NAME_PATTERN.test(value)) throw new UsageError(`--arch must be an architecture name of ${SAFE_NAME_CHARACTERS} (at most 64), got "${value}"`);
  return value;
}
/** Manifests read at once: enough to keep the disk busy, well under the default limit of open files. */
const READ_CONCURRENCY = 32;

/** Every `manifest.<arch>.bin` under `dir`, sorted by path. Symbolic links are not followed. */
export async function findManifests(dir: string, arch = ARCH): Promise<string[]> {
  const name = `manifest.${arch}.bin`;
  const out: string[] = [];
  const walk = async (d: string): Promise<void> => {
    for (const entry of await readdir(d, { withFileTypes: true })) {
      if (entry.isDirectory()) await walk(join(d, entry.name));
      else if (entry.isFile() && entry.name === name) out.push(join(d, entry.name));
    }
  };
  await walk(dir);
  return out.sort();
}

/**
 * The recipes under `dir` as graph input, read from their committed build manifests, and the time it took.
 * Manifests merge `checkdeps` into the build dependencies, so each recipe's `stone.yaml` beside its manifest is
 * read for them (parsed only when it has a `checkdeps` key): they join the graph as check edges.
 */
export async function loadRecipes(dir: string, arch = ARCH): Promise<{ recipes: RecipeNode[]; files: string[]; parseMs: number }> {
  const started = performance.now();
  const files = await findManifests(dir, arch);
  const recipes: RecipeNode[] = new Array(files.length);
  for (let i = 0; i < files.length; i += READ_CONCURRENCY) {
    const chunk = files.slice(i, i + READ_CONCURRENCY);
    const [manifests, checks] = await Promise.all([Promise.all(chunk.map((f) => readManifestFile(f))), Promise.all(chunk.map(readCheckDepends))]);
    manifests.forEach((m, j) => {
      recipes[i + j] = recipeFromManifest(m);
      if (checks[j].length > 0) recipes[i + j].checkDepends = checks[j];
    });
  }
  const seen = new Map<string, string>();
  recipes.forEach((r, i) => {
    const other = seen.get(r.source);
    if (other) throw new FormatError('manifest', files[i], `same recipe "${r.source}" as ${other}`);
    seen.set(r.source, files[i]);
  });
  return { recipes, files, parseMs: performance.now() - started };
}

const CHECKDEPS_KEY = /^checkdeps\s*:/m;

/** The root `checkdeps` of the `stone.yaml` beside a manifest; none when there is no such file. */
async function readCheckDepends(manifestFile: string): Promise<string[]> {
  const file = join(dirname(manifestFile), 'stone.yaml');
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  return CHECKDEPS_KEY.test(text) ? parseRecipe(text, file).recipe.build.checkDeps : [];
}

/** The graph and its build order, timed from already parsed manifests. */
export function graphAndOrder(recipes: readonly RecipeNode[]): { graph: DependencyGraph; order: BuildOrder; elapsedMs: number } {
  const started = performance.now();
  const graph = buildGraph(recipes);
  const order = planOrder(graph);
  return { graph, order, elapsedMs: performance.now() - started };
}

const ms = (x: number): number => Math.round(x * 100) / 100;

/** `summit graph <recipes-dir> [--arch A] [--json]`: dependency graph, build order and bootstrap plans of a recipe tree. */
export const graph: Command = async (args, io) => {
  const { values, positionals } = parseCommandArgs(args, { arch: { type: 'string' }, json: { type: 'boolean' } }, { min: 1, max: 1, names: '<recipes-dir>' });
  const arch = archOption(values.arch);
  const { recipes, parseMs } = await loadRecipes(positionals[0], arch);
  if (recipes.length === 0) throw new UsageError(`no manifest.${arch}.bin under ${positionals[0]}`);
  const { graph: g, order, elapsedMs } = graphAndOrder(recipes);
  const byKind = { build: 0, check: 0, run: 0 };
  for (const e of g.edges) byKind[e.kind]++;
  const report = {
    recipes: g.nodes.length,
    edges: g.edges.length,
    edgesByKind: byKind,
    unresolved: g.unresolved.map((u) => ({ dependency: u.dependency, status: u.status, kind: u.kind, wantedBy: u.wantedBy })),
    order: order.batches,
    cycles: order.cycles.map((c) => ({
      members: c.members,
      cut: c.cut.map((e) => ({ from: e.from, to: e.to, kind: e.kind, via: e.via })),
      stages: c.stages,
      rebuild: c.rebuild,
    })),
    elapsedMs: ms(elapsedMs),
    parseMs: ms(parseMs),
  };
  if (values.json) {
    printJson(io.out, report);
    return 0;
  }
  const lines = [
    `${report.recipes} recipes, ${report.edges} edges (${byKind.build} build, ${byKind.check} check, ${byKind.run} run), ` +
      `${report.order.length} batches`,
  ];
  const missing = report.unresolved.filter((u) => u.status === 'missing').length;
  lines.push(`unresolved: ${report.unresolved.length} (${report.unresolved.length - missing} external, ${missing} missing)`);
  for (const u of report.unresolved) lines.push(`  ${u.dependency}  ${u.status}, ${u.kind}, wanted by ${u.wantedBy.join(', ')}`);
  lines.push(`cycles: ${report.cycles.length}`);
  for (const c of report.cycles) {
    const shown = c.members.length > 12 ? `${c.members.slice(0, 12).join(', ')}, … (+${c.members.length - 12})` : c.members.join(', ');
    const kinds = ['build', 'check', 'run'].map((k) => `${c.cut.filter((e) => e.kind === k).length} ${k}`).join(', ');
    lines.push(`  ${c.members.length} recipes: ${shown}`);
    lines.push(`    cut ${c.cut.length} edges (${kinds}); ${c.stages.length} stages; rebuild after: ${c.rebuild.join(', ') || 'none'}`);
  }
  lines.push(`time: parse ${report.parseMs} ms, graph + order ${report.elapsedMs} ms`);
  io.out(lines.join('\n'));
  return 0;
};

/**
 * `summit simulate <recipes-dir> --builders N [--policy …] [--durations file.json] [--arch A] [--json]`: how long a farm of N
 * single-slot x86_64 builders takes to build the whole tree under a dispatch policy. Durations: the file's history
 * (median of each recipe's last five; recipes it lacks get the median of the others), else the manifest model
 * (core/graph/durations.ts `modelDuration`), the same for every policy.
 */
export const simulate: Command = async (args, io) => {
  const { values, positionals } = parseCommandArgs(
    args,
    { builders: { type: 'string' }, policy: { type: 'string' }, durations: { type: 'string' }, arch: { type: 'string' }, json: { type: 'boolean' } },
    { min: 1, max: 1, names: '<recipes-dir>' },
  );
  if (values.builders === undefined) throw new UsageError('--builders N is required');
  const builders = Number(values.builders);
  if (!Number.isInteger(builders) || builders < 1) throw new UsageError(`--builders must be a whole number ≥ 1, got "${values.builders}"`);
  const policy = (values.policy ?? 'critical-path') as PolicyName;
  if (!POLICY_NAMES.includes(policy)) throw new UsageError(`--policy must be one of ${POLICY_NAMES.join(', ')}, got "${values.policy}"`);
  const history = values.durations === undefined ? undefined : await readDurations(values.durations);

  const arch = archOption(values.arch);
  const { recipes } = await loadRecipes(positionals[0], arch);
  if (recipes.length === 0) throw new UsageError(`no manifest.${arch}.bin under ${positionals[0]}`);
  const { graph: g, order } = graphAndOrder(recipes);
  const estimates = history ? estimateDurations(g.recipes.map((r) => r.source), history) : undefined;
  const result = runSimulation({
    dag: dagFromGraph(g, order.isCut),
    tasks: g.recipes.map((r) => ({ variant: arch, duration: estimates ? estimates.get(r.source)! : modelDuration(r) })),
    builders: uniformFarm(builders, [arch]),
    policy,
  });
  const report = {
    policy,
    builders,
    makespan: result.makespan,
    lowerBound: round(result.lowerBound, 2),
    ratio: round(result.ratio, 4),
    utilisation: round(result.utilisation, 4),
    criticalPath: result.criticalPath,
    totalWork: result.totalWork,
    durations: history ? 'history' : 'manifest-model',
  };
  if (values.json) {
    printJson(io.out, report);
    return 0;
  }
  io.out(
    [
      `${policy} on ${builders} builder(s), ${g.nodes.length} recipes (${report.durations} durations)`,
      `makespan ${hours(report.makespan)}, lower bound ${hours(report.lowerBound)} (ratio ${report.ratio})`,
      `utilisation ${(report.utilisation * 100).toFixed(1)}%; critical path ${hours(report.criticalPath)}, total work ${hours(report.totalWork)}`,
    ].join('\n'),
  );
  return 0;
};

async function readDurations(path: string): Promise<ReturnType<typeof parseDurations>> {
  const text = await readFile(path, 'utf8');
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new FormatError('durations', path, `not valid JSON (${(err as Error).message})`);
  }
  return parseDurations(json, path);
}

function round(x: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

function hours(seconds: number): string {
  return `${(seconds / 3600).toFixed(2)} h (${Math.round(seconds)} s)`;
}
