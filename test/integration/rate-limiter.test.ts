/**
 * The distributed rate limiter against a real, private Redis: exact request and token
 * budgets, settling, retry-after, the rolling window, key isolation and TTLs, and the
 * limit holding exactly across three worker processes (counted by a local HTTP server).
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:http';
import { type AddressInfo } from 'node:net';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import {
  RateLimitedError,
  RateLimiter,
  rateLimitKey,
  type RateLimit,
  type Reservation,
} from '../../models/resilience/rate-limiter';
import { REPO_ROOT } from '../../infra/stack/paths';
import {
  type RateLimitBurst,
  type RateLimitBurstResult,
  type RateLimitWorkerOptions,
} from '../support/rate-limit-worker';
import { startTestRedis, type TestRedis } from '../support/redis-server';

const KEY = rateLimitKey('bedrock', 'us.anthropic.claude-sonnet-4-20250514-v1:0');
const WORKER_SCRIPT = path.join(REPO_ROOT, 'test', 'support', 'rate-limit-worker.ts');

let server: TestRedis;
let redis: Redis;
let prefixes = 0;

beforeAll(async () => {
  server = await startTestRedis();
  redis = new Redis(server.url);
});

afterAll(async () => {
  redis?.disconnect();
  await server?.close();
});

/** A limiter for KEY under a prefix of its own, so tests never share budgets. */
function limiter(limit: RateLimit, windowMs?: number): { limiter: RateLimiter; keyPrefix: string } {
  const keyPrefix = `test-${++prefixes}:`;
  return {
    limiter: new RateLimiter({ redis, keyPrefix, windowMs, limits: { [KEY]: limit } }),
    keyPrefix,
  };
}

function reservationId(reservation: Reservation): string {
  if (!reservation.granted) throw new Error(`expected a grant, got ${JSON.stringify(reservation)}`);
  return reservation.reservationId;
}

test('requests per minute: a burst of 100 concurrent reservations grants exactly the limit', async () => {
  const { limiter: rateLimiter } = limiter({ requestsPerMinute: 10, tokensPerMinute: 1e6 });
  const outcomes = await Promise.all(
    Array.from({ length: 100 }, () => rateLimiter.reserve(KEY, { estimatedTokens: 1 })),
  );
  expect(outcomes.filter((outcome) => outcome.granted)).toHaveLength(10);
  for (const outcome of outcomes) {
    if (!outcome.granted) {
      expect(outcome.retryAfterMs).toBeGreaterThan(50_000);
      expect(outcome.retryAfterMs).toBeLessThanOrEqual(60_000);
    }
  }
});

test('tokens per minute: estimates are reserved against the token budget', async () => {
  const { limiter: rateLimiter } = limiter({ requestsPerMinute: 100, tokensPerMinute: 1000 });
  const granted = async (estimatedTokens: number) =>
    (await rateLimiter.reserve(KEY, { estimatedTokens })).granted;
  expect(await granted(400)).toBe(true);
  expect(await granted(400)).toBe(true);
  expect(await granted(400)).toBe(false);
  expect(await granted(200)).toBe(true);
  expect(await granted(1)).toBe(false);
  expect(await granted(0)).toBe(true);
});

test('settle replaces the estimate: down frees budget, up consumes it', async () => {
  const { limiter: rateLimiter } = limiter({ requestsPerMinute: 100, tokensPerMinute: 1000 });
  const first = reservationId(await rateLimiter.reserve(KEY, { estimatedTokens: 800 }));
  expect((await rateLimiter.reserve(KEY, { estimatedTokens: 300 })).granted).toBe(false);

  expect(await rateLimiter.settle(KEY, first, { actualTokens: 100 })).toBe(true);
  reservationId(await rateLimiter.reserve(KEY, { estimatedTokens: 300 })); // 400 used

  expect(await rateLimiter.settle(KEY, first, { actualTokens: 700 })).toBe(true); // 1000 used
  expect((await rateLimiter.reserve(KEY, { estimatedTokens: 1 })).granted).toBe(false);
});

test('settle is idempotent, and unknown reservations change nothing', async () => {
  const { limiter: rateLimiter, keyPrefix } = limiter({
    requestsPerMinute: 100,
    tokensPerMinute: 1000,
  });
  const first = reservationId(await rateLimiter.reserve(KEY, { estimatedTokens: 500 }));
  expect(await rateLimiter.settle(KEY, first, { actualTokens: 600 })).toBe(true);
  expect(await rateLimiter.settle(KEY, first, { actualTokens: 600 })).toBe(true);
  expect(await rateLimiter.settle(KEY, 'no-such-reservation', { actualTokens: 50 })).toBe(false);
  expect(await redis.get(`${keyPrefix}{${KEY}}:total`)).toBe('600');

  reservationId(await rateLimiter.reserve(KEY, { estimatedTokens: 400 }));
  expect((await rateLimiter.reserve(KEY, { estimatedTokens: 1 })).granted).toBe(false);
});

test('retryAfterMs is the time until the blocking reservation leaves the window', async () => {
  const { limiter: rateLimiter } = limiter({ requestsPerMinute: 3, tokensPerMinute: 100 }, 1000);
  const start = Date.now();
  reservationId(await rateLimiter.reserve(KEY, { estimatedTokens: 60 }));
  const firstGranted = Date.now();
  await sleep(300);
  reservationId(await rateLimiter.reserve(KEY, { estimatedTokens: 30 }));

  // 50 tokens fit only once the first reservation (60 tokens) has left the window.
  const asked = Date.now();
  const denied = await rateLimiter.reserve(KEY, { estimatedTokens: 50 });
  const answered = Date.now();
  if (denied.granted) throw new Error('expected a denial');
  expect(denied.retryAfterMs).toBeGreaterThanOrEqual(start + 1000 - answered - 1);
  expect(denied.retryAfterMs).toBeLessThanOrEqual(firstGranted + 1000 - asked + 1);

  await sleep(denied.retryAfterMs);
  reservationId(await rateLimiter.reserve(KEY, { estimatedTokens: 50 }));
});

test('the window rolls: requests and unsettled estimates leave with it', async () => {
  const { limiter: rateLimiter } = limiter({ requestsPerMinute: 3, tokensPerMinute: 300 }, 500);
  for (let index = 0; index < 3; index++) {
    reservationId(await rateLimiter.reserve(KEY, { estimatedTokens: 100 })); // never settled
  }
  expect((await rateLimiter.reserve(KEY, { estimatedTokens: 0 })).granted).toBe(false);
  await sleep(550);
  for (let index = 0; index < 3; index++) {
    reservationId(await rateLimiter.reserve(KEY, { estimatedTokens: 100 }));
  }
  expect((await rateLimiter.reserve(KEY, { estimatedTokens: 0 })).granted).toBe(false);
});

test('keys are isolated by provider/model and by prefix', async () => {
  const other = rateLimitKey('openai', 'gpt-4o');
  const limit = { requestsPerMinute: 1, tokensPerMinute: 100 };
  const rateLimiter = new RateLimiter({
    redis,
    keyPrefix: 'isolated-a:',
    limits: { [KEY]: limit, [other]: limit },
  });
  const otherPrefix = new RateLimiter({
    redis,
    keyPrefix: 'isolated-b:',
    limits: { [KEY]: limit },
  });

  reservationId(await rateLimiter.reserve(KEY, { estimatedTokens: 1 }));
  expect((await rateLimiter.reserve(KEY, { estimatedTokens: 1 })).granted).toBe(false);
  reservationId(await rateLimiter.reserve(other, { estimatedTokens: 1 }));
  reservationId(await otherPrefix.reserve(KEY, { estimatedTokens: 1 }));
});

test('every key expires with the window: nothing grows forever', async () => {
  const { limiter: rateLimiter, keyPrefix } = limiter(
    { requestsPerMinute: 5, tokensPerMinute: 100 },
    400,
  );
  const id = reservationId(await rateLimiter.reserve(KEY, { estimatedTokens: 10 }));
  await rateLimiter.settle(KEY, id, { actualTokens: 20 });
  const keys = await redis.keys(`${keyPrefix}*`);
  expect(keys.sort()).toEqual(
    ['log', 'tokens', 'total'].map((part) => `${keyPrefix}{${KEY}}:${part}`).sort(),
  );
  for (const key of keys) {
    const ttl = await redis.pttl(key);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(400);
  }
  await sleep(450);
  expect(await redis.keys(`${keyPrefix}*`)).toEqual([]);
});

test('reserveOrThrow throws a typed RateLimitedError naming provider and model', async () => {
  const { limiter: rateLimiter } = limiter({ requestsPerMinute: 1, tokensPerMinute: 100 });
  await rateLimiter.reserveOrThrow(KEY, { estimatedTokens: 1 });
  const error = await rateLimiter
    .reserveOrThrow(KEY, { estimatedTokens: 1 })
    .catch((caught: unknown) => caught);
  expect(error).toBeInstanceOf(RateLimitedError);
  expect(error).toMatchObject({
    name: 'RateLimitedError',
    provider: 'bedrock',
    model: 'us.anthropic.claude-sonnet-4-20250514-v1:0',
  });
  expect((error as RateLimitedError).retryAfterMs).toBeGreaterThan(0);
});

test('requests that could never be granted are rejected before Redis', async () => {
  const { limiter: rateLimiter } = limiter({ requestsPerMinute: 1, tokensPerMinute: 100 });
  await expect(rateLimiter.reserve('unknown:model', { estimatedTokens: 1 })).rejects.toThrow(
    'No rate limit configured for unknown:model',
  );
  await expect(rateLimiter.reserve(KEY, { estimatedTokens: 101 })).rejects.toThrow(RangeError);
  await expect(rateLimiter.reserve(KEY, { estimatedTokens: -1 })).rejects.toThrow(RangeError);
  await expect(rateLimiter.settle(KEY, 'id', { actualTokens: 1.5 })).rejects.toThrow(RangeError);
});

describe('three worker processes share one limit', () => {
  const REQUESTS_PER_MINUTE = 40;
  const ATTEMPTS = 100;
  let workers: WorkerProcess[] = [];

  beforeAll(async () => {
    const options: RateLimitWorkerOptions = {
      redisUrl: server.url,
      key: KEY,
      requestsPerMinute: REQUESTS_PER_MINUTE,
      attempts: ATTEMPTS,
      concurrency: 10,
    };
    workers = [1, 2, 3].map(() => startWorker(options));
    await Promise.all(workers.map((worker) => worker.ready));
  });

  afterAll(() => Promise.all(workers.map((worker) => worker.stop())));

  test.each([1, 2, 3])('run %i: exactly 40 calls reach the provider', async (run) => {
    let calls = 0;
    // A provider that takes 50 ms per call and reports 12 tokens used.
    const provider = createServer((_request, response) => {
      calls++;
      setTimeout(() => response.end('12'), 50);
    });
    provider.listen(0, '127.0.0.1');
    await once(provider, 'listening');
    const { port } = provider.address() as AddressInfo;
    try {
      const burst: RateLimitBurst = {
        keyPrefix: `processes-${run}:`,
        targetUrl: `http://127.0.0.1:${port}/`,
        startAt: Date.now() + 100,
      };
      const results = await Promise.all(workers.map((worker) => worker.burst(burst)));

      expect(calls).toBe(REQUESTS_PER_MINUTE);
      expect(results.reduce((sum, result) => sum + result.granted, 0)).toBe(REQUESTS_PER_MINUTE);
      expect(results.reduce((sum, result) => sum + result.denied, 0)).toBe(
        3 * ATTEMPTS - REQUESTS_PER_MINUTE,
      );
      // The processes really competed: each one's first 10 in flight fit in the budget.
      expect(results.map((result) => result.granted > 0)).toEqual([true, true, true]);
    } finally {
      provider.close();
    }
  });
});

interface WorkerProcess {
  ready: Promise<void>;
  burst(burst: RateLimitBurst): Promise<RateLimitBurstResult>;
  stop(): Promise<void>;
}

/** Starts test/support/rate-limit-worker.ts as its own Node process. */
function startWorker(options: RateLimitWorkerOptions): WorkerProcess {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', WORKER_SCRIPT, JSON.stringify(options)],
    { cwd: REPO_ROOT, stdio: ['pipe', 'pipe', 'pipe'] },
  );
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = once(child, 'exit').then(([code]) => {
    throw new Error(`rate-limit worker exited with ${String(code)}: ${stderr}`);
  });
  exited.catch(() => undefined); // reported through `ready` or `burst`, if they are waiting
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  const nextLine = async (): Promise<string> => {
    const line = await Promise.race([lines.next(), exited]);
    if (line.done) throw new Error(`rate-limit worker closed its output: ${stderr}`);
    return line.value;
  };
  return {
    ready: nextLine().then((line) => expect(line).toBe('ready')),
    async burst(burst) {
      child.stdin.write(`${JSON.stringify(burst)}\n`);
      return JSON.parse(await nextLine()) as RateLimitBurstResult;
    },
    async stop() {
      child.stdin.end();
      if (child.exitCode === null && child.signalCode === null) await once(child, 'exit');
    },
  };
}
