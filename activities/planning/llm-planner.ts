/**
 * The LLM part of the decision engine: asks the primary model for the request's intent, a
 * plan and a confidence per agent, checks the answer, and asks once more with the precise
 * errors when it is invalid. Never retries model errors itself (Temporal owns retries).
 */
import type { AgentSpec } from '../../core/agents/agent-spec';
import {
  PLAN_SCHEMA_VERSION,
  describeZodIssues,
  validatePlan,
  type Plan,
  type PlanStep,
} from '../../core/plan';
import type { ModelMessage, ModelProvider, ModelUsage } from '../../models/model-provider';
import { plannerOutputSchema, type PlannerOutput } from './planner-output-schema';
import { PLANNER_SYSTEM_PROMPT, plannerMessages, repairMessages } from './planner-prompt';

/** The whole LLM part (first call and repair) must finish within this. */
export const LLM_PLANNING_TIMEOUT_MS = 60_000;
export const OFFLINE_SKIP_REASON = 'offline model: rules only';
const PLANNER_MAX_TOKENS = 4_096;

export interface LlmPlanningOptions {
  model: ModelProvider;
  requestText: string;
  /** Every agent of the catalog; only enabled ones are offered and accepted. */
  agents: readonly AgentSpec[];
  /** Cancellation of the surrounding activity: aborts the call and is re-thrown, not absorbed. */
  signal?: AbortSignal;
  /** Bound on the whole LLM part (default 60 s). */
  timeoutMs?: number;
}

export type LlmPlanning =
  /** A valid answer, first time or after the repair. */
  | { kind: 'planned'; output: PlannerOutput; plan: Plan; repaired: boolean; usage: ModelUsage }
  /** The model is the offline provider: no LLM to ask. */
  | { kind: 'skipped'; reason: string }
  /** The answer was invalid, and so was the repaired one; `errors` are the last answer's. */
  | { kind: 'invalid'; reason: string; errors: string[] }
  /** The model call failed or timed out; `error` is what it threw. */
  | { kind: 'failed'; reason: string; error: unknown; timedOut: boolean };

export type PlannerOutputCheck =
  { ok: true; output: PlannerOutput; plan: Plan } | { ok: false; errors: string[] };

/**
 * Runs the LLM part: one call, and one repair call when the answer is invalid. Resolves with
 * what happened; rejects only when `signal` (the activity's cancellation) aborted.
 */
export async function planWithModel(options: LlmPlanningOptions): Promise<LlmPlanning> {
  const { model } = options;
  if (model.name === 'offline') return { kind: 'skipped', reason: OFFLINE_SKIP_REASON };
  const timeoutMs = options.timeoutMs ?? LLM_PLANNING_TIMEOUT_MS;
  const timeout = new AbortController();
  const timer = setTimeout(
    () => timeout.abort(new Error(`planner model timed out after ${formatSeconds(timeoutMs)}`)),
    timeoutMs,
  );
  const signal = options.signal
    ? AbortSignal.any([options.signal, timeout.signal])
    : timeout.signal;
  const enabled = options.agents.filter((agent) => agent.enabled);
  const first = plannerMessages(options.requestText, enabled);
  const usage: ModelUsage = { inputTokens: 0, outputTokens: 0 };
  const ask = async (messages: ModelMessage[]): Promise<string | { offline: true }> => {
    const response = await abortable(
      model.generate({
        system: PLANNER_SYSTEM_PROMPT,
        messages,
        maxTokens: PLANNER_MAX_TOKENS,
        temperature: 0,
        signal,
      }),
      signal,
    );
    usage.inputTokens += response.usage.inputTokens;
    usage.outputTokens += response.usage.outputTokens;
    return response.offline ? { offline: true } : response.text;
  };
  try {
    const answer = await ask(first);
    if (typeof answer !== 'string') return { kind: 'skipped', reason: OFFLINE_SKIP_REASON };
    const checked = checkPlannerOutput(answer, options.agents);
    if (checked.ok) return { kind: 'planned', ...checked, repaired: false, usage };
    const repaired = await ask(repairMessages(first, answer, checked.errors));
    if (typeof repaired !== 'string') return { kind: 'skipped', reason: OFFLINE_SKIP_REASON };
    const rechecked = checkPlannerOutput(repaired, options.agents);
    if (rechecked.ok) return { kind: 'planned', ...rechecked, repaired: true, usage };
    return {
      kind: 'invalid',
      reason: `planner output invalid after one repair: ${rechecked.errors.join('; ')}`,
      errors: rechecked.errors,
    };
  } catch (error) {
    if (options.signal?.aborted) throw error;
    const timedOut = timeout.signal.aborted;
    const message = timedOut
      ? String((timeout.signal.reason as Error).message)
      : `planner model failed: ${error instanceof Error ? error.message : String(error)}`;
    return { kind: 'failed', reason: message, error, timedOut };
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Checks a planner answer: JSON (a code fence around it is tolerated), the schema, agents
 * known and enabled, an assessment for every agent in the plan, and `validatePlan`. Lists
 * every problem found.
 */
export function checkPlannerOutput(text: string, agents: readonly AgentSpec[]): PlannerOutputCheck {
  let json: unknown;
  try {
    json = JSON.parse(stripCodeFence(text));
  } catch (error) {
    return {
      ok: false,
      errors: [`answer is not JSON: ${error instanceof Error ? error.message : String(error)}`],
    };
  }
  const parsed = plannerOutputSchema.safeParse(json);
  if (!parsed.success) return { ok: false, errors: describeZodIssues(parsed.error) };
  const output = parsed.data;
  const byName = new Map(agents.map((agent) => [agent.name, agent]));
  const errors: string[] = [];
  const problemWith = (name: string): string | undefined => {
    const agent = byName.get(name);
    if (!agent) return `unknown agent "${name}"`;
    return agent.enabled ? undefined : `disabled agent "${name}"`;
  };
  for (const step of output.steps) {
    const problem = problemWith(step.agent);
    if (problem) errors.push(`step "${step.id}" uses ${problem}`);
  }
  for (const assessment of output.agents) {
    const problem = problemWith(assessment.agent);
    if (problem) errors.push(`agents lists ${problem}`);
  }
  const assessed = new Set(output.agents.map((assessment) => assessment.agent));
  for (const agent of new Set(output.steps.map((step) => step.agent))) {
    if (!assessed.has(agent)) errors.push(`agents has no entry for "${agent}", used in steps`);
  }
  const plan: Plan = { schemaVersion: PLAN_SCHEMA_VERSION, steps: output.steps.map(toPlanStep) };
  // Agents already reported above count as known here, so each problem is listed once.
  const known = new Set([...agents.map((agent) => agent.name), ...plan.steps.map((s) => s.agent)]);
  const validation = validatePlan(plan, known);
  if (!validation.ok) errors.push(...validation.errors);
  return errors.length > 0 ? { ok: false, errors } : { ok: true, output, plan };
}

function toPlanStep(step: PlannerOutput['steps'][number]): PlanStep {
  return {
    id: step.id,
    agent: step.agent,
    title: step.title,
    instruction: step.instruction,
    dependsOn: step.dependsOn,
    ...(step.softDependsOn?.length ? { softDependsOn: step.softDependsOn } : {}),
  };
}

/** The text inside a ```json fence when the whole answer is one; the trimmed text otherwise. */
function stripCodeFence(text: string): string {
  const fenced = /^```(?:json)?\s*\n([\s\S]*?)\n?```$/i.exec(text.trim());
  return (fenced?.[1] ?? text).trim();
}

/** Rejects when `signal` aborts, even if the provider ignores its signal. */
function abortable<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(abortReason(signal));
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(abortReason(signal));
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error instanceof Error ? error : new Error(String(error)));
      },
    );
  });
}

function abortReason(signal: AbortSignal): Error {
  return signal.reason instanceof Error ? signal.reason : new Error('aborted');
}

function formatSeconds(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000} s` : `${(ms / 1000).toFixed(1)} s`;
}
