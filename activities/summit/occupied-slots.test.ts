import type { BuilderStatus } from '../../core/contracts/hub';
import type { SchedulingTaskRow } from '../../db/store';
import { occupiedSlots } from './planning';

const health = (pressure: string[]) => ({ load1: 0, cpus: 2, memAvailable: 1, memTotal: 1, diskFree: 1, diskTotal: 1, pressure });
const builder = (id: string, extra: Partial<BuilderStatus> = {}): BuilderStatus => ({ id, host: id, isaLevels: ['x86_64'], slots: 2, busy: 0, diskFree: 1, ...extra });
const task = (id: string, status: string, builderId: string | null = null): SchedulingTaskRow => ({
  id, repository: 'r', source: id, version: '1', release: 1, isa: 'x86_64', index: 'main', commit: 'c', recipePath: `${id}/stone.yaml`, status, attempts: 1, builder: builderId,
});

describe('slots planning may book, by builder health', () => {
  it('books nothing on a builder under pressure, and queued builds go to the others', () => {
    const slots = occupiedSlots([builder('calm'), builder('pressed', { health: health(['free disk 1 MiB is below 2048 MiB']) })], [task('q1', 'queued')], 0);
    expect(slots.map((s) => [s.id, (s.slots ?? 0) - s.running])).toEqual([['calm', 1], ['pressed', 0]]);
  });

  it('books a builder that reports no health (an older builder) or no pressure as before', () => {
    const slots = occupiedSlots([builder('old'), builder('fine', { health: health([]) })], [task('b1', 'building', 'fine')], 1);
    expect(slots.map((s) => [s.id, (s.slots ?? 0) - s.running])).toEqual([['old', 3], ['fine', 2]]);
  });
});
