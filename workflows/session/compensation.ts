/**
 * Saga compensation of a failed plan (`onFailure: 'compensate'`): undoes the succeeded steps
 * that have a compensation, newest first, one activity at a time. A compensation that fails
 * is recorded on its step and the next one still runs; a cancellation stops them.
 */
import { isCancellation } from '@temporalio/workflow';
import type { PlanStep } from '../../core/plan/plan-types';
import { MAX_UPSTREAM_CHARS, type AgentStepResult } from '../../core/session';
import { agentStepInput, type RunStep } from './agent-step-activity';
import { failureText } from './failure-text';
import type { Session } from './session';

export async function compensateSucceededSteps(
  session: Session,
  runStep: RunStep,
  completionOrder: readonly PlanStep[],
  results: ReadonlyMap<string, AgentStepResult>,
): Promise<void> {
  for (const step of [...completionOrder].reverse()) {
    if (!step.compensation) continue;
    const undo: PlanStep = {
      id: step.id,
      agent: step.compensation.agent,
      title: `undo ${step.title}`,
      instruction: step.compensation.instruction,
      dependsOn: [],
    };
    const output = results.get(step.id)?.output.slice(0, MAX_UPSTREAM_CHARS) ?? '';
    const upstream = [{ stepId: step.id, agent: step.agent, output }];
    const input = agentStepInput(session, undo, upstream, { compensation: true });
    try {
      // Undoing is urgent: it runs ahead of other work on the queue.
      await runStep(input, undo, { priorityKey: 1 });
      session.steps.compensated(step.id);
    } catch (error) {
      if (isCancellation(error)) throw error;
      session.steps.compensationFailed(step.id, failureText(error));
    }
  }
}
