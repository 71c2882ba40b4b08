import type { StepRecorder } from '../../runtime/metrics';
import { Context, log } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import type { AgentCatalog } from '../../core/agents/agent-spec';
import { ERROR_TYPES } from '../../core/errors';
import {
  MAX_STEP_OUTPUT_CHARS,
  type AgentStepFailureDetails,
  type AgentStepInput,
  type AgentStepResult,
  type ContextReport,
} from '../../core/session';
import { modelRef } from '../../core/models/model-ref';
import { assembleContext, type AssembledContext, type ContextSources } from '../../models/context';
import { callModel, counterFor, type ModelLayer } from '../../models/model-call';
import { defaultCard } from '../../models/registry';
import type { ModelProvider, ModelRequest, ModelResponse } from '../../models/model-provider';
import { recordStepOutcome, type AgentHistoryWriter } from '../planning/history-recorder';
import { activityCallTarget, heartbeatDetails } from '../model-call-context';
import { AgentBusyError, type AgentConcurrency, type AgentSlot } from '../../runtime/routing';

/**
 * Runs one plan step: assembles the agent's prompt (request, task, upstream outputs,
 * attachments, earlier turns) to fit the model's window, calls
 * the model and returns its answer (cut to MAX_STEP_OUTPUT_CHARS). Heart-beats while the
 * model works so a dead worker is noticed within the heartbeat timeout, and stops when the
 * activity is cancelled. Idempotent: with the layer's result store, a retry after the model
 * answered (the worker died before the activity completed) reuses the stored answer instead
 * of asking again; a refusal by the shared rate limit is waited out inside the attempt.
 * With `history`, each attempt's outcome (success and latency, or failure) is added to the
 * agent's record for every intent label of the turn: at most ~1 s more, never a failure.
 * Cancelled attempts, compensations and calls refused by an open circuit are not recorded.
 */
export async function runAgentStepWith(
  model: ModelProvider,
  input: AgentStepInput,
  agents: AgentCatalog,
  history?: AgentHistoryWriter,
  /** Counts the step as in flight for the utilisation and outcome metrics. */
  recorder?: Pick<StepRecorder, 'stepStarted'>,
  /**
   * Context check, cache, shared rate limits, token streaming, usage ledger and model
   * performance around the call (models/model-call.ts); a bare call without it.
   */
  layer?: ModelLayer,
  /** No other model is left for this step: an open breaker is waited out, not failed. */
  lastModel?: boolean,
  /**
   * The agent's `maxConcurrency` across every worker (runtime/routing/agent-concurrency.ts): a
   * slot is taken before the model call (waited for, heart-beating `waiting: 'concurrency'`),
   * renewed on each heartbeat and given back when the attempt ends. No limit without it.
   */
  slots?: Pick<AgentConcurrency, 'acquire'>,
): Promise<AgentStepResult> {
  const context = Context.current();
  const { attempt, heartbeatTimeoutMs } = context.info;
  const agent = await agents.get(input.step.agent, input.tenantId);
  if (!agent?.enabled) {
    throw ApplicationFailure.create({
      type: ERROR_TYPES.invalidInput,
      message: `${agent ? 'disabled' : 'unknown'} agent "${input.step.agent}" in step "${input.step.id}"`,
      nonRetryable: true,
      details: [{ attempt } satisfies AgentStepFailureDetails],
    });
  }
  let slot: AgentSlot | undefined;
  const heartbeat = setInterval(
    () => {
      context.heartbeat(heartbeatDetails(context, { step: input.step.id }));
      void slot?.renew();
    },
    Math.max(200, Math.min(5_000, (heartbeatTimeoutMs ?? 15_000) / 3)),
  );
  try {
    slot = slots ? await takeSlot(slots, agent, input) : undefined;
  } catch (error) {
    clearInterval(heartbeat);
    throw withAttempt(error, attempt);
  }
  const record = async (succeeded: boolean, latencyMs?: number): Promise<void> => {
    if (!history || input.compensation || context.cancellationSignal.aborted) return;
    await recordStepOutcome(
      history,
      {
        agent: input.step.agent,
        ...(input.intents ? { intents: input.intents } : {}),
        succeeded,
        ...(latencyMs !== undefined ? { latencyMs } : {}),
      },
      (message, details) => {
        log.warn(message, details);
      },
    );
  };
  const finish = recorder?.stepStarted(agent.name, agent.maxConcurrency);
  const started = performance.now();
  // No heartbeat up front: the heartbeat timeout already runs from the start of the attempt,
  // and a quick model answer then costs no extra server round trip.
  try {
    let response: ModelResponse & { costUsd?: number; cached?: boolean; promptTokens?: number };
    const assembled = await assemblePrompt(model, input, agent.systemPrompt, layer);
    const request: ModelRequest = {
      system: assembled.system,
      messages: [{ role: 'user', text: assembled.prompt }],
      signal: context.cancellationSignal,
      // The assembly's count of the final prompt: the window check does not count it again.
      ...(assembled.countedTokens !== undefined
        ? { counted: { model: model.model, tokens: assembled.countedTokens } }
        : {}),
    };
    try {
      response = layer
        ? await callModel(
            layer,
            model,
            request,
            activityCallTarget({
              ...(input.tenantId ? { tenantId: input.tenantId } : {}),
              sessionId: input.sessionId,
              stepId: input.step.id,
              agent: agent.name,
              ...(input.step.cache ? { cache: true } : {}),
              ...(lastModel ? { waitOnOpenCircuit: true } : {}),
            }),
          )
        : await model.generate(request);
    } catch (error) {
      // A model that was never called (circuit open) says nothing about the agent.
      const notCalled =
        error instanceof ApplicationFailure && error.type === ERROR_TYPES.providerUnavailable;
      if (!notCalled) await record(false);
      throw error;
    }
    await record(true, Math.round(performance.now() - started));
    finish?.('succeeded');
    return {
      stepId: input.step.id,
      output: response.text.slice(0, MAX_STEP_OUTPUT_CHARS),
      truncated: response.text.length > MAX_STEP_OUTPUT_CHARS,
      provider: response.provider,
      model: response.model,
      offline: response.offline,
      usage: {
        inputTokens: response.usage.inputTokens,
        outputTokens: response.usage.outputTokens,
        ...(response.costUsd ? { costUsd: response.costUsd } : {}),
      },
      ...(response.cached ? { cached: true } : {}),
      latencyMs: response.latencyMs,
      attempt,
      context: withModelLayerCount(assembled.report, response.promptTokens),
    };
  } catch (error) {
    finish?.(context.cancellationSignal.aborted ? 'cancelled' : 'failed');
    throw withAttempt(error, attempt);
  } finally {
    clearInterval(heartbeat);
    await slot?.release();
  }
}

/**
 * A slot of `agent`, waited for up to the attempt's wait deadline (the model layer's, see
 * activities/model-call-context.ts); past it a retryable `AgentBusy` failure ends the attempt.
 */
async function takeSlot(
  slots: Pick<AgentConcurrency, 'acquire'>,
  agent: { name: string; maxConcurrency: number },
  input: AgentStepInput,
): Promise<AgentSlot> {
  const context = Context.current();
  const target = activityCallTarget({ stepId: input.step.id, agent: agent.name });
  let waited = false;
  try {
    const slot = await slots.acquire({
      agent: agent.name,
      maxConcurrency: agent.maxConcurrency,
      signal: context.cancellationSignal,
      ...(target.waitDeadlineMs !== undefined ? { deadlineMs: target.waitDeadlineMs } : {}),
      onWait: ({ retryAfterMs }) => {
        waited = true;
        target.heartbeat?.({ waiting: 'concurrency', retryAfterMs });
      },
    });
    // The wait is over: the next heartbeat no longer says so (the API shows the step as running).
    if (waited) target.heartbeat?.({});
    return slot;
  } catch (error) {
    if (!(error instanceof AgentBusyError)) throw error;
    throw ApplicationFailure.create({
      type: 'AgentBusy',
      message: error.message,
      details: [
        { agent: agent.name, maxConcurrency: error.maxConcurrency, waitedMs: error.waitedMs },
      ],
    });
  }
}

/**
 * The agent's prompt for `input`, packed to fit `model`'s window (models/context): the model
 * card's window and output budget with the layer's registry, the default card's without one.
 */
export async function assemblePrompt(
  model: ModelProvider,
  input: AgentStepInput,
  system: string,
  layer?: Pick<ModelLayer, 'registry'>,
): Promise<AssembledContext> {
  const ref = modelRef(model);
  const card = layer ? layer.registry.card(ref) : defaultCard(ref);
  return assembleContext(contextSourcesOf(input, system), {
    contextWindow: card.contextWindow,
    reservedOutput: card.maxOutputTokens,
    counter: await counterFor(model.model),
  });
}

/** The parts of an agent's prompt, before packing. */
export function contextSourcesOf(input: AgentStepInput, system: string): ContextSources {
  // A cached step's prompt carries nothing session-specific, so equal requests share answers.
  const cache = input.step.cache === true;
  return {
    system,
    ...(cache
      ? {}
      : { header: `Session: ${input.sessionId} · turn ${input.turn} · step ${input.step.id}` }),
    request: input.request,
    instruction: input.step.instruction,
    dependencies: input.upstream,
    ...(input.attachments ? { attachments: input.attachments } : {}),
    memories: cache ? [] : (input.memories ?? []),
    history: cache ? [] : (input.history ?? []),
  };
}

/**
 * The report with the model layer's count of the prompt in place of the assembly's upper bound
 * (an assembly whose prompt fits by its bytes does not count it; the window check does).
 */
function withModelLayerCount(report: ContextReport, promptTokens?: number): ContextReport {
  if (report.tokensBound === undefined || promptTokens === undefined) return report;
  const { tokensBound: _bound, ...counted } = report;
  return { ...counted, tokens: promptTokens };
}

/** Re-throws `error` as an ApplicationFailure carrying the attempt, keeping its retryability. */
function withAttempt(error: unknown, attempt: number): unknown {
  if (Context.current().cancellationSignal.aborted) return error;
  const details: AgentStepFailureDetails[] = [{ attempt }];
  if (error instanceof ApplicationFailure) {
    // Keep what the failure says (e.g. the tokens a context overflow needs) next to the attempt.
    const own: unknown = error.details?.[0];
    if (own && typeof own === 'object') details[0] = { ...own, attempt };
    // Keep a delay the provider (or the shared rate limit) asked for.
    const delay = (error as { nextRetryDelay?: unknown }).nextRetryDelay;
    const nextRetryDelay = typeof delay === 'number' ? delay : undefined;
    return ApplicationFailure.create({
      message: error.message,
      type: error.type ?? undefined,
      nonRetryable: error.nonRetryable ?? undefined,
      ...(nextRetryDelay !== undefined ? { nextRetryDelay } : {}),
      details,
      cause: error.cause,
    });
  }
  const cause = error instanceof Error ? error : new Error(String(error));
  return ApplicationFailure.create({ message: cause.message, type: cause.name, details, cause });
}
