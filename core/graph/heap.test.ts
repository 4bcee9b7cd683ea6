import { MinHeap, NodeMaxHeap } from './heap';

describe('NodeMaxHeap', () => {
  it('pops nodes by decreasing key, as MinHeap does with the reversed comparator, across clears', () => {
    const key = Int32Array.from([5, 9, 0, 7, 3, 8, 1, 6, 2, 4]);
    const heap = new NodeMaxHeap(key);
    const reference = new MinHeap<number>((a, b) => key[a] > key[b]);
    heap.push(2);
    heap.clear();
    for (const x of [3, 0, 9, 1, 6, 4, 8, 2, 7, 5]) {
      heap.push(x);
      reference.push(x);
    }
    const popped: number[] = [];
    while (heap.size > 0) popped.push(heap.pop());
    const expected: number[] = [];
    while (reference.size > 0) expected.push(reference.pop()!);
    expect(popped).toEqual(expected);
    expect(popped.map((x) => key[x])).toEqual([9, 8, 7, 6, 5, 4, 3, 2, 1, 0]);
  });
});
