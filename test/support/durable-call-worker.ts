/**
 * A session worker process for the durable-model-call test, started as
 * `node --import tsx durable-call-worker.ts '<json DurableCallWorkerOptions>'`. Its agent
 * steps call the Bedrock fake through the model layer with the DynamoDB result store and
 * usage ledger. With `hangAfterModel`, every step stops right after the model answered (the
 * agent-history write never returns), so a SIGKILL lands in the window between the answer and
 * the activity's completion. Prints `ready` once polling.
 */
import { NativeConnection } from '@temporalio/worker';
import { createActivities } from '../../activities';
import { createBedrockProvider } from '../../models/bedrock';
import { ModelRegistry, parseModelCard } from '../../models/registry';
import { createDynamoClients } from '../../runtime/dynamodb';
import { DynamoModelResultStore } from '../../runtime/stores/model-result-store';
import { SessionIndexStore } from '../../runtime/stores/session-index-store';
import { UsageLedgerStore } from '../../runtime/stores/usage-ledger-store';
import { createSessionWorker } from '../../workers/session-worker';
import type { TableNames } from '../../infra/dynamodb/tables';
import { testDataConverter } from './test-env';

export interface DurableCallWorkerOptions {
  temporalAddress: string;
  namespace: string;
  taskQueue: string;
  workflowBundlePath: string;
  dynamoEndpoint: string;
  tables: TableNames;
  bedrockUrl: string;
  modelId: string;
  credentials: { accessKeyId: string; secretAccessKey: string };
  hangAfterModel: boolean;
}

async function main(): Promise<void> {
  const options = JSON.parse(process.argv[2] ?? '{}') as DurableCallWorkerOptions;
  const dynamo = createDynamoClients({
    AWS_REGION: 'us-east-1',
    DYNAMODB_ENDPOINT: options.dynamoEndpoint,
    DYNAMODB_TABLE_PREFIX: '',
  });
  const model = createBedrockProvider({
    region: 'us-east-1',
    modelId: options.modelId,
    endpoint: options.bedrockUrl,
    credentials: options.credentials,
  });
  const connection = await NativeConnection.connect({ address: options.temporalAddress });
  const worker = await createSessionWorker({
    connection,
    namespace: options.namespace,
    taskQueue: options.taskQueue,
    workflowBundlePath: options.workflowBundlePath,
    // The test run's payload encryption (the settings arrive in the inherited environment).
    dataConverter: testDataConverter(),
    activities: createActivities({
      model,
      sessionIndex: new SessionIndexStore(dynamo.documents, options.tables.sessions),
      agentHistory: {
        read: () => Promise.resolve([]),
        record: () =>
          options.hangAfterModel ? new Promise<void>(() => undefined) : Promise.resolve(),
      },
      modelLayer: {
        registry: new ModelRegistry([
          parseModelCard({ ref: `bedrock:${options.modelId}`, contextWindow: 200_000 }),
        ]),
        results: new DynamoModelResultStore(dynamo.documents, options.tables.modelResults),
        ledger: new UsageLedgerStore(dynamo.documents, options.tables.usageLedger),
      },
    }),
  });
  process.stdout.write('ready\n');
  await worker.run();
}

main().catch((error: unknown) => {
  process.stderr.write(`${String(error)}\n`);
  process.exit(1);
});
