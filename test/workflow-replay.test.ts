/**
 * Replays the recorded histories (test/fixtures/histories, written by `npm run record:histories` from a real run of
 * the pipeline) against the current workflow code (workflows/index.ts). A change to a workflow that gives a
 * running workflow a different sequence of commands (an activity, timer or child more, fewer or in another order)
 * fails here with a non-determinism error, as it would fail the hub and the builds running in production: guard
 * such a change with patched() (README, "Changing a workflow safely").
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { temporal as proto } from '@temporalio/proto';
import { Worker } from '@temporalio/worker';
import { installQuietWorkerRuntime } from './support/worker';
import { REPLAY_PAYLOAD_KEYS } from './support/replay-key';
import { dataConverterFor } from '../workers/temporal';

jest.setTimeout(180_000);

/**
 * The histories recorded now (builds of `Dispatch.flow` 1: no patch markers), those recorded before the flow
 * (every build through its patches), and those from before the patches `notify-from-records` and `local-planning`:
 * workflows started before a deploy must replay after it.
 */
const DIRS = ['histories', 'histories-before-flow', 'histories-before-notify'].map((name) => join(__dirname, 'fixtures', name));
const recordedIn = (dir: string): Record<string, string> => JSON.parse(readFileSync(join(dir, 'index.json'), 'utf8')) as Record<string, string>;

beforeAll(() => installQuietWorkerRuntime());

describe.each(DIRS)('the histories in %s', (dir) => {
  const recorded = recordedIn(dir);

  test('cover the hub, a published build, a failed build, a wave and a poll', () => {
    expect(Object.keys(recorded).sort()).toEqual(['build-failed', 'build-published', 'hub', 'poll', 'wave']);
  });

  test('replay against the current workflows without a non-determinism error', async () => {
    // The binary History: the SDK's JSON reader fails in this node_modules (see test/record-histories.test.ts).
    const histories = Object.entries(recorded).map(([name, workflowId]) => ({ workflowId, history: proto.api.history.v1.History.decode(readFileSync(join(dir, `${name}.binpb`))) }));
    const results: Array<{ workflowId: string; error?: string }> = [];
    for await (const result of Worker.runReplayHistories({ workflowsPath: require.resolve('../workflows'), replayName: 'summit-replay', dataConverter: dataConverterFor({ payloadKeys: REPLAY_PAYLOAD_KEYS }) }, histories)) {
      results.push({ workflowId: result.workflowId, ...(result.error ? { error: `${result.error.name}: ${result.error.message}` } : {}) });
    }
    expect(results).toEqual(Object.values(recorded).map((workflowId) => ({ workflowId })));
  });
});
