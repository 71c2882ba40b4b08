/**
 * DynamoDB tables of the platform, created the same way against the local DynamoDB-compatible
 * server (dynalite) and against real DynamoDB (on-demand billing, TTL where rows expire).
 */
import {
  CreateTableCommand,
  DescribeTableCommand,
  ResourceNotFoundException,
  UpdateTimeToLiveCommand,
  type CreateTableCommandInput,
  type DynamoDBClient,
} from '@aws-sdk/client-dynamodb';

export interface TableNames {
  sessions: string;
  idempotency: string;
  agents: string;
  agentHistory: string;
  usageLedger: string;
  modelResults: string;
  attachmentOwners: string;
  audit: string;
  apiKeys: string;
  apiKeyIds: string;
  webhooks: string;
  memories: string;
}

export function tableNames(prefix: string): TableNames {
  return {
    sessions: `${prefix}sessions`,
    idempotency: `${prefix}idempotency`,
    agents: `${prefix}agents`,
    agentHistory: `${prefix}agent-history`,
    usageLedger: `${prefix}usage-ledger`,
    modelResults: `${prefix}model-results`,
    attachmentOwners: `${prefix}attachment-owners`,
    audit: `${prefix}audit`,
    apiKeys: `${prefix}api-keys`,
    apiKeyIds: `${prefix}api-key-ids`,
    webhooks: `${prefix}webhooks`,
    memories: `${prefix}memories`,
  };
}

interface TableDefinition {
  create: CreateTableCommandInput;
  ttlAttribute?: string;
}

type KeyType = 'S' | 'N';

/** A pay-per-request table keyed by a partition key and an optional sort key. */
function keyedTable(
  tableName: string,
  partition: [name: string, type: KeyType],
  sort?: [name: string, type: KeyType],
): CreateTableCommandInput {
  const keys = sort ? [partition, sort] : [partition];
  return {
    TableName: tableName,
    BillingMode: 'PAY_PER_REQUEST',
    AttributeDefinitions: keys.map(([name, type]) => ({
      AttributeName: name,
      AttributeType: type,
    })),
    KeySchema: keys.map(([name], index) => ({
      AttributeName: name,
      KeyType: index === 0 ? 'HASH' : 'RANGE',
    })),
  };
}

function definitions(names: TableNames): TableDefinition[] {
  return [
    // tenant → sessions; session ids are ULIDs, so the sort key orders by creation time.
    // A closed session's row expires with Temporal's retention (SessionIndexStore sets it).
    {
      create: keyedTable(names.sessions, ['tenantId', 'S'], ['sessionId', 'S']),
      ttlAttribute: 'expiresAt',
    },
    // (tenant, Idempotency-Key) → session id, expiring after a day.
    { create: keyedTable(names.idempotency, ['key', 'S']), ttlAttribute: 'expiresAt' },
    // agent name → its spec versions (immutable; the highest version is current).
    { create: keyedTable(names.agents, ['name', 'S'], ['version', 'N']) },
    // (intent label, agent) → attempt/success/latency counters, updated with atomic ADDs.
    { create: keyedTable(names.agentHistory, ['intent', 'S'], ['agent', 'S']) },
    // tenant → model calls keyed `session#run#activity#attempt#call`: written once, summed on read.
    { create: keyedTable(names.usageLedger, ['tenantId', 'S'], ['entryKey', 'S']) },
    // workflow#run#activity#request#n → a model call's answer, so a retry never pays twice.
    { create: keyedTable(names.modelResults, ['callKey', 'S']), ttlAttribute: 'expiresAt' },
    // (tenant, sha-256) → the tenant stored that attachment blob: blobs are shared by hash,
    // and a tenant may use only the ones it uploaded or fetched itself.
    { create: keyedTable(names.attachmentOwners, ['tenantId', 'S'], ['sha256', 'S']) },
    // tenant → its audit trail: seq 1, 2, 3, … hash-chained (append-only), seq 0 the head.
    { create: keyedTable(names.audit, ['tenantId', 'S'], ['seq', 'N']) },
    // (tenant, key id) → an API key's record (roles, expiry, revocation, sha-256 of the key).
    { create: keyedTable(names.apiKeys, ['tenantId', 'S'], ['keyId', 'S']) },
    // key id → its tenant (written once): a presented key finds its record without an index.
    { create: keyedTable(names.apiKeyIds, ['keyId', 'S']) },
    // (tenant, webhook id) → a webhook: URL, session events, signing secret.
    { create: keyedTable(names.webhooks, ['tenantId', 'S'], ['webhookId', 'S']) },
    // (tenant, memory id) → a long-term memory (text sealed), expiring at its TTL if it has one.
    {
      create: keyedTable(names.memories, ['tenantId', 'S'], ['memoryId', 'S']),
      ttlAttribute: 'expiresAt',
    },
  ];
}

/** Creates the missing tables and waits until all are ACTIVE. Safe to run repeatedly. */
export async function ensureTables(client: DynamoDBClient, prefix: string): Promise<TableNames> {
  const names = tableNames(prefix);
  for (const definition of definitions(names)) {
    const name = definition.create.TableName as string;
    if (!(await tableExists(client, name))) {
      try {
        await client.send(new CreateTableCommand(definition.create));
      } catch (error) {
        if (!(error instanceof Error && error.name === 'ResourceInUseException')) throw error;
      }
      await waitUntilActive(client, name);
      if (definition.ttlAttribute) await enableTimeToLive(client, name, definition.ttlAttribute);
    }
  }
  return names;
}

async function tableExists(client: DynamoDBClient, name: string): Promise<boolean> {
  try {
    await client.send(new DescribeTableCommand({ TableName: name }));
    return true;
  } catch (error) {
    if (error instanceof ResourceNotFoundException) return false;
    throw error;
  }
}

async function waitUntilActive(client: DynamoDBClient, name: string): Promise<void> {
  for (let attempt = 0; attempt < 120; attempt += 1) {
    const { Table } = await client.send(new DescribeTableCommand({ TableName: name }));
    if (Table?.TableStatus === 'ACTIVE') return;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(`table ${name} did not become ACTIVE within 30 s`);
}

async function enableTimeToLive(
  client: DynamoDBClient,
  name: string,
  attribute: string,
): Promise<void> {
  try {
    await client.send(
      new UpdateTimeToLiveCommand({
        TableName: name,
        TimeToLiveSpecification: { AttributeName: attribute, Enabled: true },
      }),
    );
  } catch (error) {
    // dynalite does not implement TTL; real DynamoDB does. Expired rows are also ignored on read.
    if (!(
      error instanceof Error &&
      /UnknownOperation|not supported/i.test(`${error.name} ${error.message}`)
    )) {
      throw error;
    }
  }
}
