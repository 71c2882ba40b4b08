/**
 * The platform's DynamoDB tables exactly as infra/dynamodb/tables.ts creates them, read through
 * its public `ensureTables`: a recording client answers DescribeTable ("not found", then
 * ACTIVE) and keeps each CreateTable and UpdateTimeToLive request. So the CDK stack and the
 * local stack share one definition of keys, billing mode and TTL attribute; nothing is sent
 * anywhere.
 */
import {
  CreateTableCommand,
  DescribeTableCommand,
  ResourceNotFoundException,
  UpdateTimeToLiveCommand,
  type DynamoDBClient,
} from '@aws-sdk/client-dynamodb';
import { ensureTables, tableNames, type TableNames } from '../dynamodb/tables';

export type KeyAttributeType = 'S' | 'N' | 'B';

export interface TableKey {
  name: string;
  type: KeyAttributeType;
}

export interface TableDefinition {
  /** The key in TableNames (`sessions`, `usageLedger`, ...). */
  id: keyof TableNames;
  tableName: string;
  partitionKey: TableKey;
  sortKey?: TableKey;
  billingMode: 'PAY_PER_REQUEST' | 'PROVISIONED';
  ttlAttribute?: string;
}

interface Recorded {
  create?: CreateTableCommand['input'];
  ttlAttribute?: string;
}

/** Runs `ensureTables` against a recording client and returns the table definitions it made. */
export async function platformTableDefinitions(prefix: string): Promise<TableDefinition[]> {
  const recorded = new Map<string, Recorded>();
  const client = {
    send: async (command: unknown) => {
      if (command instanceof DescribeTableCommand) {
        const name = command.input.TableName ?? '';
        if (!recorded.get(name)?.create) {
          throw new ResourceNotFoundException({ message: `${name} not found`, $metadata: {} });
        }
        return { Table: { TableName: name, TableStatus: 'ACTIVE' } };
      }
      if (command instanceof CreateTableCommand) {
        recorded.set(command.input.TableName ?? '', { create: command.input });
        return {};
      }
      if (command instanceof UpdateTimeToLiveCommand) {
        const entry = recorded.get(command.input.TableName ?? '');
        if (entry && command.input.TimeToLiveSpecification?.Enabled) {
          entry.ttlAttribute = command.input.TimeToLiveSpecification.AttributeName;
        }
        return {};
      }
      throw new Error(`unexpected DynamoDB command ${String(command?.constructor?.name)}`);
    },
  } as unknown as DynamoDBClient;
  const names: TableNames = await ensureTables(client, prefix);
  const expected = tableNames(prefix);
  const ids = new Map<string, keyof TableNames>();
  for (const id of Object.keys(expected) as (keyof TableNames)[]) ids.set(expected[id], id);
  return [...ids.keys()].map((tableName) => {
    if (!Object.values(names).includes(tableName)) {
      throw new Error(`ensureTables did not report ${tableName}`);
    }
    const entry = recorded.get(tableName);
    const create = entry?.create;
    if (!create) throw new Error(`ensureTables did not create ${tableName}`);
    const keyOf = (keyType: 'HASH' | 'RANGE'): TableKey | undefined => {
      const name = create.KeySchema?.find((key) => key.KeyType === keyType)?.AttributeName;
      if (!name) return undefined;
      const type: KeyAttributeType | undefined = create.AttributeDefinitions?.find(
        (a) => a.AttributeName === name,
      )?.AttributeType;
      if (!type) throw new Error(`${tableName}: key ${name} has no attribute definition`);
      return { name, type };
    };
    const partitionKey = keyOf('HASH');
    if (!partitionKey) throw new Error(`${tableName}: no partition key`);
    const sortKey = keyOf('RANGE');
    const id = ids.get(tableName);
    if (!id) throw new Error(`${tableName} is not one of tableNames()`);
    return {
      id,
      tableName,
      partitionKey,
      ...(sortKey ? { sortKey } : {}),
      billingMode: create.BillingMode ?? 'PROVISIONED',
      ...(entry.ttlAttribute ? { ttlAttribute: entry.ttlAttribute } : {}),
    };
  });
}
