/**
 * One "worker process" for the multi-process circuit breaker test. Started as
 * `node --import tsx circuit-breaker-worker.ts '<json options>'`; connects to Redis, prints
 * `ready`, waits for `go` on stdin (so all processes start together), then runs
 * `concurrency` loops for `durationMs`: acquire; if allowed, call the target (a provider
 * that always fails) and record the failure; if rejected, try again 1 ms later.
 * Prints `{"allowed":n,"probes":p,"rejected":r}` (allowed excludes probes) and exits.
 */
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import {
  CircuitBreaker,
  type CircuitBreakerOptions,
} from '../../models/resilience/circuit-breaker';

export interface CircuitBreakerWorkerOptions extends Omit<CircuitBreakerOptions, 'redis'> {
  redisUrl: string;
  provider: string;
  model: string;
  concurrency: number;
  durationMs: number;
  targetUrl: string;
}

export interface CircuitBreakerWorkerResult {
  allowed: number;
  probes: number;
  rejected: number;
}

async function main(): Promise<void> {
  const { redisUrl, provider, model, concurrency, durationMs, targetUrl, ...breakerOptions } =
    JSON.parse(process.argv[2] ?? '') as CircuitBreakerWorkerOptions;
  const redis = new Redis(redisUrl);
  const breaker = new CircuitBreaker({ redis, ...breakerOptions });
  const target = { provider, model };
  await redis.ping();
  process.stdout.write('ready\n');
  await once(createInterface({ input: process.stdin }), 'line');

  const result: CircuitBreakerWorkerResult = { allowed: 0, probes: 0, rejected: 0 };
  const deadline = Date.now() + durationMs;
  const loop = async (): Promise<void> => {
    while (Date.now() < deadline) {
      const decision = await breaker.acquire(target);
      if (!decision.allowed) {
        result.rejected++;
        await sleep(1);
        continue;
      }
      if (decision.probe) result.probes++;
      else result.allowed++;
      const response = await fetch(targetUrl, {
        method: 'POST',
        headers: { 'x-probe': String(decision.probe) },
      });
      await response.arrayBuffer();
      await breaker.recordFailure(target, decision);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, loop));
  process.stdout.write(`${JSON.stringify(result)}\n`);
  redis.disconnect();
  process.stdin.destroy();
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
