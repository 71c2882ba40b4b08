/**
 * Context assembly cost per agent step, in process (no server): `assembleContext()`
 * (models/context) packing a step at the bounds the session keeps — three upstream outputs of
 * MAX_UPSTREAM_CHARS, attachment insights, five recalled memories and MAX_MEMORY_TURNS earlier
 * turns (VERBATIM_TURNS digests of MAX_DIGEST_CHARS, summaries of MAX_RECAP_CHARS for the
 * rest) — with the real token counters: the calibrated Anthropic estimate (the Bedrock
 * default) and the exact o200k_base tokenizer. The texts are slices of this repository's own
 * docs and code (markdown prose, TypeScript, tables: what agents write), a different slice for
 * every part of every step, so no two parts of a step and no two of the 64 steps are alike.
 * Half the steps fit a 200k window whole, half must be cut into an 8k one. A step's cost is
 * the assembly plus the model layer's window-check count of the prompt when the assembly did
 * not hand it its own count (models/model-call.ts takes that count instead of counting
 * again). The baseline is what a step cost before: the parts joined as they are plus one
 * count of the prompt (the window check), with no fitting. Each step is timed alone with
 * process.hrtime.bigint(), sides interleaved in blocks.
 */
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
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

/** Steps in the rotation (each part of each step is a different slice of the corpus). */
const FIXTURE_STEPS = 64;
/** Recalled memories per step (the recall limit). */
const FIXTURE_MEMORIES = 5;

/**
 * What agents read and write: this repository's docs and a sample of its TypeScript, in a
 * fixed order (~1 MB; the bench reads it at start).
 */
function corpus(): string {
  const root = path.join(__dirname, '..', '..');
  const files = [
    'README.md',
    ...readdirSync(path.join(root, 'docs'), { recursive: true, encoding: 'utf8' })
      .filter((file) => file.endsWith('.md'))
      .sort()
      .map((file) => path.join('docs', file)),
    ...['core', 'models', 'runtime', 'workflows', 'activities'].flatMap((folder) =>
      readdirSync(path.join(root, folder), { recursive: true, encoding: 'utf8' })
        .filter((file) => file.endsWith('.ts'))
        .sort()
        .map((file) => path.join(folder, file)),
    ),
  ];
  return files.map((file) => readFileSync(path.join(root, file), 'utf8')).join('\n\n');
}

/** `length` characters of the corpus from a point that moves on with every call. */
function slicer(text: string): (length: number) => string {
  let at = 0;
  return (length) => {
    if (at + length > text.length) at = 0;
    const slice = text.slice(at, at + length);
    at += length + 97;
    return slice;
  };
}

/** 64 different steps, each at the bounds the session keeps. */
export function contextFixtures(): ContextSources[] {
  const system = BUILTIN_AGENTS[0]?.systemPrompt ?? 'You are an agent.';
  const take = slicer(corpus());
  return Array.from({ length: FIXTURE_STEPS }, (_, seed) => {
    const history: TurnMemory[] = Array.from({ length: MAX_MEMORY_TURNS }, (_, index) => {
      const verbatim = index >= MAX_MEMORY_TURNS - VERBATIM_TURNS;
      return {
        turn: index + 1,
        request: take(120),
        outcome: 'succeeded',
        text: take(verbatim ? MAX_DIGEST_CHARS : MAX_RECAP_CHARS),
        summarised: !verbatim,
      };
    });
    return {
      system,
      header: `Session: ses_${seed} · turn ${MAX_MEMORY_TURNS + 1} · step code`,
      request: take(200),
      instruction: take(300),
      dependencies: ['design', 'schema', 'review'].map((stepId) => ({
        stepId,
        agent: stepId,
        output: take(MAX_UPSTREAM_CHARS),
      })),
      attachments: take(1_500),
      // As activities/index.ts renders a recalled memory: `(kind, scope) text`.
      memories: Array.from(
        { length: FIXTURE_MEMORIES },
        (_, index) => `(fact, ${['user', 'project', 'tenant'][index % 3]}) ${take(160)}`,
      ),
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
    sources.memories.map((memory) => `- ${memory}`).join('\n'),
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
      `${FIXTURE_MEMORIES} recalled memories, ` +
      `${MAX_MEMORY_TURNS} earlier turns: ${VERBATIM_TURNS} verbatim of ${MAX_DIGEST_CHARS} ` +
      `chars, the rest summaries of ${MAX_RECAP_CHARS}), half into a 200k window (no cut), half ` +
      `into 8k (cut), with the Anthropic estimate and the exact o200k_base tokenizer; ` +
      `${options.warmupSteps} warm-up steps, then ${options.steps} per counter, each timed alone ` +
      `(with the window check's count when the assembly handed none), ` +
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
        // A step's context cost: the assembly, plus the model layer's window-check count of
        // the prompt when the assembly handed it none (a prompt that fits by its bytes).
        const assemble = (index: number) => {
          const sources = steps[index % steps.length]!;
          const limits = WINDOWS[index % WINDOWS.length]!;
          const assembled = assembleContext(sources, { ...limits, counter });
          if (assembled.countedTokens === undefined) {
            sink += counter.count(assembled.system) + counter.count(assembled.prompt);
          }
          return assembled;
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
              oursKind: 'assembleContext + the window check’s count when the assembly handed none',
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
        parameters: {
          ...options,
          windows: WINDOWS,
          steps: FIXTURE_STEPS,
          memories: FIXTURE_MEMORIES,
          text: "slices of the repository's docs and TypeScript",
          timing: 'each step timed alone',
        },
      };
    },
  };
}
