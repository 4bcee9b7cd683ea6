import { Client, Connection } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import type { Config } from '../core/config';

/** Connections to Temporal for a role: a client (to start and signal) and a worker connection. */
export async function connectClient(config: Config): Promise<Client> {
  const connection = await Connection.connect({ address: config.SUMMIT_TEMPORAL_ADDRESS });
  return new Client({ connection, namespace: config.SUMMIT_TEMPORAL_NAMESPACE });
}

export async function connectWorker(config: Config): Promise<NativeConnection> {
  return NativeConnection.connect({ address: config.SUMMIT_TEMPORAL_ADDRESS });
}
