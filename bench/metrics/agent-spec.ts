/**
 * Agent-spec instantiation, in process (no server), measured the way Agno measures agent
 * instantiation: warm-up, then 1,000 instantiations timed, and the heap growth of 1,000
 * retained instances after a forced GC (node --expose-gc; bench.sh passes it).
 *
 * Instantiation = a stored registry record (a fresh object, as DynamoDB's unmarshaller hands
 * it over) → a validated, immutable AgentSpec. Ours is the registry's fast path
 * (core/agents/agent-spec-record.ts: shape check + freeze; zod ran once at registration);
 * the baseline is validating the same record with the zod schema on every read. One call
 * takes about a microsecond, close to the timer's own cost, so time is measured per batch of
 * 1,000 (repeated `rounds` times, median reported), not per call.
 */
import { agentSpecInputSchema, type AgentSpec } from '../../core/agents/agent-spec';
import { agentSpecFromRecord } from '../../core/agents/agent-spec-record';
import type { BenchMetric } from '../core/metric';
import { compare } from '../core/records';
import { median, summarize } from '../core/stats';

export interface AgentSpecBenchOptions {
  warmup: number;
  /** Instantiations per timed batch and per memory measurement. */
  runs: number;
  /** Timed batches per side. */
  rounds: number;
  /** Agno's published per-agent figures. */
  targetMicros: number;
  targetBytes: number;
}

export const AGENT_SPEC_DEFAULTS: AgentSpecBenchOptions = {
  warmup: 10_000,
  runs: 1_000,
  rounds: 30,
  targetMicros: 3,
  targetBytes: 6.5 * 1024,
};

/**
 * A stored record as the registry writes it (registry.register). Its strings are new per
 * record (as unmarshalled from DynamoDB), so "with its record" counts them too.
 */
function storedRecord(index: number): Record<string, unknown> {
  const unique = (text: string) => `${text} [${index}]`;
  return {
    name: `agent-${index % 50}`,
    version: 1 + (index % 7),
    source: 'registry',
    role: unique('code agent'),
    description: unique('You write the implementation as focused patches with file paths.'),
    capabilities: ['code', 'backend'],
    modelPreferences: ['us.anthropic.claude-sonnet-4-20250514-v1:0', 'openai:gpt-4.1'],
    taskQueue: 'tdev-pool-code',
    maxConcurrency: 10,
    timeoutMs: 900_000,
    retry: { maximumAttempts: 5, initialIntervalMs: 1_000 },
    systemPrompt: unique(
      'You are the code agent of T-Developer, a team of software agents. You write the ' +
        'implementation as focused patches with file paths. Answer with concrete, reviewable ' +
        'output; state assumptions explicitly.',
    ),
    alternatives: ['review'],
    enabled: true,
    updatedAt: '2026-11-24T12:00:00.000Z',
    updatedBy: 'admin',
  };
}

/** The baseline: the zod schema validates the record's fields on every read, then freeze. */
function viaZod(record: Record<string, unknown>): AgentSpec {
  const { name, version, source, updatedAt, updatedBy, ...fields } = record;
  return Object.freeze({
    ...agentSpecInputSchema.parse(fields),
    name: name as string,
    version: version as number,
    source: source as AgentSpec['source'],
    updatedAt: updatedAt as string,
    updatedBy: updatedBy as string,
  });
}

type Instantiate = (record: Record<string, unknown>) => AgentSpec;

/** Median per-spec time (µs) over `rounds` batches of `runs`; the records are made outside. */
function timePerSpec(instantiate: Instantiate, options: AgentSpecBenchOptions): number[] {
  const perSpec: number[] = [];
  const retained: AgentSpec[] = new Array<AgentSpec>(options.runs);
  for (let round = 0; round < options.rounds; round += 1) {
    const records = Array.from({ length: options.runs }, (_, index) => storedRecord(index));
    const started = process.hrtime.bigint();
    for (let index = 0; index < options.runs; index += 1) {
      retained[index] = instantiate(records[index]!);
    }
    perSpec.push(Number(process.hrtime.bigint() - started) / 1_000 / options.runs);
  }
  return perSpec;
}

/**
 * Heap growth per instance with `runs` instances retained, after forced GCs. `withRecords`
 * counts the stored records too (made inside the window, as a registry read makes them).
 */
function bytesPerSpec(
  instantiate: Instantiate,
  options: AgentSpecBenchOptions,
  withRecords: boolean,
): number {
  const gc = (globalThis as { gc?: () => void }).gc;
  const prepared = withRecords
    ? []
    : Array.from({ length: options.runs }, (_, index) => storedRecord(index));
  gc?.();
  gc?.();
  const before = process.memoryUsage().heapUsed;
  const retained: AgentSpec[] = new Array<AgentSpec>(options.runs);
  for (let index = 0; index < options.runs; index += 1) {
    retained[index] = instantiate(withRecords ? storedRecord(index) : prepared[index]!);
  }
  gc?.();
  gc?.();
  const grown = process.memoryUsage().heapUsed - before;
  if (retained.length !== options.runs) throw new Error('unreachable');
  return grown / options.runs;
}

export function agentSpecInstantiation(
  options: AgentSpecBenchOptions = AGENT_SPEC_DEFAULTS,
): BenchMetric {
  return {
    name: 'agent-spec',
    description:
      `In process: stored registry record → validated immutable AgentSpec, fast path ` +
      `(shape check + freeze) vs zod schema parse per read; ${options.warmup} warm-up, then ` +
      `${options.rounds} batches of ${options.runs} timed (per-call timing would measure the ` +
      `timer), and heap growth of ${options.runs} retained specs after forced GC. Agno's ` +
      `targets: ≤ ${options.targetMicros} µs and ≤ ${options.targetBytes / 1024} KB per agent.`,
    async run(context) {
      const gcExposed = typeof (globalThis as { gc?: unknown }).gc === 'function';
      if (!gcExposed) context.log('agent-spec: global.gc missing (run node with --expose-gc)');
      for (let index = 0; index < options.warmup; index += 1) {
        agentSpecFromRecord(storedRecord(index));
        viaZod(storedRecord(index));
      }
      const fast = timePerSpec(agentSpecFromRecord, options);
      const zod = timePerSpec(viaZod, options);
      const memory = {
        fastSpecOnly: bytesPerSpec(agentSpecFromRecord, options, false),
        zodSpecOnly: bytesPerSpec(viaZod, options, false),
        fastWithRecord: bytesPerSpec(agentSpecFromRecord, options, true),
        zodWithRecord: bytesPerSpec(viaZod, options, true),
      };
      context.log(
        `agent-spec: fast ${median(fast).toFixed(3)} µs, zod ${median(zod).toFixed(3)} µs per ` +
          `spec; heap per spec fast ${memory.fastSpecOnly.toFixed(0)} B ` +
          `(${memory.fastWithRecord.toFixed(0)} B with its record), zod ` +
          `${memory.zodSpecOnly.toFixed(0)} B (${memory.zodWithRecord.toFixed(0)} B)`,
      );
      return {
        records: [
          compare({
            name: 'agent-spec instantiation (fast path vs zod parse)',
            ours: median(fast),
            baseline: median(zod),
            unit: 'µs/spec',
            better: 'lower',
            details: { fast: summarize(fast), zod: summarize(zod) },
          }),
          compare({
            name: 'agent-spec instantiation vs Agno (baseline column = target)',
            ours: median(fast),
            baseline: options.targetMicros,
            unit: 'µs/spec',
            better: 'lower',
            target: 1,
          }),
          compare({
            name: 'agent-spec memory with record vs Agno (baseline column = target)',
            ours: memory.fastWithRecord,
            baseline: options.targetBytes,
            unit: 'B/spec',
            better: 'lower',
            target: 1,
            details: { ...memory, gcExposed },
          }),
        ],
        parameters: { ...options, gcExposed, timing: 'batches of `runs`, median per spec' },
      };
    },
  };
}
