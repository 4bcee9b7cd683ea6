import { pollQueues } from './poll-queues';

describe('the queues a builder polls', () => {
  it.each<[string, Parameters<typeof pollQueues>, string[]]>([
    ['a community builder: the shared queues only', [['x86_64', 'x86_64-v3x'], 'community', 4], ['avalanche-shared-x86_64', 'avalanche-shared-x86_64-v3x']],
    ['a trusted builder by default: the official queues only', [['x86_64'], 'trusted', 4], ['avalanche-x86_64']],
    ['a one-slot trusted builder told auto: the official queue only', [['x86_64'], 'trusted', 1, 'auto'], ['avalanche-x86_64']],
    ['a trusted builder with a slot to spare told auto: both', [['x86_64'], 'trusted', 2, 'auto'], ['avalanche-x86_64', 'avalanche-shared-x86_64']],
    ['a one-slot trusted builder told always: both', [['x86_64'], 'trusted', 1, 'always'], ['avalanche-x86_64', 'avalanche-shared-x86_64']],
    ['a trusted builder told never: the official queues only', [['x86_64', 'x86_64-v3x'], 'trusted', 8, 'never'], ['avalanche-x86_64', 'avalanche-x86_64-v3x']],
  ])('%s', (_what, args, queues) => {
    expect(pollQueues(...args)).toEqual(queues);
  });
});
