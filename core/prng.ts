/**
 * mulberry32: a tiny seeded PRNG, so fuzz runs and generated benchmark graphs are the same on every run from
 * their seed. Fast and well spread; not for anything secret.
 */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function randInt(rand: () => number, n: number): number {
  return Math.floor(rand() * n);
}
