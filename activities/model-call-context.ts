/**
 * Model calls made inside an activity: the target that ties a call to its activity execution
 * (workflow id, run id, activity id from `Context.current().info`), so the model layer keeps
 * its answer durable and a retry reuses it, heart-beats while it waits for capacity, and stops
 * waiting before the activity's deadline. Every model call of every activity goes through
 * `callModel` with such a target: agent steps directly, the planner and media insights through
 * `providerInActivity`.
 */
import { Context, type Info } from '@temporalio/activity';
import type { ModelCallExecution } from '../models/durable/model-result-store';
import { callModel, type ModelCallTarget, type ModelLayer } from '../models/model-call';
import type { ModelProvider } from '../models/model-provider';

/** What the caller knows about the call; the rest comes from the activity's info. */
export interface ActivityCallFields {
  tenantId?: string;
  sessionId?: string;
  stepId: string;
  agent: string;
  cache?: boolean;
  waitOnOpenCircuit?: boolean;
}

/** One per activity attempt: the same Context object for the whole attempt. */
const executions = new WeakMap<Context, ModelCallExecution & { startedMs: number }>();

/** Heartbeat details of a call waiting for capacity (`waiting`, `retryAfterMs`) and until when. */
const capacityWaits = new WeakMap<Context, { details: Record<string, unknown>; untilMs: number }>();

/**
 * The details an activity's own periodic heartbeat sends: `base`, plus the capacity wait of its
 * model call while one lasts — so the last heartbeat the server holds (which the API reads from
 * the pending activity to show `waiting for capacity`) is not overwritten by a plain one.
 */
export function heartbeatDetails(
  context: Context,
  base: Record<string, unknown>,
): Record<string, unknown> {
  const wait = capacityWaits.get(context);
  if (!wait || Date.now() > wait.untilMs) return base;
  return { ...base, ...wait.details };
}

/**
 * The target of a model call made now, in the running activity. The wait deadline is the
 * attempt's start-to-close (and schedule-to-close) deadline less a margin for the call itself:
 * a fifth of the budget, at most 60 s.
 */
export function activityCallTarget(fields: ActivityCallFields): ModelCallTarget {
  const context = Context.current();
  const { info } = context;
  const workflow = info.workflowExecution;
  let execution = executions.get(context);
  if (!execution && workflow) {
    execution = {
      workflowId: workflow.workflowId,
      runId: workflow.runId,
      local: info.isLocal,
      occurrences: new Map(),
      startedMs: Date.now(),
    };
    executions.set(context, execution);
  }
  const waitDeadlineMs = waitDeadlineOf(info, execution?.startedMs ?? Date.now());
  return {
    ...(fields.tenantId ? { tenantId: fields.tenantId } : {}),
    sessionId: fields.sessionId ?? workflow?.workflowId ?? info.activityId,
    stepId: fields.stepId,
    agent: fields.agent,
    activityId: info.activityId,
    attempt: info.attempt,
    ...(fields.cache ? { cache: true } : {}),
    ...(fields.waitOnOpenCircuit ? { waitOnOpenCircuit: true } : {}),
    ...(execution ? { execution } : {}),
    ...(waitDeadlineMs !== undefined ? { waitDeadlineMs } : {}),
    heartbeat: (details) => {
      const retryAfterMs = typeof details.retryAfterMs === 'number' ? details.retryAfterMs : 0;
      if (details.waiting) {
        // Kept a little past the next sleep slice (≤ 1 s); a finished wait stops being repeated.
        capacityWaits.set(context, {
          details,
          untilMs: Date.now() + Math.min(retryAfterMs, 1_000) + 500,
        });
      } else {
        capacityWaits.delete(context);
      }
      context.heartbeat({ step: fields.stepId, ...details });
    },
  };
}

function waitDeadlineOf(info: Info, startedMs: number): number | undefined {
  const deadlines: number[] = [];
  if (info.startToCloseTimeoutMs > 0) {
    deadlines.push(startedMs + info.startToCloseTimeoutMs - margin(info.startToCloseTimeoutMs));
  }
  if (info.scheduleToCloseTimeoutMs > 0) {
    deadlines.push(
      info.scheduledTimestampMs +
        info.scheduleToCloseTimeoutMs -
        margin(info.scheduleToCloseTimeoutMs),
    );
  }
  return deadlines.length ? Math.min(...deadlines) : undefined;
}

const margin = (budgetMs: number): number => Math.min(60_000, Math.floor(budgetMs / 5));

/**
 * `provider` with every `generate` going through the model layer as a call of the running
 * activity (`fields()` is read at call time). Outside an activity it is the bare provider.
 * No token stream: these are not agent steps.
 */
export function providerInActivity(
  layer: ModelLayer,
  provider: ModelProvider,
  fields: () => ActivityCallFields,
): ModelProvider {
  const bare: ModelProvider = {
    name: provider.name,
    model: provider.model,
    generate: (request) => provider.generate(request),
  };
  return {
    name: provider.name,
    model: provider.model,
    generate: async (request) => {
      if (!inActivity()) return provider.generate(request);
      return callModel(layer, bare, request, activityCallTarget(fields()));
    },
  };
}

function inActivity(): boolean {
  try {
    Context.current();
    return true;
  } catch {
    return false;
  }
}
