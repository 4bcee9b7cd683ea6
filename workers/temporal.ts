import { Client, Connection } from '@temporalio/client';
import type { DataConverter } from '@temporalio/common';
import { NativeConnection } from '@temporalio/worker';
import type { Config } from '../core/config';
import { payloadCodecFor, payloadKeySettings, type PayloadKeySettings } from './payload-keys';

/** Connections to Temporal for a role: a client (to start and signal) and a worker connection. */
export async function connectClient(config: Config): Promise<Client> {
  const connection = await Connection.connect({ address: config.SUMMIT_TEMPORAL_ADDRESS });
  return new Client({ connection, namespace: config.SUMMIT_TEMPORAL_NAMESPACE, dataConverter: dataConverterFor(config) });
}

export async function connectWorker(config: Config): Promise<NativeConnection> {
  return NativeConnection.connect({ address: config.SUMMIT_TEMPORAL_ADDRESS });
}

/**
 * The data converter of every Client and Worker of Summit: the payload codec (encryption) when keys are
 * configured. Codecs run outside the workflow sandbox, so the Worker option is enough for workflow payloads too.
 * Every side must use the same keys: a worker without them cannot read what a client with them wrote.
 *
 * Entry points call requirePayloadKeys first, so a production role never runs without; in-process callers
 * (tests of one role) may leave the keys unset and then talk to Temporal in clear, like their peers.
 */
export function dataConverterFor(settings: Config | PayloadKeySettings): DataConverter | undefined {
  const codec = payloadCodecFor('SUMMIT_TEMPORAL_ADDRESS' in settings ? payloadKeySettings(settings) : settings);
  return codec ? { payloadCodecs: [codec] } : undefined;
}
