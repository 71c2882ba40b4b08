/**
 * The answer of a paid model call is made durable before anything else: the result store's
 * write starts in the same turn of the event loop as the answer's arrival, before the ledger,
 * the token stream, the performance history or the cache hear of it, and the DynamoDB store
 * sends its write without awaiting anything first (with a sealer, only the sealing precedes it);
 * the crash window is then the write's own latency.
 */
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { callModel, type ModelLayer } from '../../models/model-call';
import type { ModelProvider, ModelResponse } from '../../models/model-provider';
import { ModelRegistry, parseModelCard } from '../../models/registry';
import { DynamoModelResultStore } from '../../runtime/stores/model-result-store';

const answer: ModelResponse = {
  text: 'the answer',
  provider: 'bedrock',
  model: 'test-model',
  usage: { inputTokens: 10, outputTokens: 5 },
  stopReason: 'end_turn',
  latencyMs: 1,
  offline: false,
};

test('callModel starts the result-store write before any other work after the answer, in the same event-loop turn', async () => {
  const events: string[] = [];
  const provider: ModelProvider = {
    name: 'bedrock',
    model: 'test-model',
    generate: () => {
      events.push('answer');
      // Anything that awaits I/O after the answer would run after this macrotask.
      setImmediate(() => events.push('next event-loop turn'));
      return Promise.resolve(answer);
    },
  };
  const layer: ModelLayer = {
    registry: new ModelRegistry([
      parseModelCard({ ref: 'bedrock:test-model', contextWindow: 200_000 }),
    ]),
    results: {
      get: () => Promise.resolve(undefined),
      put: () => {
        events.push('result store write');
        return Promise.resolve();
      },
    },
    ledger: {
      record: () => {
        events.push('ledger');
        return Promise.resolve({ recorded: true });
      },
    },
    performance: {
      record: () => {
        events.push('performance');
        return Promise.resolve();
      },
    },
    streams: {
      open: () => ({
        write: () => undefined,
        end: () => {
          events.push('stream end');
          return Promise.resolve();
        },
      }),
    },
  };
  const streaming: ModelProvider = {
    ...provider,
    stream: (request) => provider.generate(request),
  };
  for (const subject of [provider, streaming]) {
    events.length = 0;
    const result = await callModel(
      layer,
      subject,
      { messages: [{ role: 'user', text: 'hello' }] },
      {
        tenantId: 'acme',
        sessionId: 'ses_1',
        stepId: 'a',
        agent: 'code',
        activityId: '7',
        attempt: 1,
        execution: { workflowId: 'ses_1', runId: 'run-1', occurrences: new Map() },
      },
    );
    expect(result.text).toBe('the answer');
    await new Promise((resolve) => setImmediate(resolve));
    expect(events[0]).toBe('answer');
    expect(events[1]).toBe('result store write');
    expect(events.indexOf('result store write')).toBeLessThan(
      events.indexOf('next event-loop turn'),
    );
    expect(events).toContain('ledger');
  }
});

test('the DynamoDB result store (no sealer) sends its write synchronously when asked to store an answer', async () => {
  const sent: unknown[] = [];
  const documents = {
    send: (command: unknown) => {
      sent.push(command);
      return Promise.resolve({});
    },
  } as unknown as DynamoDBDocumentClient;
  const store = new DynamoModelResultStore(documents, 'model-results');
  const writing = store.put({
    callKey: 'ses_1#run-1#7#fp#1',
    response: answer,
    attempt: 1,
    storedAt: new Date().toISOString(),
  });
  // Nothing awaited before the request leaves: it is already sent when put() returns.
  expect(sent).toHaveLength(1);
  await writing;
});
