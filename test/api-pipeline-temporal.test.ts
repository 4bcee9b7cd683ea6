import { Client, Connection } from '@temporalio/client';
import { HUB_WORKFLOW_ID, SIGNAL_REFRESH } from '../core/contracts/hub';
import { HubUnavailableError } from '../api/pipeline';
import { TemporalPipeline } from '../api/pipeline-temporal';
import { freePort, startTemporalTestServer, TemporalTestServer } from './support/temporal';

/**
 * The API's Temporal wiring against a real dev server, without any hub worker: the API must tell "no hub" and
 * "no Temporal" apart from a real answer, and never hang. (The hub's own answers are tested end to end.)
 */
describe('the pipeline over a real Temporal client', () => {
  let server: TemporalTestServer;
  let connection: Connection;
  let client: Client;

  beforeAll(async () => {
    server = await startTemporalTestServer();
    connection = await Connection.connect({ address: server.address });
    client = new Client({ connection, namespace: server.namespace });
  });

  afterAll(async () => {
    await connection?.close();
    await server?.stop();
  });

  it('says the hub is not running when its workflow does not exist', async () => {
    const pipeline = new TemporalPipeline(client, server.address);
    await expect(pipeline.refresh({ repository: 'recipes', origin: 'api' })).rejects.toThrow(HubUnavailableError);
    await expect(pipeline.retry({ taskId: 't', by: 'admin' })).rejects.toThrow(/the hub is not running/);
    expect(await pipeline.hubStatus()).toMatchObject({ ok: false, state: 'not running' });
  });

  it('signals a running hub by the contract name, and gives up on an update no worker answers', async () => {
    // A hub workflow on a queue no worker polls: the server accepts signals for it, nobody runs updates.
    const handle = await client.workflow.start('summitHub', { workflowId: HUB_WORKFLOW_ID, taskQueue: `nobody-${process.pid}`, args: [] });
    const pipeline = new TemporalPipeline(client, server.address, { updateTimeoutMs: 1_500 });
    await pipeline.refresh({ repository: 'recipes', commit: 'abc1234', origin: 'hook' });
    expect(await pipeline.hubStatus()).toEqual({ ok: true, state: 'running' });

    const history = await handle.fetchHistory();
    const signal = history.events?.find((e) => e.workflowExecutionSignaledEventAttributes)?.workflowExecutionSignaledEventAttributes;
    expect(signal?.signalName).toBe(SIGNAL_REFRESH);

    const started = Date.now();
    await expect(pipeline.cancel({ taskId: 't', by: 'admin' })).rejects.toThrow(HubUnavailableError);
    expect(Date.now() - started).toBeLessThan(10_000);
    await handle.terminate('test over');
    expect(await pipeline.hubStatus()).toMatchObject({ ok: false, state: 'terminated' });
  });

  it('says Temporal does not answer when nothing listens at its address, within the deadline', async () => {
    const address = `127.0.0.1:${await freePort()}`;
    const lazy = Connection.lazy({ address });
    const pipeline = new TemporalPipeline(new Client({ connection: lazy }), address, { signalTimeoutMs: 1_000 });
    const started = Date.now();
    await expect(pipeline.refresh({ repository: 'recipes', origin: 'api' })).rejects.toThrow(HubUnavailableError);
    expect(await pipeline.hubStatus()).toMatchObject({ ok: false, state: 'unreachable' });
    expect(Date.now() - started).toBeLessThan(10_000);
    await lazy.close();
  });
});
