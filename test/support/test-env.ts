/** What integration tests share: endpoints from the global setup and a per-file harness. */
import { randomUUID } from 'node:crypto';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, type Worker } from '@temporalio/worker';
import { createActivities, type ActivityDependencies } from '../../activities';
import type { WebhookActivityDependencies } from '../../activities/webhooks';
import { createBedrockProvider } from '../../models/bedrock';
import type { WorkflowHandle } from '@temporalio/client';
import type { DataConverter, Payload } from '@temporalio/common';
import {
  createPayloadProtection,
  type PayloadProtection,
  type PayloadProtectionSettings,
} from '../../runtime/temporal/data-converter';
import { DEFAULT_NAMESPACE, WORKFLOW_TYPES } from '../../core/names';
import { statusQuery, type SessionInput, type SessionStatus } from '../../core/session';
import { newSessionId } from '../../runtime/session-ids';
import { ensureTables, type TableNames } from '../../infra/dynamodb/tables';
import { createDynamoClients, type DynamoClients } from '../../runtime/dynamodb';
import { AgentHistoryStore } from '../../runtime/stores/agent-history-store';
import { AgentRegistryStore } from '../../runtime/stores/agent-registry-store';
import { IdempotencyStore } from '../../runtime/stores/idempotency-store';
import { SessionIndexStore } from '../../runtime/stores/session-index-store';
import type { SessionChangePublisher } from '../../runtime/session-changes';
import { createSessionWorker } from '../../workers/session-worker';
import type { FakeBedrock } from '../fakes/bedrock-converse-server';

export { newSessionId };

export function testEnv() {
  const required = (name: string): string => {
    const value = process.env[name];
    if (!value)
      throw new Error(`${name} is not set: run integration tests through jest (global setup)`);
    return value;
  };
  return {
    dir: required('TDEV_TEST_DIR'),
    temporalAddress: required('TDEV_TEST_TEMPORAL_ADDRESS'),
    temporalUiUrl: required('TDEV_TEST_TEMPORAL_UI_URL'),
    dynamoEndpoint: required('TDEV_TEST_DYNAMODB_ENDPOINT'),
    workflowBundlePath: required('TDEV_TEST_WORKFLOW_BUNDLE'),
    kmsEndpoint: required('TDEV_TEST_KMS_ENDPOINT'),
    kmsKeyId: required('TDEV_TEST_KMS_KEY_ID'),
    namespace: DEFAULT_NAMESPACE,
  };
}

/**
 * The payload-encryption settings of the test run (envelope encryption with the local-kms the
 * global setup started), as environment variables: spread them into `loadApiConfig({...})`.
 */
export function testPayloadEnv() {
  const env = testEnv();
  return {
    PAYLOAD_ENCRYPTION: 'kms',
    PAYLOAD_KMS_ENDPOINT: env.kmsEndpoint,
    PAYLOAD_KMS_KEY_ID: env.kmsKeyId,
  } as const;
}

let sharedProtection: PayloadProtection | undefined;

/**
 * The codec and data converter every test client and worker uses (one per test file), the same
 * the API and the worker build from their configuration.
 */
export function testPayloadProtection(
  overrides: Partial<PayloadProtectionSettings> = {},
): PayloadProtection {
  const settings: PayloadProtectionSettings = {
    ...testPayloadEnv(),
    PAYLOAD_DATA_KEY_MAX_AGE_S: 300,
    PAYLOAD_DATA_KEY_MAX_USES: 10_000,
    PAYLOAD_KEY_RING_RELOAD_S: 30,
    PAYLOAD_COMPRESSION: 'gzip',
    PAYLOAD_COMPRESSION_THRESHOLD_BYTES: 1024,
    ...overrides,
  };
  if (Object.keys(overrides).length > 0)
    return createPayloadProtection(settings, { region: 'us-east-1' });
  sharedProtection ??= createPayloadProtection(settings, { region: 'us-east-1' });
  return sharedProtection;
}

/** The test data converter (payload codec + encoded failures). */
export const testDataConverter = () => testPayloadProtection().dataConverter;

/** Decodes a payload read from a raw history (encrypted or plain) with the test codec. */
export async function decodeTestPayload(payload: Payload): Promise<Payload> {
  const codec = testPayloadProtection().codec;
  const [decoded] = codec ? await codec.decode([payload]) : [payload];
  return decoded ?? payload;
}

export const TEST_MODEL_ID = 'us.anthropic.claude-sonnet-4-20250514-v1:0';
export const TEST_AWS_CREDENTIALS = { accessKeyId: 'AKIDTESTTEST', secretAccessKey: 'test-secret' };

export interface Harness {
  env: ReturnType<typeof testEnv>;
  taskQueue: string;
  tablePrefix: string;
  tables: TableNames;
  client: Client;
  dynamo: DynamoClients;
  sessionIndex: SessionIndexStore;
  idempotency: IdempotencyStore;
  /** This file's agent registry (no read cache, so registrations show at once). */
  agents: AgentRegistryStore;
  /** This file's agent history (what planning reads and agent steps write). */
  agentHistory: AgentHistoryStore;
  /**
   * Starts a session on this file's task queue: tenant `acme`, user `ada`, project `billing`,
   * request "Add OAuth login to billing" and a 5 s step heartbeat unless overridden.
   */
  startSession(
    request?: Partial<SessionInput['request']>,
    overrides?: Partial<Omit<SessionInput, 'request'>>,
  ): Promise<WorkflowHandle>;
  /** A worker on this file's task queue whose agent steps call `bedrock`. */
  createWorker(
    bedrock: FakeBedrock,
    overrides?: Partial<ActivityDependencies>,
    worker?: {
      taskQueue?: string;
      maxConcurrentActivityTaskExecutions?: number;
      /** Another data converter than the test one (key rotation tests). */
      dataConverter?: DataConverter;
      /** Registers the webhook delivery activity (activities/webhooks). */
      webhooks?: WebhookActivityDependencies;
      /** Another Temporal server than the shared one (e.g. the PostgreSQL-backed server). */
      address?: string;
      /** Where the sessions' status-change notices go (none when absent). */
      sessionChanges?: SessionChangePublisher;
    },
  ): Promise<Worker>;
  close(): Promise<void>;
}

/** Per test file: its own task queue and tables, a client, and workers on demand. */
export async function createHarness(name: string): Promise<Harness> {
  const env = testEnv();
  const suffix = randomUUID().slice(0, 8);
  const taskQueue = `test-${name}-${suffix}`;
  const tablePrefix = `test-${name}-${suffix}-`;
  const connection = await Connection.connect({ address: env.temporalAddress });
  const client = new Client({
    connection,
    namespace: env.namespace,
    dataConverter: testDataConverter(),
  });
  const dynamo = createDynamoClients({
    AWS_REGION: 'us-east-1',
    DYNAMODB_ENDPOINT: env.dynamoEndpoint,
    DYNAMODB_TABLE_PREFIX: tablePrefix,
  });
  const tables = await ensureTables(dynamo.client, tablePrefix);
  const sessionIndex = new SessionIndexStore(dynamo.documents, tables.sessions);
  const agents = new AgentRegistryStore(dynamo.documents, tables.agents, { cacheTtlMs: 0 });
  const agentHistory = new AgentHistoryStore(dynamo.documents, tables.agentHistory);
  const nativeConnections: NativeConnection[] = [];
  return {
    env,
    taskQueue,
    tablePrefix,
    tables,
    client,
    dynamo,
    sessionIndex,
    idempotency: new IdempotencyStore(dynamo.documents, tables.idempotency),
    agents,
    agentHistory,
    async startSession(request = {}, overrides = {}) {
      const sessionId = newSessionId();
      const input: SessionInput = {
        sessionId,
        tenantId: 'acme',
        userId: 'ada',
        projectId: 'billing',
        ...overrides,
        request: { text: 'Add OAuth login to billing', ...request },
        options: { stepHeartbeatTimeoutMs: 5000, ...overrides.options },
      };
      return client.workflow.start(WORKFLOW_TYPES.session, {
        workflowId: sessionId,
        taskQueue,
        args: [input],
      });
    },
    async createWorker(bedrock, overrides = {}, worker = {}) {
      const native = await NativeConnection.connect({
        address: worker.address ?? env.temporalAddress,
      });
      nativeConnections.push(native);
      const model = createBedrockProvider({
        region: 'us-east-1',
        modelId: TEST_MODEL_ID,
        endpoint: bedrock.url,
        credentials: TEST_AWS_CREDENTIALS,
      });
      return createSessionWorker({
        connection: native,
        namespace: env.namespace,
        taskQueue: worker.taskQueue ?? taskQueue,
        activities: createActivities({ model, sessionIndex, agents, agentHistory, ...overrides }),
        workflowBundlePath: env.workflowBundlePath,
        dataConverter: worker.dataConverter ?? testDataConverter(),
        ...(worker.webhooks ? { webhooks: worker.webhooks } : {}),
        ...(worker.sessionChanges ? { sessionChanges: worker.sessionChanges } : {}),
        ...(worker.maxConcurrentActivityTaskExecutions !== undefined
          ? { maxConcurrentActivityTaskExecutions: worker.maxConcurrentActivityTaskExecutions }
          : {}),
      });
    },
    async close() {
      await connection.close();
      await Promise.all(nativeConnections.map((native) => native.close()));
      dynamo.client.destroy();
    },
  };
}

/** Queries the session until `predicate` holds; fails with the last status after `timeoutMs`. */
export async function waitForStatus(
  handle: WorkflowHandle,
  predicate: (status: SessionStatus) => boolean,
  timeoutMs = 30_000,
): Promise<SessionStatus> {
  const deadline = Date.now() + timeoutMs;
  let last: SessionStatus | undefined;
  while (Date.now() < deadline) {
    last = await handle.query(statusQuery);
    if (predicate(last)) return last;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`status never matched; last: ${JSON.stringify(last, null, 1)}`);
}
