/** A binary min-heap under a comparator; ties are the comparator's business (make it total for determinism). */
export class MinHeap<T> {
  private readonly items: T[] = [];

  constructor(private readonly less: (a: T, b: T) => boolean) {}

  get size(): number {
    return this.items.length;
  }

  clear(): void {
    this.items.length = 0;
  }

  peek(): T | undefined {
    return this.items[0];
  }

  push(item: T): void {
    const items = this.items;
    items.push(item);
    let i = items.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.less(items[i], items[parent])) break;
      [items[i], items[parent]] = [items[parent], items[i]];
      i = parent;
    }
  }

  pop(): T | undefined {
    const items = this.items;
    if (items.length === 0) return undefined;
    const top = items[0];
    const last = items.pop()!;
    if (items.length > 0) {
      items[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < items.length && this.less(items[l], items[m])) m = l;
        if (r < items.length && this.less(items[r], items[m])) m = r;
        if (m === i) break;
        [items[i], items[m]] = [items[m], items[i]];
        i = m;
      }
    }
    return top;
  }
}

/**
 * A binary max-heap of node numbers keyed by `key[node]`, held in a typed array: the hot searches of the bootstrap
 * pruning pop millions of nodes, and MinHeap's comparator call per step showed in profiles. Keys must be distinct
 * (positions are) and must not change while a node is in the heap; each node at most once at a time.
 */
export class NodeMaxHeap {
  private readonly items: Int32Array;
  size = 0;

  constructor(private readonly key: Int32Array) {
    this.items = new Int32Array(key.length);
  }

  clear(): void {
    this.size = 0;
  }

  push(x: number): void {
    const { items, key } = this;
    const k = key[x];
    let i = this.size++;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (key[items[parent]] >= k) break;
      items[i] = items[parent];
      i = parent;
    }
    items[i] = x;
  }

  /** The node with the largest key; the heap must not be empty. */
  pop(): number {
    const { items, key } = this;
    const top = items[0];
    const last = items[--this.size];
    const n = this.size;
    if (n > 0) {
      const k = key[last];
      let i = 0;
      for (;;) {
        let child = 2 * i + 1;
        if (child >= n) break;
        if (child + 1 < n && key[items[child + 1]] > key[items[child]]) child++;
        if (key[items[child]] <= k) break;
        items[i] = items[child];
        i = child;
      }
      items[i] = last;
    }
    return top;
  }
}
