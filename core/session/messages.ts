/**
 * Signals and queries of the session workflow: defined once, used by the workflow, the
 * worker, the API and the CLI.
 */
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { Plan } from '../plan/plan-types';
import type { PlanAmendment, SessionStatus, UserInput } from './session-types';

export interface ApproveSignalInput {
  approved: boolean;
  by?: string;
  comment?: string;
}

export interface CancelSignalInput {
  reason?: string;
  by?: string;
}

/** Pause: running steps finish, no new step starts until `resume`. */
export interface PauseSignalInput {
  reason?: string;
  by?: string;
}

export interface ResumeSignalInput {
  by?: string;
}

/** Answer for one step the plan marks `requiresApproval`. */
export interface ApproveStepSignalInput {
  stepId: string;
  approved: boolean;
  by?: string;
  comment?: string;
}

/** Replace the session's budget limits (a missing limit stays as it was); resumes a budget pause. */
export interface RaiseBudgetSignalInput {
  maxCostUsd?: number;
  maxTokens?: number;
  by?: string;
}

/** Plan the current turn again from its current state; succeeded steps keep their results. */
export interface ReplanSignalInput {
  reason?: string;
  /** Extra guidance for the Supervisor, appended to the turn's request. */
  instruction?: string;
  by?: string;
}

/**
 * Replace the current turn's plan. Only steps that have not started may change or go; the
 * amended plan is validated like a new one. Rejected (with the reasons) otherwise.
 */
export interface AmendPlanInput {
  plan: Plan;
  reason?: string;
  by?: string;
}

export interface AmendPlanResult {
  amendment: PlanAmendment;
  /** Parallel levels of the amended plan. */
  levels: string[][];
  criticalPath: string[];
}

export interface StepOutput {
  turn: number;
  stepId: string;
  output: string;
  truncated: boolean;
}

export const approveSignal = defineSignal<[ApproveSignalInput]>('approve');
export const pauseSignal = defineSignal<[PauseSignalInput]>('pause');
export const resumeSignal = defineSignal<[ResumeSignalInput]>('resume');
export const addInputSignal = defineSignal<[UserInput]>('addInput');
export const cancelSignal = defineSignal<[CancelSignalInput]>('cancel');

export const approveStepSignal = defineSignal<[ApproveStepSignalInput]>('approveStep');
export const replanSignal = defineSignal<[ReplanSignalInput]>('replan');
export const raiseBudgetSignal = defineSignal<[RaiseBudgetSignalInput]>('raiseBudget');

export const amendPlanUpdate = defineUpdate<AmendPlanResult, [AmendPlanInput]>('amendPlan');

export const statusQuery = defineQuery<SessionStatus>('status');
/** The full output of a step of the current turn (the status query has a preview). */
export const stepOutputQuery = defineQuery<StepOutput | null, [string]>('stepOutput');

/** Signal names as the HTTP API exposes them (`POST /v1/sessions/:id/signals/:name`). */
export const SESSION_SIGNALS = {
  approve: approveSignal,
  'add-input': addInputSignal,
  cancel: cancelSignal,
  pause: pauseSignal,
  resume: resumeSignal,
  'approve-step': approveStepSignal,
  replan: replanSignal,
  'raise-budget': raiseBudgetSignal,
} as const;

export type SessionSignalName = keyof typeof SESSION_SIGNALS;
