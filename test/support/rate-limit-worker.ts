/**
 * One "worker process" for the distributed rate-limit test, started as
 * `node --import tsx rate-limit-worker.ts '<json RateLimitWorkerOptions>'`. It connects to
 * Redis and prints `ready`. Each line it then reads on stdin (a JSON `RateLimitBurst`) starts
 * a burst at `startAt`: `attempts` reservations, `concurrency` at a time, as fast as they
 * come back, the target HTTP server called once per granted one. It answers each burst with a line `{"granted":n,"denied":m}`, and exits when stdin
 * closes.
 */
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { RateLimiter } from '../../models/resilience/rate-limiter';

export interface RateLimitWorkerOptions {
  redisUrl: string;
  key: string;
  requestsPerMinute: number;
  attempts: number;
  /** Reservations each process keeps in flight. */
  concurrency: number;
}

export interface RateLimitBurst {
  /** A fresh prefix per burst, so bursts never share a budget. */
  keyPrefix: string;
  targetUrl: string;
  /** Wall-clock start (ms since epoch) shared by all processes, so their bursts overlap. */
  startAt: number;
}

export interface RateLimitBurstResult {
  granted: number;
  denied: number;
}

async function burst(
  redis: Redis,
  options: RateLimitWorkerOptions,
  { keyPrefix, targetUrl, startAt }: RateLimitBurst,
): Promise<RateLimitBurstResult> {
  const limiter = new RateLimiter({
    redis,
    keyPrefix,
    limits: {
      [options.key]: { requestsPerMinute: options.requestsPerMinute, tokensPerMinute: 1e9 },
    },
  });
  let remaining = options.attempts;
  let granted = 0;
  const lane = async (): Promise<void> => {
    while (remaining > 0) {
      remaining--;
      const reservation = await limiter.reserve(options.key, { estimatedTokens: 10 });
      if (!reservation.granted) continue;
      granted++;
      const response = await fetch(targetUrl, { method: 'POST' });
      await limiter.settle(options.key, reservation.reservationId, {
        actualTokens: Number(await response.text()),
      });
    }
  };
  await sleep(startAt - Date.now());
  await Promise.all(Array.from({ length: options.concurrency }, lane));
  return { granted, denied: options.attempts - granted };
}

async function main(): Promise<void> {
  const options = JSON.parse(process.argv[2] ?? '') as RateLimitWorkerOptions;
  const redis = new Redis(options.redisUrl);
  await redis.ping();
  process.stdout.write('ready\n');
  for await (const line of createInterface({ input: process.stdin })) {
    const result = await burst(redis, options, JSON.parse(line) as RateLimitBurst);
    process.stdout.write(`${JSON.stringify(result)}\n`);
  }
  redis.disconnect();
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
