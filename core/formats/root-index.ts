import { z } from 'zod';
import { FormatError } from './errors';
import { compress, decompressExact } from './zstd';
import * as binding from 'zstd-napi/binding';

/**
 * The repository's root index (FORMATS.md §6), `moss-root-index.json` and its zstd copy: how a client resolves
 * a stream or tag to an immutable history version, and that version to its `stone.index`. Every history entry
 * names its on-disk format; streams and tags point at a history id that must exist.
 */
const formatRef = z.object({ format: z.string().min(1) });
const pointer = z.object({ format: z.string().min(1), history: z.string().min(1) });

export const rootIndexSchema = z
  .object({
    formats: z.record(z.string(), z.record(z.string(), z.unknown())),
    streams: z.record(z.string(), pointer),
    tags: z.record(z.string(), pointer),
    history: z.record(z.string(), formatRef),
  })
  .superRefine((root, ctx) => {
    const check = (kind: 'streams' | 'tags', name: string, p: z.infer<typeof pointer>): void => {
      if (!root.history[p.history]) {
        ctx.addIssue({ code: 'custom', path: [kind, name, 'history'], message: `history "${p.history}" does not exist` });
      }
      if (!root.formats[p.format]) {
        ctx.addIssue({ code: 'custom', path: [kind, name, 'format'], message: `format "${p.format}" is not declared` });
      }
    };
    for (const [name, p] of Object.entries(root.streams)) check('streams', name, p);
    for (const [name, p] of Object.entries(root.tags)) check('tags', name, p);
    for (const [id, h] of Object.entries(root.history)) {
      if (!root.formats[h.format]) ctx.addIssue({ code: 'custom', path: ['history', id, 'format'], message: `format "${h.format}" is not declared` });
    }
  });

export type RootIndex = z.infer<typeof rootIndexSchema>;

/** The on-disk format we publish: `history/<id>/<arch>/stone.index` beside the pool. */
export const FORMAT_V0 = 'v0';
export const V0_DESCRIPTION = { index: 'history/{history}/{arch}/stone.index', pool: 'pool' };

export function emptyRootIndex(): RootIndex {
  return { formats: { [FORMAT_V0]: { ...V0_DESCRIPTION } }, streams: {}, tags: {}, history: {} };
}

/** Where a client finds the stone.index of a stream (or tag) for an architecture. */
export function resolveIndexPath(root: RootIndex, streamOrTag: string, arch: string): string | undefined {
  const p = root.streams[streamOrTag] ?? root.tags[streamOrTag];
  return p ? `history/${p.history}/${arch}/stone.index` : undefined;
}

export function parseRootIndex(text: string, where = 'moss-root-index.json'): RootIndex {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw new FormatError('root-index', where, `not JSON: ${(err as Error).message}`);
  }
  const parsed = rootIndexSchema.safeParse(doc);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`);
    throw new FormatError('root-index', where, problems.join('; '));
  }
  return parsed.data;
}

/** Stable JSON (sorted keys) so the same root index always gives the same bytes. */
export function serializeRootIndex(root: RootIndex): string {
  rootIndexSchema.parse(root);
  return `${JSON.stringify(sortKeys(root), null, 2)}\n`;
}

export function compressRootIndex(json: string): Uint8Array {
  return compress(new TextEncoder().encode(json), 19);
}

/** Root index JSON is small; 64 MiB is far above any real one and bounds what a bad .zst can make us allocate. */
const MAX_ROOT_INDEX = 64 * 1024 * 1024;

export function decompressRootIndex(bytes: Uint8Array, where = 'moss-root-index.json.zst'): string {
  let size: number | null;
  try {
    size = binding.getFrameContentSize(bytes);
  } catch (err) {
    throw new FormatError('root-index', where, `not a zstd frame: ${(err as Error).message}`);
  }
  if (size === null || size > MAX_ROOT_INDEX) {
    throw new FormatError('root-index', where, size === null ? 'zstd frame does not declare its size' : `declares ${size} bytes, over the ${MAX_ROOT_INDEX} limit`);
  }
  return new TextDecoder().decode(decompressExact(bytes, size, where));
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([k, v]) => [k, sortKeys(v)]));
  }
  return value;
}
