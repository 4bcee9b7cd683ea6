import { emptyRootIndex, rootIndexSchema, type RootIndex } from '../formats/root-index';
import { recordHistory } from './history';
import { planPrune, prunedRoot, PruneRefusedError, unreferencedPoolFiles } from './prune';
import { pointStream, tagHistory } from './streams';

function withHistories(n: number): RootIndex {
  let root = emptyRootIndex();
  for (let i = 1; i <= n; i++) root = recordHistory(root, String(i));
  return root;
}

describe('prune plan', () => {
  it('keeps the newest N, every history a stream or a tag names, and removes the rest', () => {
    let root = withHistories(10);
    root = pointStream(root, 'unstable', '4');
    root = tagHistory(root, 'release-1', '2');
    const plan = planPrune(root, 3);
    expect(plan.kept).toEqual(['2', '4', '8', '9', '10']);
    expect(plan.removed).toEqual(['1', '3', '5', '6', '7']);
    expect(plan.reasons['10']).toEqual(['newest', 'stream:volatile']);
    expect(plan.reasons['2']).toEqual(['tag:release-1']);
    const next = prunedRoot(root, plan.removed);
    expect(Object.keys(next.history).sort((a, b) => Number(a) - Number(b))).toEqual(plan.kept);
    expect(next.streams).toEqual(root.streams);
    expect(next.tags).toEqual(root.tags);
    expect(rootIndexSchema.safeParse(next).success).toBe(true);
  });

  it('keeps a rolled-back volatile even when it is old', () => {
    const root = pointStream(withHistories(5), 'volatile', '1');
    expect(planPrune(root, 1).kept).toEqual(['1', '5']);
  });

  it.each([0, -1, 1.5, NaN])('refuses keep = %p', (keep) => {
    expect(() => planPrune(withHistories(2), keep)).toThrow(PruneRefusedError);
  });

  it('refuses to drop a history a stream names', () => {
    expect(() => prunedRoot(withHistories(2), ['2'])).toThrow(/stream volatile names history 2/);
  });

  it('deletes only pool files no kept history lists, never temporary ones', () => {
    const onDisk = ['pool/a/app/app-1.stone', 'pool/a/app/app-2.stone', 'pool/a/app/.tmp-1234', 'pool/l/liba/liba-1.stone'];
    expect(unreferencedPoolFiles(onDisk, new Set(['pool/a/app/app-2.stone']))).toEqual(['pool/a/app/app-1.stone', 'pool/l/liba/liba-1.stone']);
  });
});
