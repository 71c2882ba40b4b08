/**
 * Context assembly cost per agent step, in process (no server): `assembleContext()`
 * (models/context) packing a step at the bounds the session keeps — three upstream outputs of
 * MAX_UPSTREAM_CHARS, attachment insights, and MAX_MEMORY_TURNS earlier turns (VERBATIM_TURNS
 * digests of MAX_DIGEST_CHARS, summaries of MAX_RECAP_CHARS for the rest) — with the real token
 * counters: the calibrated Anthropic estimate (the Bedrock default) and the exact o200k_base
 * tokenizer. Half the steps fit a 200k window whole, half must be cut into an 8k one. The
 * baseline is what a step cost before: the parts joined as they are plus one count of the
 * prompt (the model layer's window check), with no fitting. Each step is timed alone with
 * process.hrtime.bigint(), sides interleaved in blocks.
 */
import {
  MAX_DIGEST_CHARS,
  MAX_MEMORY_TURNS,
  MAX_RECAP_CHARS,
  MAX_UPSTREAM_CHARS,
  VERBATIM_TURNS,
  type TurnMemory,
} from '../../core/session';
import { BUILTIN_AGENTS } from '../../core/agents/builtin-agents';
import { assembleContext, type ContextSources } from '../../models/context';
import { loadTokenCounter, type TokenCounter } from '../../models/tokens';
import type { BenchMetric } from '../core/metric';
import { compare } from '../core/records';
import { percentile, summarize } from '../core/stats';

export interface ContextAssemblyOptions {
  warmupSteps: number;
  steps: number;
  blockSize: number;
  /** Bound on the p99 of one step's assembly, in ms. */
  targetP99Ms: number;
}

export const CONTEXT_ASSEMBLY_DEFAULTS: ContextAssemblyOptions = {
  warmupSteps: 500,
  steps: 5_000,
  blockSize: 250,
  targetP99Ms: 2,
};

const WINDOWS = [
  { contextWindow: 200_000, reservedOutput: 4_096 },
  { contextWindow: 8_000, reservedOutput: 1_024 },
] as const;

const sentence = (seed: number, length: number): string => {
  const words = ['orders', 'service', 'PostgreSQL', 'index', 'handler', 'retry', 'schema', 'API'];
  let text = '';
  for (let index = 0; text.length < length; index += 1) {
    text += `${words[(seed + index * 7) % words.length]}${(seed * 31 + index) % 1000} `;
  }
  return text.slice(0, length);
};

/** 16 different steps, each at the bounds the session keeps. */
export function contextFixtures(): ContextSources[] {
  const system = BUILTIN_AGENTS[0]?.systemPrompt ?? 'You are an agent.';
  return Array.from({ length: 16 }, (_, seed) => {
    const history: TurnMemory[] = Array.from({ length: MAX_MEMORY_TURNS }, (_, index) => {
      const verbatim = index >= MAX_MEMORY_TURNS - VERBATIM_TURNS;
      return {
        turn: index + 1,
        request: sentence(seed + index, 120),
        outcome: 'succeeded',
        text: sentence(seed * 3 + index, verbatim ? MAX_DIGEST_CHARS : MAX_RECAP_CHARS),
        summarised: !verbatim,
      };
    });
    return {
      system,
      header: `Session: ses_${seed} · turn ${MAX_MEMORY_TURNS + 1} · step code`,
      request: sentence(seed, 200),
      instruction: sentence(seed + 1, 300),
      dependencies: ['design', 'schema', 'review'].map((stepId, index) => ({
        stepId,
        agent: stepId,
        output: sentence(seed * 5 + index, MAX_UPSTREAM_CHARS),
      })),
      attachments: sentence(seed + 9, 1_500),
      memories: [],
      history,
    };
  });
}

/** The old prompt (the parts joined as they are) and the model layer's one count of it. */
function naive(sources: ContextSources, counter: TokenCounter): number {
  const history = sources.history.map((turn) => `### Turn ${turn.turn}\n${turn.text}`).join('\n\n');
  const upstream = sources.dependencies
    .map((item) => `### Output of step "${item.stepId}" (${item.agent})\n${item.output}`)
    .join('\n\n');
  const prompt = [
    sources.header,
    history,
    `Request: ${sources.request}`,
    `Task: ${sources.instruction}`,
    sources.attachments,
    upstream,
  ].join('\n\n');
  return counter.count(sources.system) + counter.count(prompt);
}

export function contextAssembly(
  options: ContextAssemblyOptions = CONTEXT_ASSEMBLY_DEFAULTS,
): BenchMetric {
  return {
    name: 'context-assembly',
    description:
      `In process: assembleContext() for one agent step at the session's bounds (3 upstream ` +
      `outputs of ${MAX_UPSTREAM_CHARS} chars, 1,500 chars of attachment insights, ` +
      `${MAX_MEMORY_TURNS} earlier turns: ${VERBATIM_TURNS} verbatim of ${MAX_DIGEST_CHARS} ` +
      `chars, the rest summaries of ${MAX_RECAP_CHARS}), half into a 200k window (no cut), half ` +
      `into 8k (cut), with the Anthropic estimate and the exact o200k_base tokenizer; ` +
      `${options.warmupSteps} warm-up steps, then ${options.steps} per counter, each timed alone, ` +
      `vs the old naive join plus one count. Target: p99 ≤ ${options.targetP99Ms} ms.`,
    async run(context) {
      const steps = contextFixtures();
      const counters = {
        anthropic: await loadTokenCounter('us.anthropic.claude-sonnet-4-20250514-v1:0'),
        o200k: await loadTokenCounter('gpt-4o'),
      };
      const records = [];
      const summaries: Record<string, unknown> = {};
      let sink = 0;
      for (const [name, counter] of Object.entries(counters)) {
        const ours = new Float64Array(options.steps);
        const baseline = new Float64Array(options.steps);
        let cutSteps = 0;
        const assemble = (index: number) => {
          const sources = steps[index % steps.length]!;
          const limits = WINDOWS[index % WINDOWS.length]!;
          return assembleContext(sources, { ...limits, counter });
        };
        for (let index = 0; index < options.warmupSteps; index += 1) {
          sink += assemble(index).report.tokens;
          sink += naive(steps[index % steps.length]!, counter);
        }
        for (let start = 0; start < options.steps; start += options.blockSize) {
          const end = Math.min(options.steps, start + options.blockSize);
          for (let index = start; index < end; index += 1) {
            const before = process.hrtime.bigint();
            const assembled = assemble(index);
            ours[index] = Number(process.hrtime.bigint() - before) / 1e6;
            if (assembled.report.cut.length > 0) cutSteps += 1;
            sink += assembled.report.tokens;
          }
          for (let index = start; index < end; index += 1) {
            const before = process.hrtime.bigint();
            sink += naive(steps[index % steps.length]!, counter);
            baseline[index] = Number(process.hrtime.bigint() - before) / 1e6;
          }
        }
        const ourSamples = Array.from(ours);
        const baselineSamples = Array.from(baseline);
        const p = (list: number[], rank: number) => percentile(list, rank);
        context.log(
          `context-assembly (${name}): p50 ${p(ourSamples, 50).toFixed(3)} ms, p99 ` +
            `${p(ourSamples, 99).toFixed(3)} ms (naive join + count p50 ` +
            `${p(baselineSamples, 50).toFixed(3)} ms, p99 ${p(baselineSamples, 99).toFixed(3)} ms; ` +
            `${cutSteps} of ${options.steps} steps cut; sink ${sink})`,
        );
        summaries[name] = {
          ours: summarize(ourSamples),
          baseline: summarize(baselineSamples),
          cutSteps,
        };
        records.push(
          compare({
            name: `context assembly p50 per step (${name})`,
            ours: p(ourSamples, 50),
            baseline: p(baselineSamples, 50),
            unit: 'ms',
            better: 'lower',
            details: {
              ours: summarize(ourSamples),
              baseline: summarize(baselineSamples),
              baselineKind: 'parts joined as they are + one count (no fitting)',
              cutSteps,
            },
          }),
          compare({
            name: `context assembly p99 per step (${name})`,
            ours: p(ourSamples, 99),
            baseline: p(baselineSamples, 99),
            unit: 'ms',
            better: 'lower',
          }),
          compare({
            name: `context assembly p99 vs target (${name}; baseline column = target)`,
            ours: p(ourSamples, 99),
            baseline: options.targetP99Ms,
            unit: 'ms',
            better: 'lower',
            target: 1,
          }),
        );
      }
      return {
        records,
        parameters: { ...options, windows: WINDOWS, timing: 'each step timed alone' },
      };
    },
  };
}
