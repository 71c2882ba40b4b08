import { ListTablesCommand } from '@aws-sdk/client-dynamodb';
import path from 'node:path';
import { createDynamoClients } from '../../runtime/dynamodb';
import { REPO_ROOT } from './paths';
import { startProcess, waitFor, type ServiceProcess } from './processes';

export interface DynamoLocalOptions {
  port: number;
  /** Persist tables here; in memory when absent. */
  dataDir?: string;
  logDir: string;
  detached?: boolean;
  pidDir?: string;
  name?: string;
}

/** Starts dynalite in its own process and resolves once it answers ListTables. */
export async function startDynamoLocal(options: DynamoLocalOptions): Promise<ServiceProcess> {
  const server = startProcess({
    name: options.name ?? 'dynamodb',
    command: process.execPath,
    args: [
      '--import',
      'tsx',
      path.join(REPO_ROOT, 'infra', 'dynamodb', 'serve.ts'),
      String(options.port),
      ...(options.dataDir ? [options.dataDir] : []),
    ],
    cwd: REPO_ROOT,
    logDir: options.logDir,
    ...(options.detached !== undefined ? { detached: options.detached } : {}),
    ...(options.pidDir ? { pidDir: options.pidDir } : {}),
  });
  const endpoint = `http://127.0.0.1:${options.port}`;
  await waitFor(`DynamoDB-compatible server at ${endpoint}`, () => dynamoReady(endpoint), {
    timeoutMs: 30_000,
    process: server,
  });
  return server;
}

export async function dynamoReady(endpoint: string): Promise<boolean> {
  const { client } = createDynamoClients({
    AWS_REGION: 'us-east-1',
    DYNAMODB_ENDPOINT: endpoint,
    DYNAMODB_TABLE_PREFIX: '',
  });
  try {
    await client.send(new ListTablesCommand({}));
    return true;
  } finally {
    client.destroy();
  }
}
