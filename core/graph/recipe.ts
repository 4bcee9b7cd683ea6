/**
 * The graph's own input: what one recipe (or one open task) emits and needs. Deliberately independent of file
 * formats so the CLI (manifests on disk), the pipeline (tasks in the database) and tests (hand-made graphs) all
 * feed the same code. Dependency and provider strings are in moss text form: `kind(name)` or a bare name.
 */
export interface RecipePackage {
  name: string;
  provides: readonly string[];
  /** Run-time dependencies of this package (manifest Depends). */
  depends: readonly string[];
  /** Build-time dependencies (manifest BuildDepends: boulder merges builddeps and checkdeps here). */
  buildDepends: readonly string[];
}

export interface RecipeNode {
  /** Source name (`source-name` in the manifest): what history, size lists and humans know the recipe by. */
  source: string;
  /** Unique node id; defaults to `source`. Variant fan-out and open tasks use their own ids (`source@variant`). */
  id?: string;
  /**
   * Which provider pool this node publishes into and resolves from (an architecture or ISA variant). Nodes only
   * see providers in the scopes `visibleScopes` allows; default: every node shares the one unnamed scope.
   */
  scope?: string;
  version?: string;
  release?: number;
  packages: readonly RecipePackage[];
  /**
   * Dependencies needed only by the `check` step. Manifests cannot tell them apart from build dependencies, so
   * this is optional (from stone.yaml `checkdeps` when a caller has it); a string listed here is classified as
   * check-only even when it also appears in `buildDepends`, because cutting it only skips the test suite.
   */
  checkDepends?: readonly string[];
}

export function nodeId(node: RecipeNode): string {
  return node.id ?? node.source;
}

/** The subset of the lead's BuildManifest this module needs; kept structural so it needs no value import. */
export interface ManifestLike {
  sourceName: string;
  sourceVersion: string;
  sourceRelease: number;
  packages: ReadonlyArray<{ name: string; provides: readonly string[]; depends: readonly string[]; buildDepends: readonly string[] }>;
}

/** A recipe as its committed `manifest.<arch>.bin` describes it. */
export function recipeFromManifest(manifest: ManifestLike): RecipeNode {
  return {
    source: manifest.sourceName,
    version: manifest.sourceVersion,
    release: manifest.sourceRelease,
    packages: manifest.packages.map((p) => ({
      name: p.name,
      provides: p.provides,
      depends: p.depends,
      buildDepends: p.buildDepends,
    })),
  };
}
