/**
 * A "worker process" that holds agent slots for the agent-concurrency test, started as
 * `node --import tsx agent-slot-holder.ts '<json AgentSlotHolderOptions>'`. It takes `slots` slots
 * of `agent` through the same AgentConcurrency a worker uses, renews them every `renewEveryMs`
 * (as an agent step does on each heartbeat), prints `held` and waits to be killed.
 */
import { Redis } from 'ioredis';
import { AgentConcurrency } from '../../runtime/routing';

export interface AgentSlotHolderOptions {
  redisUrl: string;
  keyPrefix: string;
  agent: string;
  maxConcurrency: number;
  slots: number;
  leaseMs: number;
  renewEveryMs: number;
}

async function main(): Promise<void> {
  const options = JSON.parse(process.argv[2] ?? '{}') as AgentSlotHolderOptions;
  const redis = new Redis(options.redisUrl);
  const gate = new AgentConcurrency({
    redis,
    keyPrefix: options.keyPrefix,
    leaseMs: options.leaseMs,
  });
  const held = await Promise.all(
    Array.from({ length: options.slots }, () =>
      gate.acquire({ agent: options.agent, maxConcurrency: options.maxConcurrency }),
    ),
  );
  if (held.some((slot) => slot.scope !== 'shared')) throw new Error('Redis refused the slots');
  setInterval(() => {
    for (const slot of held) void slot.renew();
  }, options.renewEveryMs);
  process.stdout.write('held\n');
}

main().catch((error: unknown) => {
  process.stderr.write(`${String(error)}\n`);
  process.exit(1);
});
