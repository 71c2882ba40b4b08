/**
 * What the model layer needs from a durable store of model-call results (the implementation
 * is runtime/stores/model-result-store.ts). A result is written the moment the provider's
 * answer arrives, under the key of the activity execution that asked for it, so a retry of
 * that execution (the worker died before the activity completed) reuses it instead of paying
 * for the call again.
 */
import type { UsageEntry } from '../../runtime/stores/usage-ledger/types';
import type { ModelResponse } from '../model-provider';

export interface StoredModelCall {
  /** `workflowId#runId#activityId#requestFingerprint#occurrence` (see callKeyOf). */
  callKey: string;
  response: ModelResponse;
  /** The attempt whose provider call produced the answer. */
  attempt: number;
  /** The ledger entry of that call, re-recorded on reuse (the ledger drops the duplicate). */
  usageEntry?: UsageEntry;
  /** ISO time it was stored. */
  storedAt: string;
}

/** A provider call begun under a call key, noted before the provider hears of it. */
export interface StartedModelCall {
  attempt: number;
  /** The call's id in the usage ledger key. */
  callId: string;
  /** ISO time the call began. */
  startedAt: string;
}

export interface ModelResultStore {
  /** The stored result, or undefined. Throws when the store cannot be read. */
  get(callKey: string): Promise<StoredModelCall | undefined>;
  /** Stores the result; the first write of a key wins. Throws when the store cannot be written. */
  put(call: StoredModelCall): Promise<void>;
  /**
   * Notes that a provider call under `callKey` begins, before it is made: a retry that finds
   * no stored answer then knows which earlier calls may have been paid with their answer lost
   * (the worker died between the answer and its store write), and bills them. Optional.
   */
  markStarted?(callKey: string, call: StartedModelCall): Promise<void>;
  /** The calls begun under `callKey`, in the order they were noted. */
  startedCalls?(callKey: string): Promise<StartedModelCall[]>;
}

/** The activity execution a call belongs to; one per activity attempt. */
export interface ModelCallExecution {
  workflowId: string;
  runId: string;
  /** A local activity restarts at attempt 1 after a worker crash: look up even then. */
  local?: boolean;
  /** Calls per request fingerprint so far in this attempt (the scope's own counter). */
  occurrences: Map<string, number>;
}

/** The durable key of the `occurrence`-th call with `fingerprint` in this activity execution. */
export function callKeyOf(
  execution: Pick<ModelCallExecution, 'workflowId' | 'runId'>,
  activityId: string,
  fingerprint: string,
  occurrence: number,
): string {
  return `${execution.workflowId}#${execution.runId}#${activityId}#${fingerprint}#${occurrence}`;
}
