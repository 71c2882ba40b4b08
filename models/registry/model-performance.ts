/**
 * Performance history per model, shared by every worker through Redis: decayed success and
 * failure counts and a smoothed latency of successful calls. One hash per model
 * (`<prefix>{provider:model}`), updated by one Lua script so concurrent workers never lose an
 * update; each update first decays the counts by the time since the last one (half-life one
 * hour by default), so an outage an afternoon ago weighs less than one a minute ago.
 */
import type { Redis } from 'ioredis';
import type { ModelPerformance } from './model-router';

const RECORD_SCRIPT = `
local now = tonumber(redis.call('TIME')[1]) * 1000
local halfLife = tonumber(ARGV[3])
local state = redis.call('HMGET', KEYS[1], 'ok', 'fail', 'latency', 'at')
local ok = tonumber(state[1]) or 0
local fail = tonumber(state[2]) or 0
local latency = tonumber(state[3])
local at = tonumber(state[4]) or now
local decay = math.pow(0.5, math.max(0, now - at) / halfLife)
ok = ok * decay
fail = fail * decay
if ARGV[1] == '1' then
  ok = ok + 1
  local sample = tonumber(ARGV[2])
  if latency == nil then latency = sample else latency = latency * 0.8 + sample * 0.2 end
else
  fail = fail + 1
end
redis.call('HSET', KEYS[1], 'ok', tostring(ok), 'fail', tostring(fail), 'at', tostring(now))
if latency ~= nil then redis.call('HSET', KEYS[1], 'latency', tostring(latency)) end
redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[4]))
return 1
`;

interface ScriptCommands {
  tdevModelPerfRecord(...args: (string | number)[]): Promise<number>;
}

export interface ModelPerformanceStoreOptions {
  redis: Redis;
  keyPrefix?: string;
  halfLifeMs?: number;
  /** Idle models are forgotten after this long. Default 7 days. */
  ttlMs?: number;
}

export class ModelPerformanceStore {
  private readonly redis: Redis & ScriptCommands;
  private readonly prefix: string;
  private readonly halfLifeMs: number;
  private readonly ttlMs: number;

  constructor(options: ModelPerformanceStoreOptions) {
    options.redis.defineCommand('tdevModelPerfRecord', { numberOfKeys: 1, lua: RECORD_SCRIPT });
    this.redis = options.redis as Redis & ScriptCommands;
    this.prefix = options.keyPrefix ?? 'tdev:model-perf:';
    this.halfLifeMs = options.halfLifeMs ?? 3_600_000;
    this.ttlMs = options.ttlMs ?? 7 * 24 * 3_600_000;
  }

  async record(ref: string, outcome: { succeeded: boolean; latencyMs?: number }): Promise<void> {
    await this.redis.tdevModelPerfRecord(
      this.key(ref),
      outcome.succeeded ? '1' : '0',
      Math.max(0, Math.round(outcome.latencyMs ?? 0)),
      this.halfLifeMs,
      this.ttlMs,
    );
  }

  /** Current figures of `refs` (models without history are absent from the map). */
  async snapshot(refs: readonly string[]): Promise<Map<string, ModelPerformance>> {
    const result = new Map<string, ModelPerformance>();
    if (!refs.length) return result;
    const pipeline = this.redis.pipeline();
    for (const ref of refs) pipeline.hmget(this.key(ref), 'ok', 'fail', 'latency');
    const replies = (await pipeline.exec()) ?? [];
    refs.forEach((ref, index) => {
      const [error, values] = replies[index] ?? [];
      if (error || !Array.isArray(values)) return;
      const [ok, fail, latency] = (values as (string | null)[]).map((value) =>
        value === null ? undefined : Number(value),
      );
      const samples = (ok ?? 0) + (fail ?? 0);
      if (samples <= 0) return;
      result.set(ref, {
        successRate: (ok ?? 0) / samples,
        latencyMs: latency ?? 0,
        samples: Math.round(samples * 100) / 100,
      });
    });
    return result;
  }

  private key(ref: string): string {
    return `${this.prefix}{${ref}}`;
  }
}
