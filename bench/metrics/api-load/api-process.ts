/**
 * One API of the load test in its own process, so the load generator (autocannon, in the bench
 * driver) does not share its event loop and its CPU time is its own:
 * `node --import tsx api-process.ts` with API_LOAD_PROCESS_CONFIG (JSON, `ApiProcessConfig`).
 * `ours` is the product's API (startBenchApi: configuration, token verification, Cedar,
 * quotas, audit, request log); `raw` is the bare Hono app of raw-api.ts. Prints one
 * `API_LOAD_READY {"url":…,"token":…}` line when it listens; stops cleanly on SIGTERM (so a
 * `--cpu-prof` profile is written).
 */
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { Client, Connection } from '@temporalio/client';
import { startBenchApi } from '../../env/api';
import {
  API_LOAD_PROCESS_CONFIG,
  API_LOAD_READY,
  type ApiProcessConfig,
} from './api-process-config';
import { rawApi } from './raw-api';

async function main(): Promise<void> {
  const config = JSON.parse(process.env[API_LOAD_PROCESS_CONFIG] ?? '') as ApiProcessConfig;
  let close: () => Promise<void>;
  if (config.kind === 'ours') {
    const api = await startBenchApi(config);
    close = () => api.running.close();
    console.log(`${API_LOAD_READY} ${JSON.stringify({ url: api.running.url, token: api.token })}`);
  } else {
    const connection = await Connection.connect({ address: config.temporalAddress });
    const app = rawApi({
      client: new Client({ connection, namespace: config.namespace }),
      tenantId: config.tenantId,
      taskQueue: config.taskQueue,
      pageSize: config.pageSize,
    });
    const server = serve({ fetch: app.fetch, hostname: '127.0.0.1', port: 0 });
    await new Promise<void>((resolve) => server.once('listening', () => resolve()));
    const { port } = server.address() as AddressInfo;
    close = async () => {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await connection.close();
    };
    console.log(
      `${API_LOAD_READY} ${JSON.stringify({ url: `http://127.0.0.1:${port}`, token: '' })}`,
    );
  }
  process.once('SIGTERM', () => {
    close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  });
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
