import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { DynamoConfig } from './config';
import { traceDynamoClient } from './tracing/spans';

export interface DynamoClients {
  client: DynamoDBClient;
  documents: DynamoDBDocumentClient;
}

/**
 * DynamoDB clients for the configured endpoint. A local endpoint (dynalite) gets placeholder
 * credentials when none are configured; real DynamoDB uses the normal AWS credential chain.
 */
export function createDynamoClients(config: DynamoConfig, env = process.env): DynamoClients {
  const local = config.DYNAMODB_ENDPOINT !== undefined;
  const client = new DynamoDBClient({
    region: config.AWS_REGION,
    ...(local ? { endpoint: config.DYNAMODB_ENDPOINT } : {}),
    ...(local && !env.AWS_ACCESS_KEY_ID
      ? { credentials: { accessKeyId: 'local', secretAccessKey: 'local' } }
      : {}),
    maxAttempts: 3,
  });
  // With tracing on, a span per command (the document client shares this middleware stack).
  traceDynamoClient(client);
  const documents = DynamoDBDocumentClient.from(client, {
    marshallOptions: { removeUndefinedValues: true },
  });
  return { client, documents };
}
