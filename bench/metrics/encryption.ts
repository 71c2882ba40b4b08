/**
 * What payload encryption costs. Session throughput with the product's codec (AES-256-GCM,
 * gzip above 1 KiB, key-ring keys) against the same session with encryption off, in the same
 * run: the bench worker process vs a second worker process without a key ring, sides alternating;
 * and the codec's own encode/decode time per payload by size, in process.
 */
import { randomBytes } from 'node:crypto';
import { defaultPayloadConverter } from '@temporalio/common';
import type { BenchContext, BenchMetric } from '../core/metric';
import { compare, type BenchRecord } from '../core/records';
import { runClosedLoop, sidesInOrder, type Side } from '../core/schedule';
import { median, percentile, summarize } from '../core/stats';
import { runSession } from '../workloads/workloads';
import { EncryptionCodec, KeyRingKeySource, generateKeyRing } from '../../runtime/temporal/codec';

export interface EncryptionOptions {
  concurrency: number;
  workflowsPerRound: number;
  rounds: number;
  warmupWorkflows: number;
  /** Payload sizes (bytes) of the codec timing. */
  payloadBytes: readonly number[];
}

export const ENCRYPTION_DEFAULTS: EncryptionOptions = {
  concurrency: 20,
  workflowsPerRound: 100,
  rounds: 3,
  warmupWorkflows: 40,
  payloadBytes: [256, 4_096, 65_536, 1_048_576],
};

export function encryptionCost(options: EncryptionOptions = ENCRYPTION_DEFAULTS): BenchMetric {
  return {
    name: 'encryption',
    description:
      `Our 1-step session with payload encryption (the product's codec) vs encryption off, ` +
      `${options.concurrency} in flight, ${options.workflowsPerRound} per round, median of ` +
      `${options.rounds} rounds per side; then codec encode/decode time per payload size.`,
    async run(context) {
      const plain = await context.startPlainWorker();
      try {
        const sides: Record<Side, BenchContext> = {
          ours: context,
          baseline: { ...context, client: plain.client, sessionTaskQueue: plain.sessionTaskQueue },
        };
        const round = async (side: Side, workflows: number): Promise<number> => {
          const started = performance.now();
          await runClosedLoop(workflows, options.concurrency, async () => {
            await runSession(sides[side], 1);
          });
          return workflows / ((performance.now() - started) / 1000);
        };
        for (const side of sidesInOrder(0)) await round(side, options.warmupWorkflows);
        const rates: Record<Side, number[]> = { ours: [], baseline: [] };
        for (let index = 0; index < options.rounds; index += 1) {
          for (const side of sidesInOrder(index)) {
            rates[side].push(await round(side, options.workflowsPerRound));
          }
        }
        context.log(
          `encryption: on ${median(rates.ours).toFixed(1)}/s, off ${median(rates.baseline).toFixed(1)}/s`,
        );
        const records: BenchRecord[] = [
          compare({
            name: 'sessions/s, encryption on vs off',
            ours: median(rates.ours),
            baseline: median(rates.baseline),
            unit: 'workflows/s',
            better: 'higher',
            target: 0.9,
            details: { on: summarize(rates.ours), off: summarize(rates.baseline) },
          }),
          ...(await codecTimings(options.payloadBytes)),
        ];
        for (const record of records.slice(1)) {
          context.log(`encryption: ${record.name}: ${record.ours} µs`);
        }
        return { records, parameters: { ...options } };
      } finally {
        await plain.close();
      }
    },
  };
}

/** p50 of encode and of decode per payload size, µs (information: no baseline). */
async function codecTimings(sizes: readonly number[]): Promise<BenchRecord[]> {
  const codec = new EncryptionCodec({
    keys: new KeyRingKeySource(generateKeyRing('bench-codec')),
    compression: { algorithm: 'gzip', thresholdBytes: 1024 },
  });
  const records: BenchRecord[] = [];
  for (const size of sizes) {
    // Half random, half repetitive text: what prompts and outputs compress like, roughly.
    const text =
      `${randomBytes(size / 4).toString('hex')}`.slice(0, size / 2) + 'x'.repeat(size / 2);
    const payload = defaultPayloadConverter.toPayload({ text });
    const iterations = size >= 1_000_000 ? 40 : 400;
    const encodeUs: number[] = [];
    const decodeUs: number[] = [];
    for (let index = 0; index < iterations + 10; index += 1) {
      const startedEncode = performance.now();
      const [encoded] = await codec.encode([payload]);
      const encodedAt = performance.now();
      await codec.decode([encoded!]);
      const decodedAt = performance.now();
      if (index < 10) continue;
      encodeUs.push((encodedAt - startedEncode) * 1000);
      decodeUs.push((decodedAt - encodedAt) * 1000);
    }
    const label = size >= 1_048_576 ? `${size / 1_048_576} MiB` : `${size / 1024} KiB`;
    for (const [what, samples] of [
      ['encode', encodeUs],
      ['decode', decodeUs],
    ] as const) {
      records.push(
        compare({
          name: `codec ${what} p50, ${label} payload`,
          ours: percentile(samples, 50),
          baseline: 0,
          unit: 'µs',
          better: 'lower',
          details: { p99: percentile(samples, 99), iterations },
        }),
      );
    }
  }
  return records;
}
