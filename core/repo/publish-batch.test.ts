import type { IndexEntry } from '../formats/repo-index';
import type { PackageMeta } from '../formats/stone/meta';
import { planBatch } from './publish-batch';
import type { Candidate } from './release-rules';

const sha = (n: number) => n.toString(16).padStart(64, '0');

function candidate(name: string, release: number, hash: number, over: Partial<PackageMeta> = {}): Candidate {
  const meta: PackageMeta = {
    name, version: '1.0', release, buildRelease: 1, architecture: 'x86_64', summary: 's', description: 'd', homepage: 'h',
    sourceId: name.replace(/-devel$/, ''), licenses: [], depends: [], provides: [], conflicts: [], buildDepends: [], ...over,
  };
  return { file: `${name}-1.0-${release}-1-${meta.architecture}.stone`, meta, sha256: sha(hash), size: 100 + hash };
}

const names = (entries: readonly IndexEntry[] | undefined) => entries?.map((e) => `${e.name}-${e.release}`);

describe('judging the builds of one publish', () => {
  const base = planBatch({}, [{ candidates: [candidate('liba', 1, 1)] }, { candidates: [candidate('zed', 1, 2)] }]).published!;

  it('applies the builds of a batch in order, each against the set the builds before it left', () => {
    const plan = planBatch(base, [
      { candidates: [candidate('liba', 2, 3)] },
      { candidates: [candidate('libb', 1, 4)] },
      { candidates: [candidate('liba', 3, 5)] },
    ]);
    expect(plan.verdicts.map((v) => v.kind)).toEqual(['changed', 'changed', 'changed']);
    expect(names(plan.published!.x86_64)).toEqual(['liba-3', 'zed-1', 'libb-1']);
    // The set the batch started from is left as it was.
    expect(names(base.x86_64)).toEqual(['liba-1', 'zed-1']);
  });

  it('refuses one build without stopping the others, and the refused build changes nothing', () => {
    const plan = planBatch(base, [
      { candidates: [candidate('libb', 1, 4)] },
      // An older release of liba, together with a package that would be fine alone: the whole build is refused.
      { candidates: [candidate('libc', 1, 6), candidate('liba', 0, 7)] },
      { candidates: [candidate('libd', 1, 8)] },
    ]);
    expect(plan.verdicts.map((v) => v.kind)).toEqual(['changed', 'refused', 'changed']);
    expect(plan.verdicts[1]).toMatchObject({ refusals: [{ file: 'liba-1.0-0-1-x86_64.stone', reason: expect.stringMatching(/older than the published/) }] });
    expect(names(plan.published!.x86_64)).toEqual(['liba-1', 'zed-1', 'libb-1', 'libd-1']);
  });

  it('judges a later build against an earlier one of the same batch: the same release with other bytes is refused', () => {
    const plan = planBatch(base, [{ candidates: [candidate('libb', 1, 4)] }, { candidates: [candidate('libb', 1, 9)] }]);
    expect(plan.verdicts.map((v) => v.kind)).toEqual(['changed', 'refused']);
  });

  it('tells a build published before the batch (a retry) from one repeated inside it', () => {
    const plan = planBatch(base, [{ candidates: [candidate('liba', 1, 1)] }, { candidates: [candidate('libb', 1, 4)] }, { candidates: [candidate('libb', 1, 4)] }]);
    expect(plan.verdicts).toEqual([
      expect.objectContaining({ kind: 'unchanged', inBase: true }),
      expect.objectContaining({ kind: 'changed' }),
      expect.objectContaining({ kind: 'unchanged', inBase: false }),
    ]);
  });

  it('writes nothing when no build changes the set', () => {
    const plan = planBatch(base, [{ candidates: [candidate('liba', 1, 1)] }, { candidates: [] }]);
    expect(plan.verdicts.map((v) => v.kind)).toEqual(['unchanged', 'refused']);
    expect(plan.published).toBeUndefined();
  });

  it('refuses a build whose file would replace a published one at the same pool path', () => {
    const c = candidate('libb', 1, 4);
    const plan = planBatch(base, [{ candidates: [c], poolClashes: new Map([[c.file, 'published in history 2']]) }]);
    expect(plan.verdicts[0]).toEqual({ kind: 'refused', refusals: [{ file: c.file, reason: 'published in history 2' }] });
    expect(plan.published).toBeUndefined();
  });
});
