/**
 * Status-change notices from the session workflow to the API's SSE followers, against a real
 * private Redis, the real Temporal server and the real API over HTTP. The API polls only every
 * 60 s here, so a follower that sees a change within seconds saw it through a notice (worker
 * sink → Redis pub/sub → the API's watcher). Also: a burst of notices leaves as one per
 * session, a steady stream leaves in batches at most every 25 ms, and what is not a notice on
 * the channel is ignored.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Worker } from '@temporalio/worker';
import { Redis } from 'ioredis';
import { startApiServer, type RunningApi } from '../../api/server';
import { ApiClient } from '../../cli/api-client';
import {
  SESSION_CHANGES_CHANNEL,
  type SessionChange,
  type SessionStatus,
} from '../../core/session';
import { createLogger } from '../../runtime/logger';
import {
  createSessionChangePublisher,
  subscribeSessionChanges,
} from '../../runtime/session-changes';
import { startFakeBedrock, type FakeBedrock } from '../fakes/bedrock-converse-server';
import { startTestRedis, type TestRedis } from '../support/redis-server';
import { testApiConfig, testApiKeys, type TestApiKeys } from '../support/test-api';
import { createHarness, type Harness } from '../support/test-env';

const POLL_INTERVAL_MS = 60_000;

let harness: Harness;
let bedrock: FakeBedrock;
let worker: Worker;
let running: Promise<void>;
let redisServer: TestRedis;
let redis: Redis;
let api: RunningApi;
let keys: TestApiKeys;
const publishErrors: unknown[] = [];

const logger = createLogger({ name: 'session-change-notices-test', level: 'silent' });

beforeAll(async () => {
  redisServer = await startTestRedis();
  redis = new Redis(redisServer.url);
  harness = await createHarness('change-notices');
  keys = await testApiKeys(harness);
  bedrock = await startFakeBedrock();
  bedrock.setScript(() => ({ kind: 'text', delayMs: 200 }));
  worker = await harness.createWorker(
    bedrock,
    {},
    {
      sessionChanges: createSessionChangePublisher(redis, (error) => publishErrors.push(error)),
    },
  );
  running = worker.run();
  api = await startApiServer(
    testApiConfig(harness, keys, {
      REDIS_URL: redisServer.url,
      SSE_POLL_INTERVAL_MS: String(POLL_INTERVAL_MS),
      SSE_NOTICE_POLL_INTERVAL_MS: String(POLL_INTERVAL_MS),
    }),
    logger,
  );
});

afterAll(async () => {
  worker?.shutdown();
  await running;
  await api?.close();
  await bedrock?.close();
  await harness?.close();
  redis?.disconnect();
  await redisServer?.close();
});

/** Waits until the API process is subscribed to the notice channel. */
async function subscribed(count = 1): Promise<void> {
  for (let waited = 0; waited < 10_000; waited += 20) {
    const [, subscribers] = (await redis.pubsub('NUMSUB', SESSION_CHANGES_CHANNEL)) as [
      string,
      number,
    ];
    if (subscribers >= count) return;
    await sleep(20);
  }
  throw new Error(`no ${count} subscriber(s) on ${SESSION_CHANGES_CHANNEL}`);
}

test('with a 60 s poll, a follower still sees every change of the session within seconds', async () => {
  await subscribed();
  const client = new ApiClient(api.url, await keys.token());
  const { sessionId } = await client.request<{ sessionId: string }>('POST', '/v1/sessions', {
    request: 'Implement the CSV export with tests',
    requireApproval: true,
  });
  const arrivals: { status: SessionStatus; at: number }[] = [];
  let approvedAt = 0;
  const followed = (async () => {
    for await (const status of client.events(sessionId)) {
      arrivals.push({ status, at: performance.now() });
      if (status.phase === 'awaiting_approval' && approvedAt === 0) {
        approvedAt = performance.now();
        await client.request('POST', `/v1/sessions/${sessionId}/signals/approve`, {
          approved: true,
        });
      }
    }
  })();
  // The whole session, approval included, takes seconds; polling alone would show none of it
  // before 60 s.
  await Promise.race([
    followed,
    sleep(30_000).then(() => {
      throw new Error(`stream still open; saw ${arrivals.map((a) => a.status.phase).join(', ')}`);
    }),
  ]);
  const phases = arrivals.map((arrival) => arrival.status.phase);
  expect(phases).toEqual(expect.arrayContaining(['awaiting_approval', 'running']));
  expect(phases.at(-1)).toBe('completed');
  const versions = arrivals.map((arrival) => arrival.status.version);
  expect(versions).toEqual([...new Set(versions)].sort((left, right) => left - right));
  // The first change after the approval reached the follower well before any poll.
  const afterApproval = arrivals.find(
    (arrival) => arrival.at > approvedAt && arrival.status.phase !== 'awaiting_approval',
  );
  expect(afterApproval).toBeDefined();
  expect(afterApproval!.at - approvedAt).toBeLessThan(5_000);
  expect(publishErrors).toEqual([]);
});

test('a burst of notices leaves as one per session with its newest version; junk is ignored', async () => {
  const heard: SessionChange[] = [];
  const errors: unknown[] = [];
  const subscription = subscribeSessionChanges(
    redis,
    (change) => heard.push(change),
    (error) => errors.push(error),
  );
  try {
    // The API's subscription and this one.
    await subscribed(2);
    await redis.publish(SESSION_CHANGES_CHANNEL, 'not json');
    await redis.publish(SESSION_CHANGES_CHANNEL, JSON.stringify({ t: 'acme', s: 'x', v: -1 }));
    await redis.publish(SESSION_CHANGES_CHANNEL, JSON.stringify({ t: '', s: 'x', v: 1 }));
    const publisher = createSessionChangePublisher(redis, (error) => errors.push(error));
    for (let version = 1; version <= 100; version += 1) {
      publisher.changed({ tenantId: 'acme', sessionId: 'ses_burst', version });
    }
    publisher.changed({ tenantId: 'globex', sessionId: 'ses_burst', version: 3 });
    for (let waited = 0; heard.length < 2 && waited < 5_000; waited += 10) await sleep(10);
    // Anything else published would have arrived by now (same connection, in order).
    await redis.publish(SESSION_CHANGES_CHANNEL, JSON.stringify({ t: 'acme', s: 'end', v: 1 }));
    for (let waited = 0; heard.length < 3 && waited < 5_000; waited += 10) await sleep(10);
    expect(heard).toEqual([
      { tenantId: 'acme', sessionId: 'ses_burst', version: 100 },
      { tenantId: 'globex', sessionId: 'ses_burst', version: 3 },
      { tenantId: 'acme', sessionId: 'end', version: 1 },
    ]);
    expect(errors).toEqual([]);
  } finally {
    subscription.close();
  }
});

test('a steady stream of changes leaves in batches at most every 25 ms, ending on the newest version', async () => {
  const heard: SessionChange[] = [];
  const subscription = subscribeSessionChanges(
    redis,
    (change) => heard.push(change),
    () => undefined,
  );
  try {
    await subscribed(2);
    const publisher = createSessionChangePublisher(redis, () => undefined);
    const started = performance.now();
    let version = 0;
    while (performance.now() - started < 250) {
      version += 1;
      publisher.changed({ tenantId: 'acme', sessionId: 'ses_stream', version });
      await sleep(2);
    }
    for (let waited = 0; heard.at(-1)?.version !== version && waited < 5_000; waited += 10) {
      await sleep(10);
    }
    expect(version).toBeGreaterThan(50);
    // 250 ms at one batch per 25 ms at most, plus the first one at once.
    expect(heard.length).toBeLessThanOrEqual(12);
    expect(heard.length).toBeGreaterThanOrEqual(2);
    expect(heard.at(-1)).toEqual({ tenantId: 'acme', sessionId: 'ses_stream', version });
    const versions = heard.map((change) => change.version);
    expect(versions).toEqual([...versions].sort((left, right) => left - right));
  } finally {
    subscription.close();
  }
});
