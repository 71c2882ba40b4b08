/**
 * Serves a `replan` request once the running steps settled: plans the turn again from its
 * current state. Succeeded steps stay with their results, the Supervisor's new plan supplies the
 * rest. A new plan that does not fit with the kept steps is recorded, and the turn goes on with
 * the old one. Either way the scheduler may start steps again afterwards.
 */
import { TemporalFailure, isCancellation, proxyLocalActivities } from '@temporalio/workflow';
import type { SessionActivities } from '../../activities';
import type { Plan } from '../../core/plan/plan-types';
import { validatePlan } from '../../core/plan/validate-plan';
import type { AgentStepResult, UserInput } from '../../core/session';
import { planningLocal, quickLocal } from '../activity-profiles';
import { failureText } from './failure-text';
import type { Session } from './session';

const { analyzeRequest } = proxyLocalActivities<SessionActivities>(quickLocal);
const { planRequest } = proxyLocalActivities<SessionActivities>(planningLocal);

/** A re-planned turn whose new plan does not fit with the kept steps. */
class PlanMergeError extends Error {}

/** Resolves with the results the next plan run starts from (the kept steps' on success). */
export async function replanTurn(
  session: Session,
  request: UserInput,
  results: ReadonlyMap<string, AgentStepResult>,
): Promise<Map<string, AgentStepResult>> {
  const ask = session.takeReplanRequest();
  const current = session.turnPlan.plan;
  if (!current) throw new TypeError('replan without a plan');
  const kept = new Set([...results.keys()].filter((id) => session.steps.state(id) === 'succeeded'));
  const keptSteps = current.steps.filter((step) => kept.has(step.id));
  const base = {
    at: new Date().toISOString(),
    ...(ask.by ? { by: ask.by } : {}),
    ...(ask.reason ? { reason: ask.reason } : {}),
  };
  const keptResults = new Map([...results].filter(([id]) => kept.has(id)));
  try {
    const asked = ask.instruction
      ? { ...request, text: `${request.text}\n\n${ask.instruction}` }
      : request;
    const analysis =
      ask.instruction || !session.analysis
        ? await analyzeRequest({ text: asked.text })
        : session.analysis;
    const replanned = await planRequest({
      sessionId: session.input.sessionId,
      tenantId: session.input.tenantId,
      turn: session.turn,
      request: asked,
      analysis,
      replan: {
        ...(ask.reason ? { reason: ask.reason } : {}),
        ...(ask.instruction ? { instruction: ask.instruction } : {}),
        completed: keptSteps.map((step) => ({
          stepId: step.id,
          agent: step.agent,
          title: step.title,
        })),
      },
    });
    const steps = [...keptSteps, ...replanned.plan.steps.filter((step) => !kept.has(step.id))];
    const merged: Plan = { ...replanned.plan, steps };
    session.adoptReplanned(replanned);
    const validation = validatePlan(merged, session.turnPlan.knownAgents);
    if (!validation.ok) throw new PlanMergeError(validation.errors.join('; '));
    session.replacePlan(merged, kept, replanned.decisions, {
      ...base,
      kept: [...kept],
      planned: steps.filter((step) => !kept.has(step.id)).map((step) => step.id),
    });
    return keptResults;
  } catch (error) {
    if (isCancellation(error)) throw error;
    const message =
      error instanceof TemporalFailure || error instanceof PlanMergeError
        ? failureText(error, 'root')
        : String(error);
    session.replanFailed({ ...base, kept: [...kept], planned: [], error: message });
    return new Map(results);
  } finally {
    session.finishReplan();
  }
}
