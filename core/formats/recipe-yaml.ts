import {
  type Document,
  isAlias,
  isMap,
  isScalar,
  isSeq,
  LineCounter,
  type Node as YamlNode,
  type Pair,
  parseDocument,
} from 'yaml';
import { formatYamlPath, type RecipeDiagnostic, type YamlPath } from './recipe-diagnostics';
import { MAX_NESTING, nestingTooDeep } from './recipe-limits';

/**
 * Reading a YAML file so that every later finding can point back into it: the parsed document keeps node
 * ranges, the line counter turns them into line:column, and values are rebuilt from the nodes (not with
 * `toJS`) so mapping keys keep their literal text and aliases are expanded under a budget.
 */
export interface YamlSource {
  readonly file: string;
  readonly doc: Document.Parsed;
  readonly lines: LineCounter;
  /** Lookup cache for `locate`/`scalarText`; see pairsByKey. */
  readonly pairIndex: WeakMap<object, Map<string, Pair<unknown, unknown>>>;
}

export interface Position {
  line: number;
  column: number;
}

// Real recipes have a few hundred nodes. The budget only exists so that a hostile file built from nested
// aliases ("billion laughs") fails fast instead of eating memory; the depth limit keeps recursion off the stack
// limit.
const MAX_NODES = 100_000;
const MAX_DEPTH = MAX_NESTING;

/** Parse YAML text; syntax errors come back as diagnostics with positions, not as exceptions. */
export function parseYaml(
  text: string,
  file: string,
): { source: YamlSource; errors: RecipeDiagnostic[]; warnings: RecipeDiagnostic[] } {
  const lines = new LineCounter();
  // Measured on the flat token stream first: the composer below recurses, and a deep file would cost it seconds
  // and a gigabyte before it failed (see recipe-limits.ts).
  const deepAt = nestingTooDeep(text, MAX_DEPTH);
  if (deepAt !== undefined) {
    const source: YamlSource = { file, doc: parseDocument('', { lineCounter: lines }), lines, pairIndex: new WeakMap() };
    const message = `values are nested more than ${MAX_DEPTH} levels deep`;
    return { source, errors: [{ file, path: '', line: deepAt, column: 1, message }], warnings: [] };
  }
  // prettyErrors is off because we format positions ourselves from the line counter. uniqueKeys is off because the
  // yaml package checks it by comparing every pair with every other (minutes for a hostile file with 50,000 keys);
  // toPlainValue checks duplicates itself, since serde (boulder) refuses a mapping that repeats a key.
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: false, strict: true });
  const source: YamlSource = { file, doc, lines, pairIndex: new WeakMap() };
  const toDiagnostic = (e: { message: string; pos: [number, number] }): RecipeDiagnostic => ({
    file,
    path: '',
    ...positionOf(source, e.pos[0]),
    message: e.message,
  });
  return { source, errors: doc.errors.map(toDiagnostic), warnings: doc.warnings.map(toDiagnostic) };
}

/**
 * The document as plain JS values: mappings become objects keyed by the key's literal text, sequences arrays,
 * scalars their YAML value. Problems (a mapping key that is not text, an alias that cannot be resolved, too
 * much expansion) are returned as diagnostics.
 */
export function toPlainValue(source: YamlSource): { value: unknown; errors: RecipeDiagnostic[] } {
  const errors: RecipeDiagnostic[] = [];
  const resolved = new Map<YamlNode, YamlNode | undefined>();
  let nodes = 0;

  const fail = (path: YamlPath, node: YamlNode | null | undefined, message: string): undefined => {
    errors.push({ file: source.file, path: formatYamlPath(path), ...positionOfNode(source, node), message });
    return undefined;
  };

  const convert = (node: YamlNode | null | undefined, path: YamlPath): unknown => {
    if (errors.length > 0) return undefined;
    if (++nodes > MAX_NODES) return fail(path, node, `the document expands to more than ${MAX_NODES} nodes`);
    if (path.length > MAX_DEPTH) return fail(path, node, `values are nested more than ${MAX_DEPTH} levels deep`);
    if (node === null || node === undefined) return null;
    if (isAlias(node)) {
      if (!resolved.has(node)) resolved.set(node, node.resolve(source.doc));
      const target = resolved.get(node);
      if (target === undefined) return fail(path, node, `alias *${node.source} has no anchor before it`);
      return convert(target, path);
    }
    if (isScalar(node)) return node.value;
    if (isSeq(node)) return node.items.map((item, i) => convert(item as YamlNode | null, [...path, i]));
    if (isMap(node)) {
      // A null prototype so that a key such as "__proto__" is just a key.
      const out: Record<string, unknown> = Object.create(null) as Record<string, unknown>;
      for (const pair of node.items) {
        const key = keyText(pair.key);
        if (key === undefined) {
          return fail(path, pair.key as YamlNode | null, 'a mapping key must be plain text');
        }
        if (Object.hasOwn(out, key)) {
          const message = `duplicate key ${JSON.stringify(key)}: a key may appear only once in a mapping`;
          return fail([...path, key], pair.key as YamlNode | null, message);
        }
        out[key] = convert(pair.value as YamlNode | null, [...path, key]);
      }
      return out;
    }
    return fail(path, node, 'unsupported YAML node');
  };

  const value = convert(source.doc.contents, []);
  return { value: errors.length > 0 ? undefined : value, errors };
}

/**
 * The literal text of the scalar at `path`, as written (without quotes). YAML reads `version: 0.010` as the
 * number 0.01; this returns "0.010".
 */
export function scalarText(source: YamlSource, path: YamlPath): string | undefined {
  const found = find(source, path);
  let node = found.node;
  if (isAlias(node)) node = (node.resolve(source.doc) as YamlNode | undefined) ?? null;
  if (found.rest.length > 0 || !isScalar(node)) return undefined;
  return typeof node.source === 'string' ? node.source : undefined;
}

/**
 * Where `path` is in the file. With `key`, the position of the mapping key itself (for "unknown key" findings);
 * otherwise the value, falling back to its key when the value is empty. A path that does not exist points at
 * its deepest existing ancestor, except the document root: "missing top-level key" has no useful line.
 */
export function locate(source: YamlSource, path: YamlPath, opts: { key?: boolean } = {}): Position | undefined {
  const found = find(source, path);
  if (found.rest.length > 0) {
    if (!found.keyNode && found.node === source.doc.contents) return undefined;
    return positionOfNode(source, found.node) ?? positionOfNode(source, found.keyNode);
  }
  const valueNode = found.node;
  const emptyValue = !valueNode || (isScalar(valueNode) && valueNode.value === null && valueNode.source === '');
  if ((opts.key || emptyValue) && found.keyNode) return positionOfNode(source, found.keyNode);
  return positionOfNode(source, valueNode) ?? positionOfNode(source, found.keyNode);
}

export function positionOf(source: YamlSource, offset: number): Position {
  const { line, col } = source.lines.linePos(offset);
  // linePos reports line 0 for an offset before the first recorded line start; the file's first line is 1.
  return { line: Math.max(line, 1), column: Math.max(col, 1) };
}

function positionOfNode(source: YamlSource, node: YamlNode | null | undefined): Position | undefined {
  const range = node?.range;
  return range ? positionOf(source, range[0]) : undefined;
}

/** The text a mapping key stands for; undefined for keys that are not scalars or are empty. */
function keyText(key: unknown): string | undefined {
  if (!isScalar(key) || key.value === null || typeof key.value === 'object') return undefined;
  // `source` is the key as written (1.10 stays "1.10"); a key built without a source falls back to its value.
  // eslint-disable-next-line @typescript-eslint/no-base-to-string -- objects and null are excluded above
  return typeof key.source === 'string' ? key.source : String(key.value);
}

// Each mapping's pairs by key text, built on first lookup: a file with thousands of unknown keys gets one
// warning per key, and a linear search per warning would make that quadratic.
function pairsByKey(source: YamlSource, map: { items: unknown[] }): Map<string, Pair<unknown, unknown>> {
  let index = source.pairIndex.get(map);
  if (!index) {
    index = new Map();
    for (const pair of map.items as Pair<unknown, unknown>[]) {
      const key = keyText(pair.key);
      if (key !== undefined && !index.has(key)) index.set(key, pair);
    }
    source.pairIndex.set(map, index);
  }
  return index;
}

interface Found {
  node: YamlNode | null;
  keyNode?: YamlNode;
  /** Path segments that could not be followed: the node is the deepest ancestor that exists. */
  rest: YamlPath;
}

function find(source: YamlSource, path: YamlPath): Found {
  let node = source.doc.contents as YamlNode | null;
  let keyNode: YamlNode | undefined;
  for (let i = 0; i < path.length; i++) {
    // Bounded: an alias chain longer than the path cannot add information and could loop.
    for (let hops = 0; hops < 8 && node && isAlias(node); hops++) node = (node.resolve(source.doc) as YamlNode) ?? null;
    const segment = path[i];
    let next: { node: YamlNode | null; keyNode?: YamlNode } | undefined;
    if (isSeq(node) && typeof segment === 'number') {
      const item = node.items[segment] as YamlNode | null | undefined;
      if (item !== undefined) next = { node: item };
    } else if (isMap(node)) {
      const pair = pairsByKey(source, node).get(String(segment));
      if (pair) next = { node: pair.value as YamlNode | null, keyNode: pair.key as YamlNode };
    }
    if (!next) return { node, keyNode, rest: path.slice(i) };
    node = next.node;
    keyNode = next.keyNode;
  }
  return { node, keyNode, rest: [] };
}
