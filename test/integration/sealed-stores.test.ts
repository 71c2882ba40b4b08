/**
 * Text our own DynamoDB tables keep (model answers in the result store, session titles in the
 * index) is sealed with the payload codec: the raw items on the real DynamoDB-compatible
 * server hold no plaintext, the stores read it back, values written before sealing still read,
 * and a reader without the keys shows a title as "(encrypted)" rather than failing the row.
 */
import { randomBytes } from 'node:crypto';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import type { ModelResponse } from '../../models/model-provider';
import { codecTextSealer } from '../../runtime/temporal/codec';
import { DynamoModelResultStore } from '../../runtime/stores/model-result-store';
import { SessionIndexStore } from '../../runtime/stores/session-index-store';
import { createHarness, testPayloadProtection, type Harness } from '../support/test-env';

const SECRET = `planted-secret-${randomBytes(6).toString('hex')}`;
let harness: Harness;

beforeAll(async () => {
  harness = await createHarness('sealed-stores');
});

afterAll(async () => {
  await harness.close();
});

const sealer = () => codecTextSealer(testPayloadProtection().codec!);

async function rawItem(table: string, key: Record<string, string>) {
  const { Item } = await harness.dynamo.documents.send(
    new GetCommand({ TableName: table, Key: key, ConsistentRead: true }),
  );
  return Item;
}

test('model answers: sealed at rest, read back; plain ones from before still read', async () => {
  const table = harness.tables.modelResults;
  const sealed = new DynamoModelResultStore(harness.dynamo.documents, table, { sealer: sealer() });
  const callKey = `session-${SECRET.slice(-4)}#run#a1#fp#0`;
  const response: ModelResponse = {
    text: `the deploy key is ${SECRET}`,
    provider: 'bedrock',
    model: 'test-model',
    usage: { inputTokens: 3, outputTokens: 7 },
    stopReason: 'end_turn',
    latencyMs: 12,
    offline: false,
  };
  await sealed.put({ callKey, response, attempt: 1, storedAt: new Date().toISOString() });
  const item = await rawItem(table, { callKey });
  expect(JSON.stringify(item)).not.toContain(SECRET);
  expect(String(item?.response)).toMatch(/^tdev-sealed:v1:/);
  expect((await sealed.get(callKey))?.response).toEqual(response);

  // Written by a store without the keys (before sealing was on): read as it is.
  const plainKey = `${callKey}-plain`;
  await new DynamoModelResultStore(harness.dynamo.documents, table).put({
    callKey: plainKey,
    response,
    attempt: 1,
    storedAt: new Date().toISOString(),
  });
  expect(JSON.stringify(await rawItem(table, { callKey: plainKey }))).toContain(SECRET);
  expect((await sealed.get(plainKey))?.response).toEqual(response);
});

test('session titles: sealed at rest in both writes, opened by get and list', async () => {
  const table = harness.tables.sessions;
  const index = new SessionIndexStore(harness.dynamo.documents, table, sealer());
  const now = new Date().toISOString();
  const record = {
    tenantId: 'acme',
    sessionId: `s-${randomBytes(4).toString('hex')}`,
    userId: 'ada',
    title: `Rotate ${SECRET}`,
    phase: 'starting' as const,
    status: 'active' as const,
    createdAt: now,
    updatedAt: now,
  };
  await index.insertIfAbsent(record);
  const key = { tenantId: record.tenantId, sessionId: record.sessionId };
  expect(JSON.stringify(await rawItem(table, key))).not.toContain(SECRET);
  await index.upsert({ ...record, phase: 'running', updatedAt: new Date().toISOString() });
  const raw = await rawItem(table, key);
  expect(JSON.stringify(raw)).not.toContain(SECRET);
  expect(raw?.phase).toBe('running');
  expect((await index.get('acme', record.sessionId))?.title).toBe(record.title);
  const listed = await index.list('acme', { limit: 50 });
  expect(listed.sessions.find((row) => row.sessionId === record.sessionId)?.title).toBe(
    record.title,
  );
  // A reader without the keys still lists the row, without its title.
  const keyless = new SessionIndexStore(harness.dynamo.documents, table);
  expect((await keyless.get('acme', record.sessionId))?.title).toBe('(encrypted)');
});
