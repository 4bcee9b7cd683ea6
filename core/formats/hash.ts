import { createXXHash128, createXXHash3, IHasher } from 'hash-wasm';

/**
 * XXH3 hashing (seed 0) as stone uses it: XXH3-64 over stored payload bytes, XXH3-128 over each file's content.
 * hash-wasm compiles its WebAssembly once; a hasher instance is cheap after that, and holds state, so each
 * digest gets its own.
 */
export type Hasher = IHasher;

export function xxh3_64(): Promise<Hasher> {
  return createXXHash3();
}

export function xxh3_128(): Promise<Hasher> {
  return createXXHash128();
}

/** Canonical (big-endian) digest bytes. */
export async function xxh3_64Of(data: Uint8Array): Promise<Uint8Array> {
  const h = await xxh3_64();
  h.init();
  h.update(data);
  return h.digest('binary');
}

export async function xxh3_128Of(data: Uint8Array): Promise<Uint8Array> {
  const h = await xxh3_128();
  h.init();
  h.update(data);
  return h.digest('binary');
}

let shared64: Promise<Hasher> | undefined;

/**
 * XXH3-64 of one buffer with a shared hasher: init, update and digest run without yielding, so no other caller
 * can interleave. Saves a WebAssembly instance per payload when writing thousands of them.
 */
export async function xxh3_64Once(data: Uint8Array): Promise<Uint8Array> {
  const h = await (shared64 ??= xxh3_64());
  h.init();
  h.update(data);
  return h.digest('binary');
}

/**
 * Hashers kept for reuse. hash-wasm makes a WebAssembly instance with memory of its own for every hasher (~0.1 ms
 * of CPU each, and memory the collector chases): a build made about fifteen, one per file it packed or extracted.
 * A caller takes one, may use it across awaits, and gives it back once it has its digest; `init()` on taking it
 * resets whatever a caller that never gave it back left in it. A hasher not given back is simply collected.
 */
export class HasherPool {
  private readonly free: Hasher[] = [];

  constructor(private readonly make: () => Promise<Hasher>, private readonly keep = 8) {}

  async take(): Promise<Hasher> {
    const h = this.free.pop() ?? (await this.make());
    h.init();
    return h;
  }

  give(h: Hasher): void {
    if (this.free.length < this.keep && !this.free.includes(h)) this.free.push(h);
  }
}

export const xxh3_64Pool = new HasherPool(xxh3_64);
export const xxh3_128Pool = new HasherPool(xxh3_128);

/** A sha256 digest as the formats and the API write it: 64 lower-case hex digits. */
export function isSha256Hex(value: string): boolean {
  return /^[0-9a-f]{64}$/.test(value);
}
