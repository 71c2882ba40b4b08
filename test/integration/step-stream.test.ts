/**
 * Live step text from the publisher to the API's SSE stream, against a real private Redis, the
 * real Temporal server (sessions started through the app, for ownership) and the real Hono app:
 * batching keeps order, a retried attempt never duplicates text, Last-Event-ID resumes without
 * repeats or gaps (over real HTTP), the stream ends once the session is terminal, and the
 * route's errors (bad Last-Event-ID, another tenant, no Redis).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Worker } from '@temporalio/worker';
import { Redis } from 'ioredis';
import { createStepStreamPublisher } from '../../activities/session/step-stream-publisher';
import { buildApi, startApiServer, type RunningApi } from '../../api/server';
import {
  applyStreamEvent,
  decodeStepStreamEvent,
  stepStreamKey,
  type StepStreamEvent,
  type StepStreamsState,
} from '../../core/session';
import { createLogger } from '../../runtime/logger';
import { startFakeBedrock, type FakeBedrock } from '../fakes/bedrock-converse-server';
import { startTestRedis, type TestRedis } from '../support/redis-server';
import { testApiConfig, testApiKeys, type TestApiKeys } from '../support/test-api';
import { createHarness, type Harness } from '../support/test-env';

let harness: Harness;
let bedrock: FakeBedrock;
let worker: Worker;
let running: Promise<void>;
let redisServer: TestRedis;
let redis: Redis;
let api: Awaited<ReturnType<typeof buildApi>>;
let apiWithoutRedis: Awaited<ReturnType<typeof buildApi>>;
let keys: TestApiKeys;
const sessionIds: string[] = [];

const logger = createLogger({ name: 'step-stream-test', level: 'silent' });

const token = (tenantId?: string, userId?: string) => keys.token(tenantId, userId);

beforeAll(async () => {
  redisServer = await startTestRedis();
  redis = new Redis(redisServer.url);
  harness = await createHarness('step-stream');
  keys = await testApiKeys(harness);
  bedrock = await startFakeBedrock();
  bedrock.setScript(() => ({ kind: 'text' }));
  worker = await harness.createWorker(bedrock);
  running = worker.run();
  api = await buildApi(testApiConfig(harness, keys, { REDIS_URL: redisServer.url }), logger);
  apiWithoutRedis = await buildApi(testApiConfig(harness, keys), logger);
});

afterAll(async () => {
  for (const sessionId of sessionIds) {
    await harness.client.workflow
      .getHandle(sessionId)
      .cancel()
      .catch(() => undefined);
  }
  worker?.shutdown();
  await running;
  await api?.close();
  await apiWithoutRedis?.close();
  await bedrock?.close();
  await harness?.close();
  redis?.disconnect();
  await redisServer?.close();
});

afterEach(async () => {
  for (const sessionId of sessionIds) await redis.del(stepStreamKey(sessionId));
});

/** A session of tenant `acme` started through the app; it waits for approval. */
async function startSession(): Promise<string> {
  const response = await api.app.request('/v1/sessions', {
    method: 'POST',
    headers: { authorization: `Bearer ${await token()}`, 'content-type': 'application/json' },
    body: JSON.stringify({ request: 'Implement the export', requireApproval: true }),
  });
  expect(response.status).toBe(201);
  const { sessionId } = (await response.json()) as { sessionId: string };
  sessionIds.push(sessionId);
  return sessionId;
}

interface SseEvent {
  event: string;
  id?: string;
  data: string;
}

/** Reads server-sent events from a response body, one at a time; comments are skipped. */
function sseReader(response: Response) {
  const reader: ReadableStreamDefaultReader<Uint8Array> = response.body!.getReader();
  const decoder = new TextDecoder();
  let pending = '';
  let finished = false;
  return {
    get finished() {
      return finished;
    },
    async next(timeoutMs = 15_000): Promise<SseEvent | undefined> {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const boundary = pending.indexOf('\n\n');
        if (boundary >= 0) {
          const block = pending.slice(0, boundary);
          pending = pending.slice(boundary + 2);
          const event: SseEvent = { event: 'message', data: '' };
          const data: string[] = [];
          for (const line of block.split('\n')) {
            if (line.startsWith(':')) continue;
            const [field, ...rest] = line.split(': ');
            const value = rest.join(': ');
            if (field === 'event') event.event = value;
            else if (field === 'id') event.id = value;
            else if (field === 'data') data.push(value);
          }
          if (data.length === 0 && event.event === 'message') continue;
          event.data = data.join('\n');
          return event;
        }
        if (Date.now() > deadline) throw new Error(`no event within ${timeoutMs} ms`);
        const timer = new AbortController();
        const chunk = await Promise.race([
          reader.read(),
          sleep(Math.max(1, deadline - Date.now()), 'timeout' as const, {
            signal: timer.signal,
          }).catch(() => 'timeout' as const),
        ]);
        timer.abort();
        if (chunk === 'timeout') continue;
        if (chunk.done) {
          finished = true;
          return undefined;
        }
        pending += decoder.decode(chunk.value, { stream: true });
      }
    },
    /** Events until one matches `stop` (included). */
    async until(stop: (event: SseEvent) => boolean): Promise<SseEvent[]> {
      const events: SseEvent[] = [];
      for (;;) {
        const event = await this.next();
        if (!event) throw new Error(`stream ended after ${JSON.stringify(events)}`);
        events.push(event);
        if (stop(event)) return events;
      }
    },
    cancel: () => reader.cancel(),
  };
}

async function openStream(
  sessionId: string,
  options: { token?: string; lastEventId?: string; query?: string } = {},
) {
  return api.app.request(`/v1/sessions/${sessionId}/stream${options.query ?? ''}`, {
    headers: {
      authorization: `Bearer ${options.token ?? (await token())}`,
      ...(options.lastEventId ? { 'last-event-id': options.lastEventId } : {}),
    },
  });
}

const stepEvents = (events: SseEvent[]): StepStreamEvent[] =>
  events.filter((event) => event.id).map((event) => JSON.parse(event.data) as StepStreamEvent);

const isEndOf = (stepId: string, attempt: number) => (event: SseEvent) => {
  if (event.event !== 'end') return false;
  const data = JSON.parse(event.data) as StepStreamEvent;
  return data.stepId === stepId && data.attempt === attempt;
};

async function streamEntries(sessionId: string) {
  const entries = await redis.xrange(stepStreamKey(sessionId), '-', '+');
  return entries.map(([id, fields]) => ({ id, event: decodeStepStreamEvent(fields)! }));
}

/** Writes `text` in pieces of 1–7 characters, pausing now and then so batches form. */
async function writeInPieces(write: (text: string) => void, text: string): Promise<void> {
  let index = 0;
  let piece = 0;
  while (index < text.length) {
    const size = 1 + (piece % 7);
    write(text.slice(index, index + size));
    index += size;
    piece += 1;
    if (piece % 40 === 0) await sleep(5);
  }
}

const ATTEMPT_1_TEXT = 'Step one: read the export spec. Step two: wri';
const ATTEMPT_2_TEXT = `Step one: read the export spec.\nStep two: write the CSV writer.\n${'Step three: test it. '.repeat(60)}`;

describe('the publisher', () => {
  test('batches deltas into few entries, in order, with contiguous offsets and an expiry', async () => {
    const sessionId = `ses_publisher_${Date.now()}`;
    sessionIds.push(sessionId);
    const publisher = createStepStreamPublisher({ redis, ttlSeconds: 600, flushChars: 256 });
    const writer = publisher.open({
      sessionId,
      stepId: 'draft',
      activityId: 'turn-1/draft',
      attempt: 1,
    });
    const pieces: string[] = [];
    await writeInPieces((text) => {
      pieces.push(text);
      writer.write(text);
    }, ATTEMPT_2_TEXT);
    await writer.end('completed');

    const entries = await streamEntries(sessionId);
    const events = entries.map((entry) => entry.event);
    expect(events[0]).toEqual({
      type: 'attempt',
      stepId: 'draft',
      activityId: 'turn-1/draft',
      attempt: 1,
    });
    expect(events.at(-1)).toEqual({
      type: 'end',
      stepId: 'draft',
      attempt: 1,
      outcome: 'completed',
      chars: ATTEMPT_2_TEXT.length,
    });
    const deltas = events.filter((event) => event.type === 'delta');
    expect(deltas.length).toBeGreaterThan(1);
    expect(deltas.length).toBeLessThan(pieces.length / 10);
    let offset = 0;
    for (const delta of deltas) {
      expect(delta.offset).toBe(offset);
      offset += delta.text.length;
    }
    expect(deltas.map((delta) => delta.text).join('')).toBe(ATTEMPT_2_TEXT);
    const ttl = await redis.ttl(stepStreamKey(sessionId));
    expect(ttl).toBeGreaterThan(500);
    expect(ttl).toBeLessThanOrEqual(600);
  });

  test('a Redis failure is swallowed and reported, and end still resolves', async () => {
    const broken = new Redis(redisServer.url, { lazyConnect: true, maxRetriesPerRequest: 0 });
    broken.disconnect();
    const errors: unknown[] = [];
    const writer = createStepStreamPublisher({
      redis: broken,
      endTimeoutMs: 500,
      onError: (error) => errors.push(error),
    }).open({ sessionId: 'ses_broken', stepId: 'draft', activityId: 'turn-1/draft', attempt: 1 });
    writer.write('text');
    await expect(writer.end('failed', 'boom')).resolves.toBeUndefined();
    expect(errors.length).toBeGreaterThan(0);
  });
});

describe('GET /v1/sessions/:id/stream', () => {
  test('a retried step: a live client assembles exactly the final attempt’s text', async () => {
    const sessionId = await startSession();
    const response = await openStream(sessionId);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const client = sseReader(response);

    const publisher = createStepStreamPublisher({ redis });
    const first = publisher.open({
      sessionId,
      stepId: 'draft',
      activityId: 'turn-1/draft',
      attempt: 1,
    });
    await writeInPieces((text) => first.write(text), ATTEMPT_1_TEXT);
    await first.end('incomplete', 'the model stream ended without its final event');
    const second = publisher.open({
      sessionId,
      stepId: 'draft',
      activityId: 'turn-1/draft',
      attempt: 2,
    });
    await writeInPieces((text) => second.write(text), ATTEMPT_2_TEXT);
    await second.end('completed');

    const events = await client.until(isEndOf('draft', 2));
    await client.cancel();
    for (const event of events) {
      expect(event.id).toMatch(/^\d+-\d+$/);
      expect(JSON.parse(event.data)).toMatchObject({ type: event.event });
    }
    const received = stepEvents(events);
    expect(received.filter((event) => event.type === 'end')).toEqual([
      expect.objectContaining({ attempt: 1, outcome: 'incomplete', chars: ATTEMPT_1_TEXT.length }),
      expect.objectContaining({ attempt: 2, outcome: 'completed', chars: ATTEMPT_2_TEXT.length }),
    ]);
    const state = received.reduce<StepStreamsState>(applyStreamEvent, {});
    expect(state.draft).toMatchObject({ attempt: 2, done: true, outcome: 'completed' });
    expect(state.draft?.text).toBe(ATTEMPT_2_TEXT);
    // Every entry of the stream reached the client, in the stream's order.
    expect(events.map((event) => event.id)).toEqual(
      (await streamEntries(sessionId)).map((entry) => entry.id),
    );
  });

  test('?step= keeps one step’s events', async () => {
    const sessionId = await startSession();
    const publisher = createStepStreamPublisher({ redis });
    for (const stepId of ['draft', 'review']) {
      const writer = publisher.open({
        sessionId,
        stepId,
        activityId: `turn-1/${stepId}`,
        attempt: 1,
      });
      writer.write(`text of ${stepId}`);
      await writer.end('completed');
    }
    const client = sseReader(await openStream(sessionId, { query: '?step=review' }));
    const events = await client.until(isEndOf('review', 1));
    await client.cancel();
    expect(stepEvents(events).map((event) => [event.type, event.stepId])).toEqual([
      ['attempt', 'review'],
      ['delta', 'review'],
      ['end', 'review'],
    ]);
  });

  test('ends with session-end once the session is terminal, after every entry', async () => {
    const sessionId = await startSession();
    const writer = createStepStreamPublisher({ redis }).open({
      sessionId,
      stepId: 'draft',
      activityId: 'turn-1/draft',
      attempt: 1,
    });
    writer.write('partial');
    await writer.end('failed', 'cancelled');
    const cancelled = await api.app.request(`/v1/sessions/${sessionId}/cancel`, {
      method: 'POST',
      headers: { authorization: `Bearer ${await token()}` },
    });
    expect(cancelled.status).toBe(202);
    await harness.client.workflow
      .getHandle(sessionId)
      .result()
      .catch(() => undefined);

    const client = sseReader(await openStream(sessionId));
    const events = await client.until((event) => event.event === 'session-end');
    expect(events.map((event) => event.event)).toEqual(['attempt', 'delta', 'end', 'session-end']);
    expect(JSON.parse(events.at(-1)!.data)).toMatchObject({ phase: 'cancelled' });
    expect(await client.next()).toBeUndefined();
    expect(client.finished).toBe(true);
  });

  test('a waiting client gets session-end when the session ends while it follows', async () => {
    const sessionId = await startSession();
    const client = sseReader(await openStream(sessionId));
    await sleep(200);
    const cancelled = await api.app.request(`/v1/sessions/${sessionId}/cancel`, {
      method: 'POST',
      headers: { authorization: `Bearer ${await token()}` },
    });
    expect(cancelled.status).toBe(202);
    // The blocked read times out within 5 s; the status check then sees the terminal phase.
    const event = await client.next(12_000);
    expect(event).toMatchObject({ event: 'session-end' });
    expect(JSON.parse(event!.data)).toMatchObject({ phase: 'cancelled' });
    expect(await client.next()).toBeUndefined();
  });

  test('errors: bad Last-Event-ID → 400, another tenant or unknown session → 404, no Redis → 404', async () => {
    const sessionId = await startSession();
    const bad = await openStream(sessionId, { lastEventId: 'yesterday' });
    expect(bad.status).toBe(400);
    expect(bad.headers.get('content-type')).toBe('application/problem+json');
    expect(await bad.json()).toMatchObject({
      status: 400,
      detail: expect.stringMatching(/Last-Event-ID/),
    });

    const foreign = await openStream(sessionId, { token: await token('globex', 'eve') });
    expect(foreign.status).toBe(404);
    expect(await foreign.json()).toMatchObject({ status: 404, detail: 'no such session' });
    const unknown = await openStream('ses_01M86WJPP9RGC4HN5MVG19H74Z');
    expect(unknown.status).toBe(404);

    const unauthenticated = await api.app.request(`/v1/sessions/${sessionId}/stream`);
    expect(unauthenticated.status).toBe(401);

    const unconfigured = await apiWithoutRedis.app.request(`/v1/sessions/${sessionId}/stream`, {
      headers: { authorization: `Bearer ${await token()}` },
    });
    expect(unconfigured.status).toBe(404);
    expect(await unconfigured.json()).toMatchObject({ detail: 'streaming not configured' });
  });
});

describe('over real HTTP', () => {
  let server: RunningApi;

  beforeAll(async () => {
    server = await startApiServer(
      testApiConfig(harness, keys, { REDIS_URL: redisServer.url }),
      logger,
    );
  });
  afterAll(async () => {
    await server?.close();
  });

  test('a reconnect with Last-Event-ID resumes with no repeated and no missing events', async () => {
    const sessionId = await startSession();
    const publisher = createStepStreamPublisher({ redis, flushChars: 64 });
    const first = publisher.open({
      sessionId,
      stepId: 'draft',
      activityId: 'turn-1/draft',
      attempt: 1,
    });
    await writeInPieces((text) => first.write(text), ATTEMPT_1_TEXT);
    await first.end('incomplete');
    const clientsBefore = await connectedClients();

    const url = `${server.url}/v1/sessions/${sessionId}/stream`;
    const authorization = `Bearer ${await token()}`;
    const firstConnection = new AbortController();
    const firstClient = sseReader(
      await fetch(url, { headers: { authorization }, signal: firstConnection.signal }),
    );
    const seen = [(await firstClient.next())!, (await firstClient.next())!];
    expect(await connectedClients()).toBe(clientsBefore + 1);
    firstConnection.abort();
    // The client's own Redis connection closes when it goes away.
    await waitUntil(async () => (await connectedClients()) === clientsBefore);

    const second = publisher.open({
      sessionId,
      stepId: 'draft',
      activityId: 'turn-1/draft',
      attempt: 2,
    });
    const resumed = sseReader(
      await fetch(url, { headers: { authorization, 'last-event-id': seen.at(-1)!.id! } }),
    );
    await writeInPieces((text) => second.write(text), ATTEMPT_2_TEXT);
    await second.end('completed');
    const rest = await resumed.until(isEndOf('draft', 2));
    await resumed.cancel();

    const all = await streamEntries(sessionId);
    expect([...seen, ...rest].map((event) => event.id)).toEqual(all.map((entry) => entry.id));
    const state = stepEvents([...seen, ...rest]).reduce<StepStreamsState>(applyStreamEvent, {});
    expect(state.draft?.text).toBe(ATTEMPT_2_TEXT);
  });
});

async function connectedClients(): Promise<number> {
  const list = await redis.client('LIST');
  return String(list).trim().split('\n').length;
}

async function waitUntil(condition: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('condition never held');
    await sleep(50);
  }
}
