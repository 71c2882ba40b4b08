/**
 * The shared circuit breaker against a real, private Redis: opening at K failures in the
 * sliding window, rejection while open, exactly one half-open probe among concurrent callers
 * on several connections, probe success / failure / expiry, key isolation, and the breaker
 * holding across three worker processes (calls counted by a local "dead provider" server).
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
  CircuitBreaker,
  CircuitOpenError,
  type CircuitBreakerOptions,
  type CircuitDecision,
  type CircuitPermit,
  type CircuitState,
} from '../../models/resilience/circuit-breaker';
import { REPO_ROOT } from '../../infra/stack/paths';
import {
  type CircuitBreakerWorkerOptions,
  type CircuitBreakerWorkerResult,
} from '../support/circuit-breaker-worker';
import { startTestRedis, type TestRedis } from '../support/redis-server';

const TARGET = { provider: 'bedrock', model: 'us.anthropic.claude-sonnet-4-20250514-v1:0' };
const WORKER_SCRIPT = path.join(REPO_ROOT, 'test', 'support', 'circuit-breaker-worker.ts');

let server: TestRedis;
/** Three connections, standing in for three workers' clients. */
let connections: Redis[];
let prefixes = 0;

beforeAll(async () => {
  server = await startTestRedis();
  connections = [1, 2, 3].map(() => new Redis(server.url));
});

afterAll(async () => {
  for (const connection of connections ?? []) connection.disconnect();
  await server?.close();
});

type Settings = Omit<CircuitBreakerOptions, 'redis' | 'keyPrefix'>;
const FAST: Settings = {
  failureThreshold: 3,
  windowMs: 1000,
  cooldownMs: 150,
  probeTimeoutMs: 1000,
};

/** One breaker per connection, all under a key prefix of their own (tests never share state). */
function breakers(settings: Settings = {}): [CircuitBreaker, CircuitBreaker, CircuitBreaker] {
  const keyPrefix = `test-${++prefixes}:`;
  const [a, b, c] = connections.map(
    (redis) => new CircuitBreaker({ redis, keyPrefix, ...FAST, ...settings }),
  );
  return [a!, b!, c!];
}

function permitOf(decision: CircuitDecision): CircuitPermit {
  if (!decision.allowed) throw new Error(`expected a permit, got ${JSON.stringify(decision)}`);
  return decision;
}

const ORDINARY: CircuitPermit = { allowed: true, probe: false };

async function open(breaker: CircuitBreaker, failures = FAST.failureThreshold!): Promise<void> {
  for (let index = 1; index <= failures; index++) {
    expect(await breaker.recordFailure(TARGET, ORDINARY)).toBe(index === failures);
  }
}

/** Polls `state` until it matches; no fixed sleeps. */
async function waitForState(
  breaker: CircuitBreaker,
  expected: Partial<CircuitState>,
  timeoutMs = 3000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const state = await breaker.state(TARGET);
    if (
      Object.entries(expected).every(([name, value]) => state[name as keyof CircuitState] === value)
    ) {
      return;
    }
    if (Date.now() > deadline) throw new Error(`still ${JSON.stringify(state)}`);
    await sleep(5);
  }
}

test('opens at the K-th failure within the window', async () => {
  const [breaker] = breakers();
  expect(await breaker.state(TARGET)).toEqual({ state: 'closed', failures: 0 });
  await breaker.recordFailure(TARGET, ORDINARY);
  await breaker.recordFailure(TARGET, ORDINARY);
  expect(await breaker.state(TARGET)).toEqual({ state: 'closed', failures: 2 });
  expect(await breaker.acquire(TARGET)).toEqual({ allowed: true, probe: false });

  expect(await breaker.recordFailure(TARGET, ORDINARY)).toBe(true);
  expect((await breaker.state(TARGET)).state).toBe('open');
  expect((await breaker.acquire(TARGET)).allowed).toBe(false);
});

test('concurrent failures from three connections open it exactly once', async () => {
  const all = breakers({ failureThreshold: 5 });
  const opened = await Promise.all(
    Array.from({ length: 12 }, (_, index) => all[index % 3]!.recordFailure(TARGET, ORDINARY)),
  );
  expect(opened.filter(Boolean)).toHaveLength(1);
  expect((await all[0].state(TARGET)).state).toBe('open');
});

test('failures that left the window do not accumulate', async () => {
  const [breaker] = breakers({ windowMs: 250 });
  await breaker.recordFailure(TARGET, ORDINARY);
  await breaker.recordFailure(TARGET, ORDINARY);
  await waitForState(breaker, { state: 'closed', failures: 0 });

  expect(await breaker.recordFailure(TARGET, ORDINARY)).toBe(false);
  expect(await breaker.recordFailure(TARGET, ORDINARY)).toBe(false);
  expect(await breaker.state(TARGET)).toEqual({ state: 'closed', failures: 2 });
  expect(await breaker.recordFailure(TARGET, ORDINARY)).toBe(true);
});

test('an ordinary success does not reset the window: it counts failures, not streaks', async () => {
  const [breaker] = breakers();
  await breaker.recordFailure(TARGET, ORDINARY);
  await breaker.recordFailure(TARGET, ORDINARY);
  expect(await breaker.recordSuccess(TARGET, ORDINARY)).toBe(false);
  expect(await breaker.recordFailure(TARGET, ORDINARY)).toBe(true);
});

test('rejects while open with the cooldown left, and throws a typed CircuitOpenError', async () => {
  const [breaker] = breakers({ cooldownMs: 5000 });
  await open(breaker);

  const rejected = await breaker.acquire(TARGET);
  if (rejected.allowed) throw new Error('expected a rejection');
  expect(rejected.retryAfterMs).toBeGreaterThan(4000);
  expect(rejected.retryAfterMs).toBeLessThanOrEqual(5000);

  const error = await breaker.acquireOrThrow(TARGET).catch((caught: unknown) => caught);
  expect(error).toBeInstanceOf(CircuitOpenError);
  expect(error).toMatchObject({ name: 'CircuitOpenError', ...TARGET });
  expect((error as CircuitOpenError).retryAfterMs).toBeGreaterThan(0);
  expect((error as CircuitOpenError).retryAfterMs).toBeLessThanOrEqual(rejected.retryAfterMs);

  // Late results of calls admitted before it opened change nothing (no longer cooldown).
  expect(await breaker.recordFailure(TARGET, ORDINARY)).toBe(false);
  expect(await breaker.recordSuccess(TARGET, ORDINARY)).toBe(false);
  const state = await breaker.state(TARGET);
  expect(state).toMatchObject({ state: 'open' });
  expect((state as { retryAfterMs: number }).retryAfterMs).toBeLessThanOrEqual(
    rejected.retryAfterMs,
  );
});

test('after the cooldown exactly one of 50 concurrent callers on 3 connections gets the probe', async () => {
  const all = breakers();
  await open(all[0]);
  await waitForState(all[0], { state: 'half-open', probeInFlight: false });

  const decisions = await Promise.all(
    Array.from({ length: 50 }, (_, index) => all[index % 3]!.acquire(TARGET)),
  );
  expect(decisions.filter((decision) => decision.allowed)).toEqual([
    { allowed: true, probe: true, probeId: expect.any(String) },
  ]);
  for (const decision of decisions) {
    if (decision.allowed) continue;
    expect(decision.retryAfterMs).toBeGreaterThan(0);
    expect(decision.retryAfterMs).toBeLessThanOrEqual(FAST.probeTimeoutMs!);
  }
  expect(await all[1].state(TARGET)).toEqual({ state: 'half-open', probeInFlight: true });
});

test('a successful probe closes the breaker and clears its failures', async () => {
  const [breaker, other] = breakers();
  await open(breaker);
  await waitForState(breaker, { state: 'half-open' });
  const probe = permitOf(await other.acquire(TARGET));
  expect(probe.probe).toBe(true);

  expect(await other.recordSuccess(TARGET, probe)).toBe(true);
  expect(await breaker.state(TARGET)).toEqual({ state: 'closed', failures: 0 });
  expect(await breaker.acquire(TARGET)).toEqual({ allowed: true, probe: false });
  expect(await other.recordSuccess(TARGET, probe)).toBe(false); // already closed
  await open(breaker); // a full K failures again
});

test('a released probe permit (its call was never made) lets the next caller probe at once', async () => {
  const [breaker, other] = breakers({ probeTimeoutMs: 60_000 });
  await open(breaker);
  await waitForState(breaker, { state: 'half-open' });
  const probe = permitOf(await breaker.acquire(TARGET));
  expect(probe.probe).toBe(true);
  expect((await other.acquire(TARGET)).allowed).toBe(false);

  expect(await breaker.release(TARGET, probe)).toBe(true);
  expect(await breaker.release(TARGET, probe)).toBe(false); // already given back
  expect(await breaker.release(TARGET, ORDINARY)).toBe(false); // nothing to give back
  const next = permitOf(await other.acquire(TARGET));
  expect(next.probe).toBe(true);
  // The old permit cannot close it any more; the new probe can.
  expect(await breaker.recordSuccess(TARGET, probe)).toBe(false);
  expect(await other.recordSuccess(TARGET, next)).toBe(true);
  expect(await breaker.state(TARGET)).toEqual({ state: 'closed', failures: 0 });
});

test('a failed probe opens the breaker for another cooldown', async () => {
  const [breaker] = breakers({ cooldownMs: 300 });
  await open(breaker);
  await waitForState(breaker, { state: 'half-open' });
  const probe = permitOf(await breaker.acquire(TARGET));

  expect(await breaker.recordFailure(TARGET, probe)).toBe(true);
  const rejected = await breaker.acquire(TARGET);
  if (rejected.allowed) throw new Error('expected a rejection');
  expect(rejected.retryAfterMs).toBeGreaterThan(150);
  expect(rejected.retryAfterMs).toBeLessThanOrEqual(300);
  expect(await breaker.recordFailure(TARGET, probe)).toBe(false); // reported twice: once only

  await waitForState(breaker, { state: 'half-open' });
  expect(permitOf(await breaker.acquire(TARGET)).probe).toBe(true);
});

test('an expired probe permit lets the next caller probe; the stale result is then ignored', async () => {
  const [breaker, other] = breakers({ probeTimeoutMs: 250 });
  await open(breaker);
  await waitForState(breaker, { state: 'half-open' });
  const stale = permitOf(await breaker.acquire(TARGET)); // this prober "crashes"
  expect(stale.probe).toBe(true);
  expect((await other.acquire(TARGET)).allowed).toBe(false);

  await waitForState(breaker, { state: 'half-open', probeInFlight: false });
  const fresh = permitOf(await other.acquire(TARGET));
  expect(fresh.probe).toBe(true);
  expect(await breaker.recordSuccess(TARGET, stale)).toBe(false);
  expect(await breaker.recordFailure(TARGET, stale)).toBe(false);
  expect(await breaker.state(TARGET)).toEqual({ state: 'half-open', probeInFlight: true });

  expect(await other.recordSuccess(TARGET, fresh)).toBe(true);
  expect((await breaker.state(TARGET)).state).toBe('closed');
});

test('a late probe result still counts while no newer probe was issued', async () => {
  const [breaker] = breakers({ probeTimeoutMs: 100 });
  await open(breaker);
  await waitForState(breaker, { state: 'half-open' });
  const probe = permitOf(await breaker.acquire(TARGET));
  await waitForState(breaker, { state: 'half-open', probeInFlight: false });

  expect(await breaker.recordFailure(TARGET, probe)).toBe(true);
  expect((await breaker.state(TARGET)).state).toBe('open');
});

test('breakers are isolated per provider × model', async () => {
  const [breaker] = breakers();
  await open(breaker);
  for (const other of [
    { provider: 'bedrock', model: 'us.anthropic.claude-3-5-haiku-20241022-v1:0' },
    { provider: 'anthropic', model: TARGET.model },
  ]) {
    expect(await breaker.acquire(other)).toEqual({ allowed: true, probe: false });
    expect(await breaker.state(other)).toEqual({ state: 'closed', failures: 0 });
  }
  expect((await breaker.acquire(TARGET)).allowed).toBe(false);
  await expect(breaker.acquire({ provider: 'a:b', model: 'c' })).rejects.toThrow(RangeError);
});

test('three worker processes: after it opens only one probe per cooldown reaches the provider', async () => {
  const failureThreshold = 5;
  const cooldownMs = 200;
  const processes = 3;
  const concurrency = 4;

  const probeArrivals: number[] = [];
  let ordinaryCalls = 0;
  let probesInFlight = 0;
  let maxProbesInFlight = 0;
  const provider = createServer((request, response) => {
    const probe = request.headers['x-probe'] === 'true';
    if (probe) {
      probeArrivals.push(Date.now());
      maxProbesInFlight = Math.max(maxProbesInFlight, ++probesInFlight);
    } else {
      ordinaryCalls++;
    }
    setTimeout(() => {
      if (probe) probesInFlight--;
      response.writeHead(503).end('ServiceUnavailableException');
    }, 10);
  });
  provider.listen(0, '127.0.0.1');
  await once(provider, 'listening');
  const { port } = provider.address() as AddressInfo;
  try {
    const options: CircuitBreakerWorkerOptions = {
      redisUrl: server.url,
      keyPrefix: 'processes:',
      ...TARGET,
      failureThreshold,
      windowMs: 10_000,
      cooldownMs,
      probeTimeoutMs: 5000,
      concurrency,
      durationMs: 1200,
      targetUrl: `http://127.0.0.1:${port}/model/invoke`,
    };
    const workers = Array.from({ length: processes }, () => startWorker(options));
    await Promise.all(workers.map((worker) => worker.ready));
    const started = Date.now();
    for (const worker of workers) worker.go();
    const results = await Promise.all(workers.map((worker) => worker.result));
    const elapsedMs = Date.now() - started;

    const allowed = results.reduce((sum, result) => sum + result.allowed, 0);
    const probes = results.reduce((sum, result) => sum + result.probes, 0);
    expect(ordinaryCalls).toBe(allowed);
    expect(probeArrivals).toHaveLength(probes);
    // Before it opens: K failures, plus at most one call in flight per other loop.
    expect(allowed).toBeGreaterThanOrEqual(failureThreshold);
    expect(allowed).toBeLessThanOrEqual(failureThreshold + processes * concurrency - 1);
    // After: one probe at a time, each at least a cooldown after the previous one failed.
    expect(maxProbesInFlight).toBe(1);
    expect(probes).toBeGreaterThanOrEqual(2);
    expect(probes).toBeLessThanOrEqual(Math.floor(elapsedMs / cooldownMs));
    for (let index = 1; index < probeArrivals.length; index++) {
      expect(probeArrivals[index]! - probeArrivals[index - 1]!).toBeGreaterThanOrEqual(cooldownMs);
    }
    expect(results.every((result) => result.rejected > 0)).toBe(true);
  } finally {
    provider.close();
  }
});

interface WorkerProcess {
  ready: Promise<void>;
  go(): void;
  result: Promise<CircuitBreakerWorkerResult>;
}

/** Starts test/support/circuit-breaker-worker.ts as its own Node process. */
function startWorker(options: CircuitBreakerWorkerOptions): WorkerProcess {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', WORKER_SCRIPT, JSON.stringify(options)],
    { cwd: REPO_ROOT, stdio: ['pipe', 'pipe', 'pipe'] },
  );
  const lines: string[] = [];
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const ready = new Promise<void>((resolve) =>
    createInterface({ input: child.stdout }).on('line', (line) => {
      lines.push(line);
      if (line === 'ready') resolve();
    }),
  );
  const result = once(child, 'close').then(([code]) => {
    const last = lines.at(-1);
    if (code !== 0 || !last) throw new Error(`worker exited with ${String(code)}: ${stderr}`);
    return JSON.parse(last) as CircuitBreakerWorkerResult;
  });
  return {
    // A worker that dies before it is ready fails the test instead of hanging it.
    ready: Promise.race([
      ready,
      result.then(() => Promise.reject(new Error(`worker exited early: ${stderr}`))),
    ]),
    go: () => child.stdin.write('go\n'),
    result,
  };
}
