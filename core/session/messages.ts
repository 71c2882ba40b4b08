/**
 * Signals and queries of the session workflow: defined once, used by the workflow, the
 * worker, the API and the CLI.
 */
import { defineQuery, defineSignal } from '@temporalio/workflow';
import type { SessionStatus, UserInput } from './session-types';

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

export const approveSignal = defineSignal<[ApproveSignalInput]>('approve');
export const pauseSignal = defineSignal<[PauseSignalInput]>('pause');
export const resumeSignal = defineSignal<[ResumeSignalInput]>('resume');
export const addInputSignal = defineSignal<[UserInput]>('addInput');
export const cancelSignal = defineSignal<[CancelSignalInput]>('cancel');

export const statusQuery = defineQuery<SessionStatus>('status');

/** Signal names as the HTTP API exposes them (`POST /v1/sessions/:id/signals/:name`). */
export const SESSION_SIGNALS = {
  approve: approveSignal,
  'add-input': addInputSignal,
  cancel: cancelSignal,
  pause: pauseSignal,
  resume: resumeSignal,
} as const;

export type SessionSignalName = keyof typeof SESSION_SIGNALS;
