/**
 * Key rotation mid-session on the real dev server: a session waits for approval, the key ring
 * rotates (new active key id), the approval arrives and the session completes. Its history holds
 * payloads under both key ids and all of them decode. With KMS, data keys that expire after a
 * bounded number of uses mean several wrapped data keys in one history, all unwrapped by a
 * fresh process's key source.
 */
import { Client, Connection, type WorkflowHandle } from '@temporalio/client';
import type { DataConverter, Payload } from '@temporalio/common';
import type { Worker } from '@temporalio/worker';
import { WORKFLOW_TYPES } from '../../core/names';
import { approveSignal, type SessionInput, type SessionResult } from '../../core/session';
import {
  EncryptionCodec,
  KeyRingKeySource,
  type KmsKeySource,
  generateKeyRing,
  isEncryptedPayload,
  payloadKeyId,
  rotateKeyRing,
  type KeyRing,
} from '../../runtime/temporal/codec';
import { createDataConverter } from '../../runtime/temporal/data-converter';
import { startFakeBedrock, type FakeBedrock } from '../fakes/bedrock-converse-server';
import {
  createHarness,
  newSessionId,
  testPayloadProtection,
  waitForStatus,
  type Harness,
} from '../support/test-env';

let harness: Harness;
let bedrock: FakeBedrock;
let connection: Connection;

beforeAll(async () => {
  harness = await createHarness('key-rotation');
  bedrock = await startFakeBedrock();
  connection = await Connection.connect({ address: harness.env.temporalAddress });
}, 60_000);

afterAll(async () => {
  await connection.close();
  await bedrock.close();
  await harness.close();
});

/**
 * Every payload in a history (inputs, results, signals, marker results, failures) except the
 * kinds the codec never sees: search attributes (the server indexes them; core/names.ts), the
 * `data` detail of local-activity markers, which the SDK core writes itself (sequence number,
 * activity type, times; no user data — the marker's `result` is encrypted), and the
 * `patch-data` of `patched()` markers, also the core's own (the patch id; checked to be only
 * that).
 */
function historyPayloads(value: unknown, found: Payload[] = []): Payload[] {
  if (Array.isArray(value)) {
    for (const item of value) historyPayloads(item, found);
  } else if (value && typeof value === 'object') {
    const record = value as Record<string, unknown>;
    if (record.metadata && typeof record.metadata === 'object' && 'data' in record) {
      found.push(record);
      return found;
    }
    // Search attributes stay plain by nature (the server indexes them; core/names.ts), and so
    // does the trace context the OpenTelemetry interceptors put in headers (`_tracer-data`:
    // a W3C traceparent, ids only) — checked to be nothing else.
    for (const [key, child] of Object.entries(record)) {
      if (key === 'searchAttributes') continue;
      if (key === 'header' && child && typeof child === 'object') {
        const fields = (child as { fields?: Record<string, Payload> }).fields ?? {};
        for (const [name, payload] of Object.entries(fields)) {
          if (name !== '_tracer-data') {
            found.push(payload);
            continue;
          }
          const context = JSON.parse(Buffer.from(payload.data ?? []).toString()) as object;
          expect(Object.keys(context)).toEqual(['traceparent']);
        }
        continue;
      }
      if (key === 'markerRecordedEventAttributes' && child && typeof child === 'object') {
        const marker = child as { markerName?: string; details?: Record<string, unknown> };
        const { data: _coreData, ...details } = marker.details ?? {};
        if (marker.markerName === 'core_patch') {
          const patchData = (details['patch-data'] as { payloads?: Payload[] }).payloads ?? [];
          for (const payload of patchData) {
            const patch = JSON.parse(Buffer.from(payload.data ?? []).toString()) as object;
            expect(Object.keys(patch).sort()).toEqual(['deprecated', 'id']);
          }
          continue;
        }
        historyPayloads(details, found);
        continue;
      }
      historyPayloads(child, found);
    }
  }
  return found;
}

/** Runs an approval session with `dataConverter`; `whileWaiting` runs before the approval. */
async function approvalSession(
  dataConverter: DataConverter,
  taskQueue: string,
  whileWaiting: () => void,
): Promise<WorkflowHandle> {
  const client = new Client({ connection, namespace: harness.env.namespace, dataConverter });
  const worker: Worker = await harness.createWorker(bedrock, {}, { taskQueue, dataConverter });
  return worker.runUntil(async () => {
    const sessionId = newSessionId();
    const input: SessionInput = {
      sessionId,
      tenantId: 'acme',
      userId: 'ada',
      projectId: 'billing',
      request: { text: 'Add OAuth login to billing', requireApproval: true },
      options: { stepHeartbeatTimeoutMs: 5000 },
    };
    const handle = await client.workflow.start(WORKFLOW_TYPES.session, {
      workflowId: sessionId,
      taskQueue,
      args: [input],
    });
    await waitForStatus(handle, (status) => status.phase === 'awaiting_approval');
    whileWaiting();
    await handle.signal(approveSignal, { approved: true, by: 'operator' });
    const result = (await handle.result()) as SessionResult;
    expect(result.phase).toBe('completed');
    return handle;
  });
}

test('key ring rotated mid-session: the session completes; old and new key ids both decode', async () => {
  let ring: KeyRing = generateKeyRing('ring-2026-11');
  const codec = new EncryptionCodec({ keys: new KeyRingKeySource(() => ring) });
  const handle = await approvalSession(
    createDataConverter(codec),
    `${harness.taskQueue}-ring`,
    () => (ring = rotateKeyRing(ring, 'ring-2026-12')),
  );
  const payloads = historyPayloads((await handle.fetchHistory()).events);
  expect(payloads.every(isEncryptedPayload)).toBe(true);
  const keyIds = new Set(payloads.map(payloadKeyId));
  expect([...keyIds].sort()).toEqual(['ring-2026-11', 'ring-2026-12']);
  // A process that only has the rotated ring (both keys, the new one active) reads everything.
  const reader = new EncryptionCodec({ keys: new KeyRingKeySource(ring) });
  const decoded = await reader.decode(payloads);
  expect(decoded.some(isEncryptedPayload)).toBe(false);
  // Without the old key the old payloads are refused, naming the key id.
  const newOnly = new EncryptionCodec({
    keys: new KeyRingKeySource({
      activeKeyId: 'ring-2026-12',
      keys: { 'ring-2026-12': ring.keys['ring-2026-12']! },
    }),
  });
  await expect(newOnly.decode(payloads)).rejects.toThrow(/"ring-2026-11"/);
});

test('KMS data keys rotate after a bounded use count; a fresh key source unwraps them all', async () => {
  const protection = testPayloadProtection({ PAYLOAD_DATA_KEY_MAX_USES: 3 });
  const keys = protection.keys as KmsKeySource;
  const handle = await approvalSession(
    protection.dataConverter,
    `${harness.taskQueue}-kms`,
    () => undefined,
  );
  expect(keys.generatedDataKeys).toBeGreaterThan(1);
  const payloads = historyPayloads((await handle.fetchHistory()).events);
  const wrappedKeys = new Set(
    payloads.map((payload) =>
      Buffer.from(payload.metadata?.['encryption-wrapped-key'] ?? new Uint8Array()).toString(
        'base64',
      ),
    ),
  );
  expect(wrappedKeys.size).toBeGreaterThan(1);
  const fresh = testPayloadProtection({ PAYLOAD_DATA_KEY_MAX_USES: 10_000 });
  const decoded = await fresh.codec!.decode(payloads);
  expect(decoded.some(isEncryptedPayload)).toBe(false);
  // Each distinct wrapped data key was unwrapped once by KMS (then cached).
  expect((fresh.keys as KmsKeySource).decryptCalls).toBe(wrappedKeys.size);
});
