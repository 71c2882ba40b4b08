/**
 * A test file's own standalone Temporal server on PostgreSQL (the production-like persistence):
 * fresh databases named after the file and a random suffix, a client with the test data
 * converter, and a `close` that stops the server and drops the databases.
 */
import { randomUUID } from 'node:crypto';
import { Client, Connection } from '@temporalio/client';
import { stopPid } from '../../infra/stack/processes';
import {
  createTemporalDatabases,
  dropDatabases,
  freeTemporalPorts,
  startTemporalPostgresServer,
  type TemporalDatabases,
  type TemporalPostgresPorts,
  type TemporalPostgresServer,
} from '../../infra/stack/temporal-postgres-server';
import { testDataConverter, testEnv } from './test-env';

export interface PostgresTemporal {
  databases: TemporalDatabases;
  ports: TemporalPostgresPorts;
  /** The running server; replaced by {@link PostgresTemporal.restart}. */
  server: TemporalPostgresServer;
  address: string;
  client: Client;
  /** Starts the server again on the same databases and ports (after a crash). */
  restart(): Promise<TemporalPostgresServer>;
  close(): Promise<void>;
}

/** Creates fresh databases `tdev_<name>_<suffix>` and starts a server on them. */
export async function startPostgresTemporal(name: string): Promise<PostgresTemporal> {
  const env = testEnv();
  const databases = await createTemporalDatabases(
    `tdev_${name}_${randomUUID().replaceAll('-', '').slice(0, 8)}`,
  );
  const ports = await freeTemporalPorts();
  const serverOptions = {
    databases,
    ports,
    namespace: env.namespace,
    logDir: env.dir,
    name: `temporal-pg-${databases.main}`,
  };
  let server: TemporalPostgresServer;
  try {
    server = await startTemporalPostgresServer(serverOptions);
  } catch (error) {
    await dropDatabases([databases.main, databases.visibility]);
    throw error;
  }
  const connection = await Connection.connect({ address: server.address });
  const client = new Client({
    connection,
    namespace: env.namespace,
    dataConverter: testDataConverter(),
  });
  const handle: PostgresTemporal = {
    databases,
    ports,
    server,
    address: server.address,
    client,
    async restart() {
      handle.server = await startTemporalPostgresServer(serverOptions);
      return handle.server;
    },
    async close() {
      await connection.close();
      await stopPid(handle.server.pid, 5000);
      await dropDatabases([databases.main, databases.visibility]);
    },
  };
  return handle;
}
